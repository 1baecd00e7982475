"""A referral followed to its outcome: the counsellor refers the person to a partner; the
partner opens the link from the e-mail a real SMTP server captured, accepts, and later reports
the outcome from the second e-mail; the counsellor sees both on the case. Every page passes
the axe-core WCAG 2.1 A/AA check."""

import re

import pytest
from playwright.sync_api import Page, expect
from sqlmodel import Session, select

from app.core.config import get_settings
from app.models.operators import Operator
from app.models.staff import StaffUser
from app.services.messaging.mail import transport_from_settings
from app.services.messaging.outbox import deliver_due
from tests.browser.conftest import SCREENSHOTS, check_accessibility
from tests.factories import make_beneficiary, make_case, make_partner
from tests.smtp import body

pytestmark = pytest.mark.browser

PARTNER = {"name": "CIBC Rhône — bilans de compétences", "email": "accueil@cibc-rhone.exemple.fr"}


def _case_and_partner(engine, email: str) -> int:
    with Session(engine, expire_on_commit=False) as session:
        counsellor = session.exec(select(StaffUser).where(StaffUser.email == email)).one()
        operator = session.get(Operator, counsellor.operator_id)
        make_partner(session, operator, **PARTNER)
        person = make_beneficiary(
            session,
            counsellor,
            first_name="Noémie",
            last_name="Brès-Vautier",
            email=None,
            phone="0611223344",
        )
        case = make_case(session, counsellor, beneficiary=person)
        session.commit()
        return case.id


def _deliver_and_read_link(engine, smtp_server) -> str:
    report = deliver_due(engine=engine, transport=transport_from_settings())
    assert report.sent >= 1
    email = smtp_server.messages[-1]
    assert email["To"] == PARTNER["email"]
    text = body(email)
    return re.search(r"https?://\S+/partenaire/orientations/\S+", text).group(0)


def test_partner_answers_from_the_email_and_the_case_shows_it(
    page: Page, browser, live_server, engine, smtp_server, screenshot, monkeypatch
):
    monkeypatch.setattr(get_settings(), "public_base_url", live_server.url)
    case_id = _case_and_partner(engine, live_server.counsellor_email)

    # The counsellor refers the person, with her consent, and sends it at once.
    page.goto(f"{live_server.url}/login")
    page.get_by_label("Adresse e-mail").fill(live_server.counsellor_email)
    page.get_by_label("Mot de passe").fill(live_server.password)
    page.get_by_label("Mot de passe").press("Enter")
    page.goto(f"{live_server.url}/cases/{case_id}?section=orientations")
    section = page.get_by_role("region", name="Orientations vers des partenaires")
    section.locator("summary", has_text="Orienter vers un partenaire").click()
    section.get_by_role("combobox", name="Partenaire").select_option(label=PARTNER["name"])
    section.get_by_label("Objet de l'orientation").fill(
        "Bilan de compétences avant une reconversion"
    )
    section.get_by_label("La personne donne maintenant son accord").check()
    section.get_by_label("Envoyer tout de suite au partenaire").check()
    section.get_by_role("button", name="Enregistrer l'orientation").click()
    section = page.get_by_role("region", name="Orientations vers des partenaires")
    expect(section.get_by_text("Envoyée au partenaire").first).to_be_visible()
    check_accessibility(page)
    screenshot("referral-01-sent")

    # The partner, without an account, accepts from the e-mail's link.
    partner = browser.new_context(viewport={"width": 390, "height": 844}, locale="fr-FR")
    partner_page = partner.new_page()
    partner_page.goto(_deliver_and_read_link(engine, smtp_server))
    assert "brès-vautier" in body(smtp_server.messages[-1]).lower()  # what she agreed to share
    expect(partner_page.get_by_text("Bilan de compétences avant une reconversion")).to_be_visible()
    check_accessibility(partner_page)
    partner_page.get_by_role("button", name="Accepter l'orientation").click()
    expect(
        partner_page.get_by_role("status").filter(has_text="votre acceptation est enregistrée")
    ).to_be_visible()
    check_accessibility(partner_page)

    # Later, the second e-mail's link reports the outcome.
    partner_page.goto(_deliver_and_read_link(engine, smtp_server))
    partner_page.get_by_label("Objectif atteint").check()
    partner_page.get_by_label("Précision (facultative)").fill(
        "Bilan terminé, projet d'aide-soignante confirmé."
    )
    partner_page.get_by_role("button", name="Enregistrer l'issue").click()
    expect(partner_page.get_by_text("l'issue de l'orientation est enregistrée")).to_be_visible()
    check_accessibility(partner_page)
    partner_page.screenshot(
        path=str(SCREENSHOTS / "journey-referral-02-partner.png"), full_page=True
    )
    partner.close()

    # Back on the case: the acceptance and the outcome, in the section and the history.
    page.goto(f"{live_server.url}/cases/{case_id}?section=orientations")
    section = page.get_by_role("region", name="Orientations vers des partenaires")
    expect(section.get_by_text("Objectif atteint")).to_be_visible()
    page.get_by_role("navigation", name="Sections du dossier").get_by_role(
        "link", name="Historique", exact=True
    ).click()
    timeline = page.get_by_role("region", name="Historique")
    expect(timeline.get_by_text("Orientation acceptée")).to_be_visible()
    expect(timeline.get_by_text("Orientation terminée")).to_be_visible()
    check_accessibility(page)
    screenshot("referral-03-case")
