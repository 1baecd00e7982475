/* Fil rouge : démarre Swagger UI sur /docs (api_docs/swagger_ui.html).
 *
 * Un fichier plutôt que le script en ligne habituel : la Content-Security-Policy n'exécute
 * que les scripts servis par l'application. L'adresse du document OpenAPI vient de
 * l'attribut data-spec-url ; aucun validateur externe n'est appelé.
 */
(function () {
  "use strict";

  var root = document.getElementById("swagger-ui");
  if (!root || !window.SwaggerUIBundle) {
    return;
  }
  window.ui = window.SwaggerUIBundle({
    url: root.getAttribute("data-spec-url"),
    domNode: root,
    layout: "BaseLayout",
    deepLinking: true,
    showExtensions: true,
    showCommonExtensions: true,
    validatorUrl: null,
    presets: [
      window.SwaggerUIBundle.presets.apis,
      window.SwaggerUIBundle.SwaggerUIStandalonePreset
    ]
  });
})();
