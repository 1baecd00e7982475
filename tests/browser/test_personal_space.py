"""A person opens their personal space on a 390 px phone (the pages use no script): asks for a link
with their e-mail, opens it from the message, reads and acknowledges a document, changes their
phone number, then closes the access. Every page passes axe-core's WCAG 2.1 A/AA check."""

import re
from datetime import timedelta

import pytest
from playwright.sync_api import Page, expect
from sqlmodel import Session, select

from app.core.config import get_settings
from app.models.base import utcnow
from app.models.beneficiaries import Beneficiary
from app.models.operators import Site
from app.models.outbox import OutboxMessage
from app.models.staff import StaffUser
from app.services.deliverables.documents import issue_deliverable
from app.services.deliverables.sharing import share_version
from tests.browser.conftest import SCREENSHOTS, check_accessibility
from tests.factories import draft, make_appointment, make_beneficiary, make_case

pytestmark = pytest.mark.browser

PHONE = {"width": 390, "height": 844}
EMAIL = "sidonie.espace@exemple.fr"


def _person_with_a_document(engine, counsellor_email: str) -> str:
    """Sidonie, an appointment in a week and a document shared with her; the document's title."""
    with Session(engine, expire_on_commit=False) as session:
        counsellor = session.exec(
            select(StaffUser).where(StaffUser.email == counsellor_email)
        ).one()
        person = make_beneficiary(session, counsellor, first_name="Sidonie", email=EMAIL)
        make_appointment(
            session,
            starts_at=(utcnow() + timedelta(days=7)).replace(hour=9, minute=0, microsecond=0),
            counsellor=counsellor,
            beneficiary=person,
            # The seeded site: another of the same name would confuse the other journeys.
            site=session.exec(
                select(Site).where(Site.operator_id == counsellor.operator_id)
            ).first(),
        )
        deliverable = draft(session, counsellor, make_case(session, counsellor, person))
        issue_deliverable(session=session, actor=counsellor, deliverable_id=deliverable.id)
        share_version(session=session, actor=counsellor, deliverable_id=deliverable.id, number=1)
        session.commit()
        return deliverable.title


def _link_sent(engine) -> str:
    with Session(engine) as session:
        mails = session.exec(
            select(OutboxMessage.body_text)
            .where(OutboxMessage.recipient == EMAIL)
            .order_by(OutboxMessage.id.desc())
        )
        for body in mails:
            found = re.search(r"https?://\S+/mon-espace/[A-Za-z0-9_-]{43}", body)
            if found:
                return found.group(0)
    raise AssertionError("no link to the space was sent")


def _checked(page: Page, name: str) -> None:
    check_accessibility(page)
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"], f"{page.url} is {width} px wide at 390 px"
    page.screenshot(path=str(SCREENSHOTS / f"space-{name}-390.png"), full_page=True)


def test_a_person_opens_their_space_on_a_phone(browser, live_server, engine, monkeypatch):
    monkeypatch.setattr(get_settings(), "public_rate_limit", "1000/minute")
    title = _person_with_a_document(engine, live_server.counsellor_email)
    context = browser.new_context(viewport=PHONE, locale="fr-FR")
    context.set_default_timeout(10_000)
    page = context.new_page()

    page.goto(f"{live_server.url}/mon-espace")
    _checked(page, "01-ask")
    page.get_by_label(re.compile("Votre adresse e-mail ou votre numéro")).fill(EMAIL)
    page.get_by_role("button", name="Recevoir mon lien").click()
    expect(page.get_by_role("status")).to_contain_text("Si ces coordonnées sont connues")
    _checked(page, "02-sent")

    page.goto(
        _link_sent(engine).replace(get_settings().public_base_url.rstrip("/"), live_server.url)
    )
    expect(page.get_by_role("heading", level=1)).to_have_text("Bonjour Sidonie")
    expect(page.get_by_role("link", name=re.compile("Voir, déplacer ou annuler"))).to_be_visible()
    _checked(page, "03-space")

    page.get_by_role("link", name=title).click()
    page.get_by_role("button", name="J'ai pris connaissance de ce document").click()
    expect(page.locator("#accuse")).to_contain_text("Vous avez indiqué avoir pris connaissance")
    _checked(page, "04-document")
    page.get_by_role("link", name="Retour à mon espace").click()
    expect(page.locator("#documents")).to_contain_text("Lu")

    page.get_by_label("Téléphone").fill("06 98 76 54 32")
    page.get_by_role("button", name="Enregistrer mes coordonnées").click()
    expect(page.get_by_role("status").first).to_contain_text("Vos coordonnées sont enregistrées")
    with Session(engine) as session:
        person = session.exec(select(Beneficiary).where(Beneficiary.email == EMAIL)).one()
        assert person.phone == "+33698765432"

    page.get_by_role("button", name="Fermer l'accès").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("L'accès est fermé")
    _checked(page, "05-closed")
    page.go_back()
    page.reload()
    expect(page.get_by_role("heading", level=1)).to_have_text("Ce lien n'ouvre plus votre espace")
    _checked(page, "06-link-ended")
    context.close()
