/* Fil rouge : petit complément à htmx (aucun framework, aucun chargement externe).
 *
 * À charger APRÈS /static/vendor/htmx/htmx.min.js (tous deux avec `defer`, dans cet ordre) :
 *   <meta name="csrf-token" content="{{ csrf_token }}">
 *   <script src="/static/vendor/htmx/htmx.min.js" defer></script>
 *   <script src="/static/app.js" defer></script>
 *
 * 1. Chaque requête htmx porte l'en-tête X-CSRF-Token lu dans <meta name="csrf-token">.
 * 2. Les réponses 422 (formulaire invalide, renvoyé en HTML avec ses erreurs) sont insérées
 *    dans la page ; les autres 4xx/5xx ne le sont pas et déclenchent htmx:responseError.
 * 3. Après un échange de contenu, le premier élément [autofocus] du fragment reçoit le focus
 *    (utile au clavier et aux lecteurs d'écran : ex. premier champ en erreur).
 * 4. Sinon, si l'échange a remplacé le lien ou le bouton utilisé (un onglet, une page de
 *    l'historique), le focus revient sur son remplaçant, qui porte le même id : la personne
 *    au clavier garde sa place au lieu de repartir du haut de la page.
 */
(function () {
  "use strict";

  function csrfToken() {
    var meta = document.querySelector('meta[name="csrf-token"]');
    return meta ? meta.getAttribute("content") || "" : "";
  }

  if (window.htmx) {
    window.htmx.config.responseHandling = [
      { code: "204", swap: false },
      { code: "[23]..", swap: true },
      { code: "422", swap: true, error: false },
      { code: "[45]..", swap: false, error: true }
    ];
  }

  document.addEventListener("htmx:configRequest", function (evt) {
    var token = csrfToken();
    if (token) {
      evt.detail.headers["X-CSRF-Token"] = token;
    }
  });

  /* htmx:afterSwap est émis sur chaque élément inséré (le nouvel élément pour outerHTML). */
  document.addEventListener("htmx:afterSwap", function (evt) {
    var root = evt.target;
    if (!root || !root.isConnected || typeof root.querySelector !== "function") {
      return;
    }
    var el = root.matches("[autofocus]") ? root : root.querySelector("[autofocus]");
    if (!el) {
      var detail = evt.detail || {};
      var used = (detail.requestConfig && detail.requestConfig.elt) || detail.elt;
      if (used && used.id && !used.isConnected) {
        el = document.getElementById(used.id);
      }
    }
    if (el && typeof el.focus === "function" && document.activeElement !== el) {
      el.focus();
    }
  });
})();
