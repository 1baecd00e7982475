"""« Équipe » in the browser: the operator's admin invites a counsellor; the counsellor opens
the link from the e-mail a real SMTP server captured, has a common password refused, chooses
a good one and signs in; the admin deactivates her account and her open session is gone at
once. Every page passes the axe-core WCAG 2.1 A/AA check."""

import re

import pytest
from playwright.sync_api import Page, expect

from app.core.config import get_settings
from app.services.messaging.mail import transport_from_settings
from app.services.messaging.outbox import deliver_due
from tests.browser.conftest import check_accessibility, sign_in
from tests.smtp import body

pytestmark = pytest.mark.browser

NEWCOMER = {"name": "Léa Fontaine", "email": "lea.fontaine@ara-cep.fr"}
GOOD_PASSWORD = "girafe cerf-volant 1987 pistache"


def _invitation_link(engine, smtp_server) -> str:
    deliver_due(engine=engine, transport=transport_from_settings())
    [email] = [m for m in smtp_server.messages if m["To"] == NEWCOMER["email"]]
    assert "Invitation à rejoindre Auvergne-Rhône-Alpes" in email["Subject"]
    return re.search(r"https?://\S+/compte/mot-de-passe/\S+", body(email)).group(0)


def _choose(page: Page, password: str) -> None:
    page.get_by_label("Nouveau mot de passe", exact=False).fill(password)
    page.get_by_label("Confirmez le mot de passe").fill(password)
    page.get_by_role("button", name="Enregistrer le mot de passe").click()


def test_admin_invites_a_counsellor_who_signs_in_until_deactivated(
    page: Page, browser, live_server, engine, smtp_server, monkeypatch
):
    monkeypatch.setattr(get_settings(), "public_base_url", live_server.url)

    # The admin invites Léa from « Équipe ».
    sign_in(page, live_server, live_server.admin_email)
    page.get_by_role("navigation", name="Navigation principale").get_by_role(
        "link", name="Administration"
    ).click()
    page.get_by_role("link", name="Équipe").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Équipe")
    check_accessibility(page)
    page.get_by_text("Inviter un·e collègue par e-mail").click()
    page.get_by_label("Nom complet").fill(NEWCOMER["name"])
    page.get_by_label("Adresse e-mail").fill(NEWCOMER["email"])
    page.get_by_label("Rôle").select_option(label="Conseiller·ère")
    page.get_by_label(live_server.site_name).check()
    check_accessibility(page)
    page.get_by_role("button", name="Envoyer l'invitation").click()
    expect(page.get_by_role("status")).to_contain_text("Invitation envoyée.")
    expect(page.get_by_role("heading", level=1)).to_contain_text("Invitation en attente")
    check_accessibility(page)
    person_page = page.url

    # Léa opens the e-mailed link: a common password is refused, a good one is taken.
    newcomer = browser.new_context(locale="fr-FR", timezone_id="Europe/Paris").new_page()
    link = _invitation_link(engine, smtp_server)
    newcomer.goto(link)
    expect(newcomer.get_by_role("heading", level=1)).to_have_text(f"Bienvenue, {NEWCOMER['name']}")
    check_accessibility(newcomer)
    _choose(newcomer, "motdepasse123")
    expect(newcomer.locator("#password-error")).to_contain_text("les plus répandus")
    check_accessibility(newcomer)
    _choose(newcomer, GOOD_PASSWORD)
    expect(newcomer.get_by_role("status")).to_contain_text("Votre mot de passe est enregistré")
    check_accessibility(newcomer)
    newcomer.get_by_label("Adresse e-mail").fill(NEWCOMER["email"])
    newcomer.get_by_label("Mot de passe").fill(GOOD_PASSWORD)
    newcomer.get_by_role("button", name="Se connecter").click()
    expect(newcomer).to_have_url(f"{live_server.url}/")
    expect(newcomer.locator(".user-menu")).to_contain_text(NEWCOMER["name"])

    # The link served once.
    newcomer.goto(link)
    expect(newcomer.get_by_role("heading", level=1)).to_have_text("Lien expiré ou déjà utilisé")
    check_accessibility(newcomer)

    # The admin sees it in the account's history, then deactivates it: Léa is signed out.
    page.goto(person_page)
    history = page.get_by_role("region", name="Historique du compte")
    expect(history).to_contain_text("Mot de passe choisi (invitation acceptée)")
    expect(history).to_contain_text("Invitation envoyée")
    page.get_by_role("button", name=f"Désactiver le compte de {NEWCOMER['name']}").click()
    expect(page.get_by_role("status")).to_contain_text("Compte désactivé")
    expect(history).to_contain_text("Compte désactivé")
    check_accessibility(page)
    newcomer.goto(f"{live_server.url}/")
    expect(newcomer).to_have_url(re.compile(r"/login\?next=/$"))
    newcomer.context.close()
