"""Issue 17's « done when »: a counsellor ends UO1, the invitation is in the mail folder, the
beneficiary answers on a 390 px phone, the manager reads the response in the results; the
six-month utility survey waits for its date (the worker's clock is given, not read).
Every page passes the axe-core WCAG 2.1 A/AA check."""

import mailbox
import re
from datetime import timedelta
from email import message_from_bytes
from email.policy import default
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Page, expect
from sqlmodel import Session, select

from app.models.cases import Episode
from app.models.outbox import OutboxMessage
from app.models.staff import StaffUser
from app.models.surveys import SurveyInvitation, SurveyKind, SurveyStatus
from app.services.messaging.mail import MaildirTransport
from app.services.messaging.outbox import deliver_due
from app.services.surveys.invitations import months_after, send_due_surveys
from tests.browser.conftest import check_accessibility, htmx_idle, open_case_tab, sign_in
from tests.factories import make_beneficiary, make_case, make_episode
from tests.smtp import body

pytestmark = pytest.mark.browser

FIRST_NAME, LAST_NAME = "Maëlys", "Quéméner"
COMMENT = "Très clair, merci à ma conseillère <b>pour tout</b>."


@pytest.fixture
def running_uo1(engine, live_server):
    """A case of the journey's counsellor whose UO1 runs; the person agreed to be asked."""
    with Session(engine) as session:
        counsellor = session.exec(
            select(StaffUser).where(StaffUser.email == live_server.counsellor_email)
        ).one()
        beneficiary = make_beneficiary(
            session,
            counsellor,
            first_name=FIRST_NAME,
            last_name=LAST_NAME,
            email="maelys.quemener@exemple.fr",
            survey_consent=True,
        )
        case = make_case(session, counsellor, beneficiary, referent_id=counsellor.id)
        make_episode(session, counsellor, case, "UO1")
        session.commit()
        return case.id, case.reference


def _mailed_link(engine, folder) -> str:
    deliver_due(engine=engine, transport=MaildirTransport(folder))
    stored = [message_from_bytes(bytes(m), policy=default) for m in mailbox.Maildir(folder)]
    messages = [m for m in stored if m["To"] == "maelys.quemener@exemple.fr"]
    assert len(messages) == 1, "one invitation, in the mail folder"
    text = body(messages[0])
    assert "Bonjour" in text
    return re.search(r"https?://\S+/enquete/[\w.\-]+", text).group(0)


def test_survey_from_the_end_of_uo1_to_the_results(
    page: Page, browser, engine, live_server, running_uo1, tmp_path
):
    case_id, reference = running_uo1

    # The counsellor ends UO1 on the case page; the survey shows as sent, answers never.
    sign_in(page, live_server, live_server.counsellor_email)
    page.goto(f"{live_server.url}/cases/{case_id}")
    open_case_tab(page, "Unités")
    details = page.locator("details").filter(has=page.locator("summary", has_text="Terminer UO1"))
    htmx_idle(page)
    details.locator("summary").click()
    details.get_by_label("Résultat").fill("Projet de reconversion clarifié")
    details.get_by_role("button", name="Terminer").click()
    expect(page.locator(".done")).to_contain_text("UO1 terminée.")
    surveys = page.get_by_role("region", name="Enquêtes de satisfaction")
    expect(surveys).to_contain_text("Fin de niveau 1")
    expect(surveys).to_contain_text("Envoyée")
    expect(surveys).to_contain_text("Utilité à 6 mois")
    check_accessibility(page)

    # The invitation is in the mail folder; the person opens it on a phone.
    link = _mailed_link(engine, tmp_path / "mail")
    phone = browser.new_context(viewport={"width": 390, "height": 844}, locale="fr-FR")
    try:
        person = phone.new_page()
        person.goto(live_server.url + urlsplit(link).path)
        expect(person.get_by_role("heading", level=1)).to_have_text(
            "Votre avis sur votre premier entretien"
        )
        check_accessibility(person)
        person.get_by_label("Très satisfait·e").check()
        person.get_by_label("Oui", exact=True).check()
        person.get_by_label("Un projet plus clair").check()
        person.get_by_label("Votre réponse").fill(COMMENT)
        person.get_by_role("button", name="Envoyer mes réponses").click()
        expect(person.get_by_role("heading", level=1)).to_have_text("Merci pour vos réponses")
        check_accessibility(person)
        # The link was single use.
        person.goto(live_server.url + urlsplit(link).path)
        expect(person.get_by_role("heading", level=1)).to_contain_text("déjà répondu")
    finally:
        phone.close()

    # The counsellor sees that it was answered, not what.
    page.reload()
    open_case_tab(page, "Unités")
    surveys = page.get_by_role("region", name="Enquêtes de satisfaction")
    expect(surveys).to_contain_text("Répondue")
    expect(surveys).not_to_contain_text("Très clair")

    _manager_reads_the_results(page, live_server)
    _utility_waits_for_six_months(engine, case_id)


def _manager_reads_the_results(page: Page, live_server) -> None:
    page.context.clear_cookies()
    sign_in(page, live_server, live_server.manager_email)
    page.goto(f"{live_server.url}/rapports/enquetes")
    check_accessibility(page)
    # Other journeys answer surveys on this server too: the figures are theirs as well, the
    # comment is this person's.
    expect(
        page.get_by_role("heading", name="Satisfaction en fin de niveau", exact=True)
    ).to_be_visible()
    comments = page.get_by_role("region", name="Commentaires libres", exact=True)
    # Escaped, as text.
    expect(comments).to_contain_text(COMMENT)


def _utility_waits_for_six_months(engine, case_id: int) -> None:
    with Session(engine) as session:
        episode = session.exec(select(Episode).where(Episode.case_id == case_id)).one()
        utility = session.exec(
            select(SurveyInvitation).where(
                SurveyInvitation.case_id == case_id,
                SurveyInvitation.kind == SurveyKind.UTILITY,
            )
        ).one()
        assert utility.status == SurveyStatus.SCHEDULED
        assert utility.due_at == months_after(episode.ended_at, 6)
        before = session.exec(select(OutboxMessage.id)).all()

        # The day before, the worker leaves it; on the day, it goes out.
        send_due_surveys(session=session, now=utility.due_at - timedelta(days=1))
        session.refresh(utility)
        assert utility.status == SurveyStatus.SCHEDULED
        send_due_surveys(session=session, now=utility.due_at)
        session.refresh(utility)
        assert utility.status == SurveyStatus.SENT
        new = session.exec(
            select(OutboxMessage).where(
                OutboxMessage.case_id == case_id,
                OutboxMessage.id.not_in(before),  # type: ignore[union-attr]
            )
        ).all()
        assert [m.recipient for m in new] == ["maelys.quemener@exemple.fr"]
        session.rollback()  # the journey's database stays as the other journeys expect it
