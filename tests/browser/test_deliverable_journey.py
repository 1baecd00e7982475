"""From the counselling work to the document the beneficiary reads: record two interviews,
draft a document de synthèse from them, issue it, e-mail it; the beneficiary opens the link
from the e-mail a real SMTP server captured and acknowledges it; the case shows it.
Every page passes the axe-core WCAG 2.1 A/AA check."""

import re

import pytest
from playwright.sync_api import Page, expect
from sqlmodel import Session, select

from app.core.config import get_settings
from app.models.staff import StaffUser
from app.services.messaging.mail import transport_from_settings
from app.services.messaging.outbox import deliver_due
from tests.browser.conftest import SCREENSHOTS, check_accessibility, sign_in
from tests.factories import make_beneficiary, make_case
from tests.smtp import body

pytestmark = pytest.mark.browser

PERSON = {"first_name": "Maëlys", "last_name": "Ougier-Chaptal", "email": "maelys@exemple.fr"}


def _case_for(engine, email: str) -> int:
    with Session(engine, expire_on_commit=False) as session:
        counsellor = session.exec(select(StaffUser).where(StaffUser.email == email)).one()
        person = make_beneficiary(session, counsellor, **PERSON)
        case = make_case(
            session,
            counsellor,
            beneficiary=person,
            request_text="Quitter la logistique pour le soin",
        )
        session.commit()
        return case.id


def _record_interview(page: Page, summary: str, count: int) -> None:
    details = page.locator("details").filter(
        has=page.locator("summary", has_text="Enregistrer un entretien")
    )
    details.locator("summary").click()
    details.get_by_label("Synthèse partagée avec le bénéficiaire").fill(summary)
    details.get_by_label("Notes privées").fill("Ne doit jamais sortir du dossier")
    details.get_by_role("button", name="Enregistrer l'entretien").click()
    timeline = page.get_by_role("region", name="Historique")
    expect(timeline.locator(".timeline-item.is-interaction")).to_have_count(count)


def test_document_goes_from_the_case_to_the_beneficiary_and_back(
    page: Page, browser, live_server, engine, smtp_server, screenshot, monkeypatch
):
    monkeypatch.setattr(get_settings(), "public_base_url", live_server.url)
    case_id = _case_for(engine, live_server.counsellor_email)
    sign_in(page, live_server, live_server.counsellor_email)

    # Two interviews, recorded on the case.
    page.goto(f"{live_server.url}/cases/{case_id}")
    _record_interview(page, "Nous avons fait le point sur dix ans de logistique.", 1)
    _record_interview(page, "La piste aide-soignante se confirme après l'immersion.", 2)
    check_accessibility(page)

    # Draft a document de synthèse (tab « Documents »): it comes pre-filled with both summaries.
    page.get_by_role("navigation", name="Sections du dossier").get_by_role(
        "link", name="Documents", exact=True
    ).click()
    deliverables = page.get_by_role("region", name="Livrables")
    deliverables.get_by_label("Rédiger un livrable").select_option(label="Document de synthèse")
    deliverables.get_by_role("button", name="Rédiger à partir du dossier").click()
    expect(page.get_by_role("heading", level=1, name="Document de synthèse")).to_be_visible()
    summaries = page.get_by_label("Ce que nous avons travaillé ensemble")
    expect(summaries).to_have_value(re.compile("dix ans de logistique(.|\n)*aide-soignante"))
    assert "jamais sortir" not in page.content()
    check_accessibility(page)

    # Write the project; the draft saves itself as we type.
    page.get_by_label("Projet retenu").fill("Devenir aide-soignante par la voie de la VAE.")
    expect(page.get_by_role("status").filter(has_text="Brouillon enregistré")).to_be_visible()
    screenshot("deliverable-01-draft")

    # Issue version 1, then send it.
    page.get_by_role("button", name="Émettre la version 1").click()
    versions = page.get_by_role("region", name="Versions émises")
    expect(versions.get_by_text("Version 1", exact=True)).to_be_visible()
    check_accessibility(page)
    versions.get_by_role("button", name=re.compile("^Envoyer à maelys@exemple.fr")).click()
    expect(versions.get_by_text("En attente d'accusé de lecture")).to_be_visible()
    screenshot("deliverable-02-issued")

    # The worker delivers the e-mail to the SMTP server.
    report = deliver_due(engine=engine, transport=transport_from_settings())
    assert report.sent >= 1
    email = next(m for m in reversed(smtp_server.messages) if m["To"] == "maelys@exemple.fr")
    assert email["To"] == "maelys@exemple.fr"
    link = re.search(r"https?://\S+/documents/\S+", body(email)).group(0)

    # The beneficiary, on a phone, with no account.
    phone = browser.new_context(viewport={"width": 390, "height": 844}, locale="fr-FR")
    beneficiary = phone.new_page()
    beneficiary.goto(link)
    expect(beneficiary.get_by_role("heading", level=1, name="Document de synthèse")).to_be_visible()
    expect(beneficiary.get_by_text("Devenir aide-soignante par la voie de la VAE.")).to_be_visible()
    check_accessibility(beneficiary)
    beneficiary.get_by_role("button", name="J'ai pris connaissance de ce document").click()
    expect(beneficiary.get_by_text("Vous avez indiqué avoir pris connaissance")).to_be_visible()
    check_accessibility(beneficiary)
    beneficiary.screenshot(
        path=str(SCREENSHOTS / "journey-deliverable-03-phone.png"), full_page=True
    )
    phone.close()

    # Back on the case: the history shows the issue and the acknowledgement.
    page.goto(f"{live_server.url}/cases/{case_id}")
    timeline = page.get_by_role("region", name="Historique")
    expect(timeline.get_by_text("Accusé de lecture")).to_be_visible()
    expect(timeline.get_by_text("Livrable émis")).to_be_visible()
    check_accessibility(page)
    screenshot("deliverable-04-case")
