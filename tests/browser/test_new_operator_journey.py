"""Issue 16's « done when »: a new operator starts in the browser, with no terminal.

The system administrator opens the operator, invites its administrator and gives it a lot in
the current market. The administrator accepts the invitation, enrols a second factor (their
role requires it by default), creates a site and a permanence, invites a counsellor (who
accepts, enrols and signs in with a code), sets the lot's price and UO4 budget under the
« remis » proof rule, records a UO4 training, and reads the ledger in euros. Every page passes
the axe-core WCAG 2.1 A/AA check."""

import re
import time
from datetime import UTC, date, datetime, timedelta

import pyotp
import pytest
from playwright.sync_api import Page, expect
from sqlmodel import Session, select

from app.core.config import get_settings
from app.core.dates import local_today
from app.models.cases import Episode
from app.models.nomenclatures import Role
from app.models.operators import Operator
from app.models.staff import StaffUser
from app.services.admin.markets import episode_lot_id
from app.services.messaging.mail import transport_from_settings
from app.services.messaging.outbox import deliver_due
from tests.browser.conftest import check_accessibility, sign_in
from tests.factories import make_case, make_deliverable, make_staff, required_kinds, unit_id
from tests.smtp import body

pytestmark = pytest.mark.browser

SYSADMIN = "sysadmin@journey.test"
OPERATOR = "CEP Centre-Val de Loire"
ADMIN = {"name": "Inès Garnier", "email": "ines.garnier@cvl-cep.fr"}
COUNSELLOR = {"name": "Hugo Perrin", "email": "hugo.perrin@cvl-cep.fr"}
PASSWORDS = {
    ADMIN["email"]: "héron bleu 1974 clémentine",
    COUNSELLOR["email"]: "castor lunaire 2003 mirabelle",
}
SITE = "Orléans Carmes"


@pytest.fixture
def sysadmin(engine, live_server):
    with Session(engine) as session:
        if not session.exec(select(StaffUser).where(StaffUser.email == SYSADMIN)).first():
            make_staff(session, None, Role.SYSADMIN, email=SYSADMIN, full_name="Paul Système")
            session.commit()


def _admin_link(page: Page, name: str) -> None:
    page.get_by_role("navigation", name="Navigation principale").get_by_role(
        "link", name="Administration"
    ).click()
    # Waits for the page it opens: axe run while the navigation is under way finds no document.
    with page.expect_navigation():
        page.get_by_role("link", name=name, exact=True).click()
    check_accessibility(page)


def _invite(page: Page, person: dict, role: str, site: str | None = None) -> None:
    page.get_by_text("Inviter un·e collègue par e-mail").click()
    form = page.locator("#inviter")  # the system administrator's page also invites controllers
    form.get_by_label("Nom complet").fill(person["name"])
    form.get_by_label("Adresse e-mail").fill(person["email"])
    form.get_by_label("Rôle").select_option(label=role)
    if site:
        form.get_by_label(site).check()
    form.get_by_role("button", name="Envoyer l'invitation").click()
    expect(page.get_by_role("status")).to_contain_text("Invitation envoyée.")
    check_accessibility(page)


def _accept_invitation(page: Page, engine, smtp_server, person: dict) -> None:
    """Opens the e-mailed link, chooses a password and gives it at the login page."""
    deliver_due(engine=engine, transport=transport_from_settings())
    [email] = [m for m in smtp_server.messages if m["To"] == person["email"]]
    page.goto(re.search(r"https?://\S+/compte/mot-de-passe/\S+", body(email)).group(0))
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Bienvenue, {person['name']}")
    check_accessibility(page)
    password = PASSWORDS[person["email"]]
    page.get_by_label("Nouveau mot de passe", exact=False).fill(password)
    page.get_by_label("Confirmez le mot de passe").fill(password)
    page.get_by_role("button", name="Enregistrer le mot de passe").click()
    expect(page.get_by_role("status")).to_contain_text("Votre mot de passe est enregistré")
    _password(page, person)


def _password(page: Page, person: dict) -> None:
    page.get_by_label("Adresse e-mail").fill(person["email"])
    page.get_by_label("Mot de passe").fill(PASSWORDS[person["email"]])
    page.get_by_role("button", name="Se connecter").click()


def _enrol(page: Page) -> pyotp.TOTP:
    """On the enrolment page: the « app » reads the key shown for typing, gives a first code."""
    expect(page.get_by_role("img", name="QR code à scanner")).to_be_visible()
    check_accessibility(page)
    totp = pyotp.TOTP(page.locator("#manual-key").inner_text().replace(" ", ""))
    page.get_by_label("Code de l'application").fill(totp.now())
    page.get_by_role("button", name="Activer la double authentification").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Vos codes de secours")
    expect(page.locator("ol.code-list li")).to_have_count(10)
    check_accessibility(page)
    page.get_by_role("link", name="J'ai noté mes codes, continuer").click()
    return totp


def _sign_out(page: Page) -> None:
    page.get_by_role("button", name="Se déconnecter").click()
    expect(page).to_have_url(re.compile(r"/login"))


def _proven_unit_last_month(engine, counsellor_email: str, today: date) -> None:
    """A UO1 delivered last month by the new counsellor, its required documents issued and
    e-mailed: « remis », so billable under the lot's price (seeded: the counsellor's own
    journey is issue 15's)."""
    ended_at = datetime(today.year, today.month, 1, 10, tzinfo=UTC) - timedelta(days=12)
    with Session(engine) as session:
        counsellor = session.exec(
            select(StaffUser).where(StaffUser.email == counsellor_email)
        ).one()
        case = make_case(session, counsellor)
        started_at = ended_at - timedelta(days=2)
        episode = Episode(
            operator_id=case.operator_id,
            case_id=case.id,
            unit_id=unit_id(session, "UO1"),
            started_at=started_at,
            ended_at=ended_at,
            lot_id=episode_lot_id(session, case.operator_id, started_at),
        )
        session.add(episode)
        session.flush()
        assert episode.lot_id is not None
        operator = session.get(Operator, counsellor.operator_id)
        for kind in required_kinds(session, operator, "UO1"):
            make_deliverable(session, case, kind, episode=episode, shared=True)
        session.commit()


def test_a_new_operator_runs_its_service_from_the_browser(
    page: Page, browser, live_server, engine, smtp_server, sysadmin, screenshot, monkeypatch
):
    monkeypatch.setattr(get_settings(), "public_base_url", live_server.url)
    today = local_today("Europe/Paris")
    price_from = (date(today.year, today.month, 1) - timedelta(days=40)).replace(day=1)

    # ---- The system administrator opens the operator and invites its administrator ----------
    sign_in(page, live_server, SYSADMIN)
    _admin_link(page, "Opérateurs")
    page.get_by_label("Région").select_option(label="Centre-Val de Loire")
    page.get_by_label("Code").fill("CVL")
    page.get_by_role("textbox", name="Nom", exact=True).fill(OPERATOR)
    page.get_by_role("button", name="Ouvrir l'opérateur").click()
    expect(page.get_by_role("status")).to_contain_text(f"Opérateur « {OPERATOR} » ouvert")
    check_accessibility(page)
    page.get_by_role("link", name="Inviter depuis « Équipe »").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Équipe — {OPERATOR}")
    _invite(page, ADMIN, "Administrateur·rice de l'opérateur")

    # … and gives it a lot in the current market, whose units are proven once « remis ».
    _admin_link(page, "Marchés")
    page.get_by_role("link", name="Marché 2024-2027").click()
    page.get_by_role("combobox", name="Opérateur", exact=True).select_option(label=OPERATOR)
    page.get_by_role("button", name="Créer le lot").click()
    expect(page.get_by_role("status")).to_be_visible()
    uo1_terms = page.get_by_role("form", name="Conditions de UO1")
    uo1_terms.get_by_label("Règle de preuve de UO1").select_option(value="remis")
    uo1_terms.get_by_role("button", name="Enregistrer").click()
    expect(page.get_by_role("status")).to_be_visible()
    check_accessibility(page)
    _sign_out(page)

    # ---- The administrator accepts, enrols the second factor their role requires -----------
    _accept_invitation(page, engine, smtp_server, ADMIN)
    expect(page).to_have_url(re.compile(r"/login/activation"))
    _enrol(page)
    expect(page.locator(".user-menu")).to_contain_text(ADMIN["name"])
    screenshot("new-operator-01-admin-home")

    # ---- A site and a permanence ----------------------------------------------------------
    _admin_link(page, "Sites")
    page.get_by_text("Nouveau lieu d'accueil").click()
    page.get_by_label("Nom du site").fill(SITE)
    page.get_by_label("Adresse").fill("12 rue des Carmes")
    page.get_by_label("Code postal").fill("45000")
    page.get_by_label("Ville").fill("Orléans")
    page.get_by_role("button", name="Créer le site").click()
    expect(page.get_by_role("status")).to_contain_text("Site créé.")
    expect(page.get_by_text("Europe/Paris", exact=True)).to_be_visible()
    check_accessibility(page)
    page.get_by_role("link", name="Ajouter une permanence").click()
    page.get_by_label("Lieu ou partenaire qui accueille").fill("Mairie de Montargis")
    page.get_by_label("Code postal").fill("45200")
    page.get_by_label("Ville").fill("Montargis")
    page.get_by_label("Mardi").check()
    page.get_by_label("De (heure locale du site)").fill("09:00")
    page.locator("#end_time").fill("12:00")
    page.get_by_label("Première date").fill(today.isoformat())
    page.get_by_role("button", name="Ajouter la permanence").click()
    expect(page.get_by_role("status")).to_be_visible()
    expect(page.get_by_text("Mairie de Montargis").first).to_be_visible()
    check_accessibility(page)

    # ---- A counsellor, invited to the site, accepts, enrols and signs in with a code ---------
    _admin_link(page, "Équipe")
    _invite(page, COUNSELLOR, "Conseiller·ère", site=SITE)
    colleague = browser.new_context(locale="fr-FR", timezone_id="Europe/Paris").new_page()
    _accept_invitation(colleague, engine, smtp_server, COUNSELLOR)
    expect(colleague).to_have_url(f"{live_server.url}/")
    colleague.goto(f"{live_server.url}/compte")
    colleague.get_by_role("link", name="Activer la double authentification").click()
    totp = _enrol(colleague)
    _sign_out(colleague)
    _password(colleague, COUNSELLOR)
    expect(colleague).to_have_url(re.compile(r"/login/verification"))
    check_accessibility(colleague)
    colleague.get_by_label("Code de l'application").fill(totp.at(time.time(), counter_offset=1))
    colleague.get_by_role("button", name="Valider").click()
    expect(colleague).to_have_url(f"{live_server.url}/")
    expect(colleague.locator(".user-menu")).to_contain_text(COUNSELLOR["name"])
    colleague.context.close()

    # ---- The lot's price and UO4 budget, under the « remis » rule --------------------------
    _admin_link(page, "Marchés")
    page.get_by_role("link", name="Marché 2024-2027").click()
    expect(
        page.get_by_role("row", name=re.compile(r"^UO1 ")).get_by_role("cell").nth(2)
    ).to_have_text(re.compile(r"^Remis"))
    page.locator("#unit_id").select_option(label="UO1")
    page.get_by_label("Prix unitaire en euros").fill("150,00")
    page.get_by_label("À partir du").fill(price_from.isoformat())
    page.get_by_role("button", name="Enregistrer le prix").click()
    expect(page.get_by_role("status")).to_be_visible()
    page.get_by_label("Budget UO4 annuel en euros").fill("24 000")
    page.get_by_role("button", name="Enregistrer le budget").click()
    expect(page.get_by_text("Budget actuel : 24\u202f000,00\u00a0€")).to_be_visible()
    check_accessibility(page)
    screenshot("new-operator-02-market-prices")

    # ---- A UO4 training of the counsellor, against the lot's budget ------------------------
    _admin_link(page, "UO4 — qualité du service, moyens et pilotage")
    page.get_by_role("link", name="Enregistrer une action").click()
    page.get_by_label("Type d'action").select_option(label="Formation des conseiller·ères")
    page.get_by_label("Intitulé").fill("Accueil des personnes en situation de handicap")
    page.get_by_label("Date (ou date de début)").fill(today.isoformat())
    page.get_by_label("Montant (€)").fill("1 200")
    page.get_by_label("Durée (heures)").fill("7")
    page.get_by_role("checkbox", name=COUNSELLOR["name"]).check()
    page.get_by_role("button", name="Enregistrer l'action").click()
    expect(page.get_by_role("status")).to_contain_text("Action enregistrée.")
    check_accessibility(page)
    page.get_by_role("link", name="← UO4").click()
    expect(page.locator(".uo4-budget")).to_contain_text("24\u202f000,00\u00a0€")
    expect(page.locator(".uo4-budget")).to_contain_text("1\u202f200,00\u00a0€")
    check_accessibility(page)

    # ---- The ledger in euros: last month's UO1, proven « remis », at the lot's price --------
    _proven_unit_last_month(engine, COUNSELLOR["email"], today)
    page.get_by_role("navigation", name="Navigation principale").get_by_role(
        "link", name="État de service fait"
    ).click()
    results = page.locator("#ledger-results")
    expect(results).to_contain_text("Marché 2024-2027")
    expect(results).to_contain_text("150,00\u00a0€")
    check_accessibility(page)
    screenshot("new-operator-03-ledger-in-euros")
