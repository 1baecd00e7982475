"""A person answers a satisfaction survey on a 390 px phone, from the keyboard: the errors'
summary leads to the question left out, answers saved for later come back, the submission
thanks, the link then says it was answered; the opt-out link asks before it acts. Every page
passes axe-core's WCAG 2.1 A/AA check. The same survey is answered with JavaScript turned off."""

import re

import pytest
from playwright.sync_api import Page, expect
from sqlmodel import Session, select

from app.core.config import get_settings
from app.models.staff import StaffUser
from app.models.surveys import SurveyInvitation, SurveyResponse, SurveyStatus
from tests.browser.conftest import SCREENSHOTS, check_accessibility
from tests.factories import make_case
from tests.surveys.sent_invitations import answer_path, opt_out_link, sent_invitation

pytestmark = pytest.mark.browser

PHONE = {"width": 390, "height": 844}


def _invitation(engine, email: str) -> SurveyInvitation:
    """A survey just sent about a new case's first episode."""
    with Session(engine, expire_on_commit=False) as session:
        counsellor = session.exec(select(StaffUser).where(StaffUser.email == email)).one()
        invitation = sent_invitation(session, counsellor, make_case(session, counsellor))
        session.commit()
        return invitation


def _phone(browser, **options):
    context = browser.new_context(viewport=PHONE, locale="fr-FR", **options)
    context.set_default_timeout(10_000)
    return context


def _fits_the_screen(page: Page) -> None:
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"], f"{page.url} is {width} px wide at 390 px"


def _stored(engine, invitation_id: int) -> tuple[SurveyInvitation, SurveyResponse | None]:
    with Session(engine, expire_on_commit=False) as session:
        response = session.exec(
            select(SurveyResponse).where(SurveyResponse.invitation_id == invitation_id)
        ).first()
        return session.get(SurveyInvitation, invitation_id), response


def test_a_person_answers_on_a_phone_from_the_keyboard(browser, live_server, engine, monkeypatch):
    monkeypatch.setattr(get_settings(), "public_rate_limit", "1000/minute")
    invitation = _invitation(engine, live_server.counsellor_email)
    address = f"{live_server.url}{answer_path(invitation)}"
    phone = _phone(browser)
    page = phone.new_page()

    page.goto(address)
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "Votre avis sur votre premier entretien"
    )
    expect(page.locator(".site-brand")).to_have_text("Auvergne-Rhône-Alpes")
    check_accessibility(page)
    _fits_the_screen(page)
    page.screenshot(path=str(SCREENSHOTS / "survey-01-questions-390.png"), full_page=True)

    # Sent without the required answer: the summary takes the focus and leads to the question.
    page.get_by_role("group", name=re.compile("Recommanderiez-vous")).get_by_label("Oui").check()
    page.get_by_role("button", name="Envoyer mes réponses").click()
    summary = page.get_by_role("alert")
    expect(summary).to_contain_text("Une réponse est à revoir")
    expect(summary).to_be_focused()
    check_accessibility(page)
    _fits_the_screen(page)
    page.screenshot(path=str(SCREENSHOTS / "survey-02-errors-390.png"), full_page=True)
    page.keyboard.press("Tab")
    link = summary.get_by_role("link", name=re.compile("Question 1"))
    expect(link).to_be_focused()
    outline = link.evaluate("el => getComputedStyle(el).outlineStyle")
    assert outline != "none"  # the focus can be seen
    page.keyboard.press("Enter")
    first = page.locator("#q-satisfaction")
    expect(first).to_be_focused()
    expect(page.get_by_role("group", name=re.compile("Dans l'ensemble"))).to_have_attribute(
        "aria-describedby", "q-satisfaction-error"
    )
    page.keyboard.press("ArrowDown")  # radios: the arrows move the choice
    expect(page.get_by_label("Plutôt satisfait·e")).to_be_checked()
    expect(page.get_by_role("group", name=re.compile("Recommanderiez-vous"))).to_contain_text("Oui")
    expect(page.locator('input[name="q-recommandation"][value="oui"]')).to_be_checked()

    # Saved for later, the page comes back as it was left.
    page.get_by_label("Un projet plus clair").check()
    page.get_by_label("Votre réponse").fill("Très à l'écoute <merci>")
    page.get_by_role("button", name="Enregistrer et finir plus tard").click()
    expect(page.get_by_role("status")).to_contain_text("Vos réponses sont enregistrées")
    check_accessibility(page)
    page.goto(address)
    expect(page.get_by_label("Plutôt satisfait·e")).to_be_checked()
    expect(page.get_by_label("Un projet plus clair")).to_be_checked()
    expect(page.get_by_label("Votre réponse")).to_have_value("Très à l'écoute <merci>")
    stored, response = _stored(engine, invitation.id)
    assert stored.status == SurveyStatus.SENT and response.submitted_at is None

    page.get_by_role("button", name="Envoyer mes réponses").focus()
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", level=1)).to_have_text("Merci pour vos réponses")
    check_accessibility(page)
    _fits_the_screen(page)
    page.screenshot(path=str(SCREENSHOTS / "survey-03-thanks-390.png"), full_page=True)
    stored, response = _stored(engine, invitation.id)
    assert stored.status == SurveyStatus.ANSWERED and response.satisfied is True
    assert response.comment == "Très à l'écoute <merci>"

    page.goto(address)
    expect(page.get_by_role("heading", level=1)).to_have_text("Vous avez déjà répondu, merci")
    check_accessibility(page)
    phone.close()


def test_the_opt_out_link_asks_before_it_acts(browser, live_server, engine, monkeypatch):
    monkeypatch.setattr(get_settings(), "public_rate_limit", "1000/minute")
    invitation = _invitation(engine, live_server.counsellor_email)
    phone = _phone(browser)
    page = phone.new_page()

    page.goto(f"{live_server.url}{opt_out_link(invitation)}")
    expect(page.get_by_role("heading", level=1)).to_have_text("Ne plus recevoir de questionnaire")
    check_accessibility(page)
    _fits_the_screen(page)
    assert _stored(engine, invitation.id)[0].status == SurveyStatus.SENT
    page.get_by_role("button", name="Confirmer : ne plus recevoir de questionnaire").click()
    expect(page.get_by_role("status")).to_contain_text("Vous ne recevrez plus de questionnaire")
    check_accessibility(page)
    assert _stored(engine, invitation.id)[0].status == SurveyStatus.OPTED_OUT

    page.goto(f"{live_server.url}{answer_path(invitation)}")
    expect(page.get_by_role("heading", level=1)).to_have_text("Ce questionnaire est fermé")
    check_accessibility(page)
    page.goto(f"{live_server.url}/enquete/un-lien-abime")
    expect(page.get_by_role("heading", level=1)).to_have_text("Ce lien n'est pas valable")
    check_accessibility(page)
    phone.close()


def test_the_survey_is_answered_with_javascript_turned_off(
    browser, live_server, engine, monkeypatch
):
    monkeypatch.setattr(get_settings(), "public_rate_limit", "1000/minute")
    invitation = _invitation(engine, live_server.counsellor_email)
    address = f"{live_server.url}{answer_path(invitation)}"
    phone = _phone(browser, java_script_enabled=False)
    page = phone.new_page()

    page.goto(address)
    page.get_by_label("Très satisfait·e").check()
    page.get_by_label("Une formation commencée ou prévue").check()
    page.get_by_role("button", name="Enregistrer et finir plus tard").click()
    expect(page.get_by_role("status")).to_contain_text("Vos réponses sont enregistrées")
    page.goto(address)
    expect(page.get_by_label("Très satisfait·e")).to_be_checked()
    page.get_by_label("Votre réponse").fill("Sans JavaScript, tout va bien.")
    page.get_by_role("button", name="Envoyer mes réponses").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Merci pour vos réponses")

    stored, response = _stored(engine, invitation.id)
    assert stored.status == SurveyStatus.ANSWERED
    assert response.answers == {
        "satisfaction": "tres_satisfait",
        "changements": ["formation"],
        "commentaire": "Sans JavaScript, tout va bien.",
    }
    phone.close()
