"""Sending the surveys: the end-of-level invitation when a level 1 or 2 unit ends, the utility
survey scheduled six months after the case's last level, one reminder, cancellation."""

import re
from datetime import UTC, datetime, timedelta

import pytest
from sqlmodel import select

from app.core.config import get_settings
from app.core.security import read_link_claims
from app.models.beneficiaries import Beneficiary
from app.models.cases import CaseClose, EpisodeEnd, EpisodeStart
from app.models.nomenclatures import CloseReason
from app.models.surveys import SurveyInvitation, SurveyKind, SurveyResponse, SurveyStatus
from app.services.cases import episodes
from app.services.cases import lifecycle as cases
from app.services.surveys.invitations import months_after, send_due_surveys
from app.services.surveys.questionnaires import current_questionnaire
from tests.conftest import NOW
from tests.factories import make_beneficiary, make_case, outbox_messages, sms_messages, unit_id

pytestmark = pytest.mark.usefixtures("clock")

LINK = re.compile(r"https?://\S+/enquete/(?!desinscription/)(\S+)")
OPT_OUT = re.compile(r"https?://\S+/enquete/desinscription/(\S+)")


def consenting_case(session, counsellor, **person):
    person = {"survey_consent": True, **person}
    return make_case(session, counsellor, make_beneficiary(session, counsellor, **person))


def started(session, counsellor, case, code: str, at=NOW - timedelta(days=3)):
    """An episode of `code` started three days ago (still cancellable), or `at`."""
    episode, _ = episodes.start_episode(
        session=session,
        actor=counsellor,
        case_id=case.id,
        data=EpisodeStart(unit_id=unit_id(session, code), started_at=at),
    )
    return episode


def end(session, counsellor, episode, at=None):
    return episodes.end_episode(
        session=session, actor=counsellor, episode_id=episode.id, data=EpisodeEnd(ended_at=at)
    )


def invitations(session, case, kind: SurveyKind | None = None) -> list[SurveyInvitation]:
    statement = select(SurveyInvitation).where(SurveyInvitation.case_id == case.id)
    if kind is not None:
        statement = statement.where(SurveyInvitation.kind == kind)
    found = list(session.exec(statement.order_by(SurveyInvitation.id)))
    for invitation in found:
        session.refresh(invitation)
    return found


def opt_out(session, beneficiary_id: int, at=NOW + timedelta(days=3)):
    """What the opt-out link does (another page's work): the agreement cleared, and when."""
    person = session.get(Beneficiary, beneficiary_id)
    person.survey_consent_at, person.survey_opt_out_at = None, at
    session.add(person)
    session.flush()


def ended_level_one(session, counsellor, **person):
    case = consenting_case(session, counsellor, **person)
    episode = end(session, counsellor, started(session, counsellor, case, "UO1"))
    return case, episode


# ---------- At the end of a level ----------


def test_the_end_of_level_1_sends_the_survey_at_once_with_working_links(session, counsellor):
    case, episode = ended_level_one(session, counsellor)
    [invitation] = invitations(session, case, SurveyKind.END_LEVEL_1)
    assert invitation.status == SurveyStatus.SENT
    assert (invitation.episode_id, invitation.level, invitation.channel) == (episode.id, 1, "email")
    assert invitation.counsellor_id == counsellor.id
    assert (
        invitation.questionnaire_id
        == current_questionnaire(
            session=session, operator_id=case.operator_id, kind=SurveyKind.END_LEVEL_1
        ).id
    )
    [message] = outbox_messages(session)
    assert message.case_id == case.id
    assert message.subject == "Votre avis sur votre premier entretien"
    assert message.body_text.startswith("Bonjour Zoé ")
    answer = LINK.search(message.body_text).group(1)
    assert message.body_text.count(get_settings().public_base_url) == 2
    assert read_link_claims(answer, purpose="survey") == (invitation.id, invitation.link_nonce)
    opt_out = OPT_OUT.search(message.body_text).group(1)
    assert read_link_claims(opt_out, purpose="survey-opt-out") == (invitation.id, None)
    # The HTML part carries the same links, escaped.
    assert f'href="{get_settings().public_base_url}/enquete/{answer}"' in message.body_html
    assert f"/enquete/desinscription/{opt_out}" in message.body_html


def test_the_e_mail_goes_to_the_person(session, counsellor):
    case, _ = ended_level_one(session, counsellor, email="ines@exemple.fr")
    [message] = outbox_messages(session)
    assert message.recipient == "ines@exemple.fr"


def test_the_end_of_a_level_2_unit_asks_about_level_2(session, counsellor):
    case = consenting_case(session, counsellor)
    end(session, counsellor, started(session, counsellor, case, "UO2.1"))
    [invitation] = invitations(session, case, SurveyKind.END_LEVEL_2)
    assert invitation.level == 2
    assert outbox_messages(session)[0].subject == "Votre avis sur votre accompagnement"


def test_a_triage_episode_gets_no_survey(session, counsellor):
    case = consenting_case(session, counsellor)
    end(session, counsellor, started(session, counsellor, case, "UO0"))
    assert invitations(session, case) == []
    assert outbox_messages(session) == []


def test_without_the_persons_agreement_nothing_is_sent_nor_scheduled(session, counsellor):
    case = make_case(session, counsellor)  # make_beneficiary: no survey consent
    end(session, counsellor, started(session, counsellor, case, "UO1"))
    assert invitations(session, case) == []
    assert outbox_messages(session) == []


def test_a_person_with_a_landline_only_is_not_contactable(session, counsellor):
    case, _ = ended_level_one(session, counsellor, email=None, phone="04 72 00 00 00")
    [asked, utility] = invitations(session, case)
    assert (asked.kind, asked.status, asked.sent_at) == ("fin_niveau_1", "non_contactable", None)
    assert asked.link_nonce is None
    assert utility.status == SurveyStatus.SCHEDULED  # an address may come within six months
    assert outbox_messages(session) == []
    assert sms_messages(session) == []


def test_a_person_with_a_mobile_only_is_asked_by_sms(session, counsellor):
    case, _ = ended_level_one(session, counsellor, email=None, phone="06 12 34 56 78")
    [asked, _utility] = invitations(session, case)
    assert (asked.status, asked.channel) == (SurveyStatus.SENT, "sms")
    assert outbox_messages(session) == []
    [sms] = sms_messages(session)
    assert (sms.recipient, sms.template, sms.payload) == (
        "+33612345678",
        "survey_invitation",
        {"invitation_id": asked.id},
    )


def test_closing_the_case_ends_its_units_and_asks(session, counsellor):
    case = consenting_case(session, counsellor)
    started(session, counsellor, case, "UO1")
    cases.close_case(
        session=session,
        actor=counsellor,
        case_id=case.id,
        data=CaseClose(reason=CloseReason.COMPLETED),
    )
    [asked, utility] = invitations(session, case)
    assert (asked.kind, asked.status) == ("fin_niveau_1", "envoyee")
    assert utility.kind == SurveyKind.UTILITY
    assert len(outbox_messages(session)) == 1


def test_closing_because_the_person_could_not_be_reached_does_not_ask(session, counsellor):
    case = consenting_case(session, counsellor)
    started(session, counsellor, case, "UO1")
    cases.close_case(
        session=session,
        actor=counsellor,
        case_id=case.id,
        data=CaseClose(reason=CloseReason.UNREACHABLE),
    )
    [utility] = invitations(session, case)
    assert (utility.kind, utility.status) == ("utilite_6_mois", "programmee")
    assert outbox_messages(session) == []


# ---------- The utility survey ----------


def test_the_utility_survey_is_due_six_months_after_the_last_level_2_end(session, counsellor):
    case = consenting_case(session, counsellor)
    long_ago = NOW - timedelta(days=100)
    level_one = started(session, counsellor, case, "UO1", at=long_ago)
    end(session, counsellor, level_one, at=NOW - timedelta(days=60))
    [utility] = invitations(session, case, SurveyKind.UTILITY)
    assert (utility.level, utility.due_at) == (1, datetime(2027, 4, 3, 9, 0, tzinfo=UTC))
    last = NOW - timedelta(hours=2)
    earlier = started(session, counsellor, case, "UO2.1", at=long_ago)
    end(session, counsellor, earlier, at=NOW - timedelta(days=5))
    level_two = end(session, counsellor, started(session, counsellor, case, "UO2.2"), at=last)
    # A level 1 ended later does not move it back: the last level 2 decides.
    end(session, counsellor, started(session, counsellor, case, "UO1"))
    [utility] = invitations(session, case, SurveyKind.UTILITY)
    assert utility.status == SurveyStatus.SCHEDULED
    assert (utility.episode_id, utility.level) == (level_two.id, 2)
    assert utility.due_at == datetime(2027, 6, 2, 7, 0, tzinfo=UTC)


def test_six_months_after_the_end_of_august_is_the_end_of_february():
    assert months_after(datetime(2026, 8, 31, 10, 0, tzinfo=UTC), 6) == datetime(
        2027, 2, 28, 10, 0, tzinfo=UTC
    )
    assert months_after(datetime(2027, 8, 31, 10, 0, tzinfo=UTC), 6) == datetime(
        2028, 2, 29, 10, 0, tzinfo=UTC
    )


def test_the_utility_survey_is_sent_when_due_and_not_before(session, counsellor):
    case, _ = ended_level_one(session, counsellor)
    [utility] = invitations(session, case, SurveyKind.UTILITY)
    assert send_due_surveys(session=session, now=utility.due_at - timedelta(seconds=1)) == 0
    assert send_due_surveys(session=session, now=utility.due_at) == 1
    session.refresh(utility)
    assert (utility.status, utility.sent_at, utility.channel) == (
        "envoyee",
        utility.due_at,
        "email",
    )
    assert (
        utility.questionnaire_id
        == current_questionnaire(
            session=session, operator_id=case.operator_id, kind=SurveyKind.UTILITY
        ).id
    )
    message = outbox_messages(session)[-1]
    assert message.subject == "Six mois après : ce conseil vous a-t-il servi ?"
    token = LINK.search(message.body_text).group(1)
    assert read_link_claims(token, purpose="survey") == (utility.id, utility.link_nonce)
    assert send_due_surveys(session=session, now=utility.due_at + timedelta(hours=1)) == 0


def test_a_utility_survey_waits_while_the_person_is_back_in_support(session, counsellor):
    case, _ = ended_level_one(session, counsellor)
    [utility] = invitations(session, case, SurveyKind.UTILITY)
    due = utility.due_at
    back = started(session, counsellor, case, "UO2.1", at=NOW)  # still running when it falls due
    assert send_due_surveys(session=session, now=due) == 0
    session.refresh(utility)
    assert (utility.status, utility.due_at) == ("programmee", due + timedelta(days=1))
    end(session, counsellor, back)
    session.refresh(utility)
    assert (utility.status, utility.level, utility.episode_id) == ("programmee", 2, back.id)
    assert utility.due_at == months_after(back.ended_at, 6)


def test_an_opt_out_is_honoured_when_the_utility_survey_falls_due(session, counsellor):
    case, _ = ended_level_one(session, counsellor)
    [utility] = invitations(session, case, SurveyKind.UTILITY)
    opt_out(session, case.beneficiary_id)
    assert send_due_surveys(session=session, now=utility.due_at) == 0
    session.refresh(utility)
    assert (utility.status, utility.sent_at) == ("desinscrite", None)
    assert len(outbox_messages(session)) == 1  # the end-of-level one, earlier


def test_without_an_agreement_by_then_the_utility_survey_is_cancelled(session, counsellor):
    case, _ = ended_level_one(session, counsellor)
    [utility] = invitations(session, case, SurveyKind.UTILITY)
    person = session.get(Beneficiary, case.beneficiary_id)
    person.survey_consent_at = None  # unticked on the person's page
    session.add(person)
    session.flush()
    assert send_due_surveys(session=session, now=utility.due_at) == 0
    session.refresh(utility)
    assert (utility.status, utility.sent_at) == ("annulee", None)


def test_a_utility_survey_already_sent_stays_and_a_new_level_gets_its_own(session, counsellor):
    case, _ = ended_level_one(session, counsellor)
    [first] = invitations(session, case, SurveyKind.UTILITY)
    send_due_surveys(session=session, now=first.due_at)
    level_two = end(session, counsellor, started(session, counsellor, case, "UO2.1"))
    sent, scheduled = invitations(session, case, SurveyKind.UTILITY)
    assert (sent.id, sent.status) == (first.id, "envoyee")
    assert (scheduled.episode_id, scheduled.level, scheduled.status) == (
        level_two.id,
        2,
        "programmee",
    )


# ---------- The reminder ----------


def sent_survey(session, counsellor, **person) -> SurveyInvitation:
    case, _ = ended_level_one(session, counsellor, **person)
    return invitations(session, case, SurveyKind.END_LEVEL_1)[0]


def test_one_reminder_after_the_set_days_never_two(session, counsellor):
    invitation = sent_survey(session, counsellor)
    days = timedelta(days=get_settings().survey_reminder_days)
    assert (
        send_due_surveys(session=session, now=invitation.sent_at + days - timedelta(minutes=1)) == 0
    )
    assert send_due_surveys(session=session, now=invitation.sent_at + days) == 1
    session.refresh(invitation)
    assert invitation.reminded_at == invitation.sent_at + days
    assert invitation.status == SurveyStatus.SENT
    first, reminder = outbox_messages(session)
    assert reminder.subject == f"Rappel : {first.subject}"
    assert reminder.recipient == first.recipient
    # The same single-use link: same invitation, same nonce, same expiry day.
    token = LINK.search(reminder.body_text).group(1)
    assert read_link_claims(token, purpose="survey") == (invitation.id, invitation.link_nonce)
    assert OPT_OUT.search(reminder.body_text)
    assert send_due_surveys(session=session, now=invitation.sent_at + days * 2) == 0
    assert len(outbox_messages(session)) == 2


def test_the_reminder_delay_is_a_setting(session, counsellor, monkeypatch):
    monkeypatch.setattr(get_settings(), "survey_reminder_days", 3)
    invitation = sent_survey(session, counsellor)
    assert send_due_surveys(session=session, now=invitation.sent_at + timedelta(days=3)) == 1


def test_who_answered_is_never_reminded(session, counsellor):
    invitation = sent_survey(session, counsellor)
    # What the answering page does on submission (another page's work).
    invitation.status, invitation.answered_at, invitation.link_nonce = "repondue", NOW, None
    session.add(invitation)
    session.flush()
    later = invitation.sent_at + timedelta(days=10)
    assert send_due_surveys(session=session, now=later) == 0
    session.refresh(invitation)
    assert invitation.reminded_at is None


def test_a_submitted_response_alone_is_enough_to_spare_the_reminder(session, counsellor):
    invitation = sent_survey(session, counsellor)
    session.add(
        SurveyResponse(
            operator_id=invitation.operator_id,
            invitation_id=invitation.id,
            questionnaire_id=invitation.questionnaire_id,
            answers={"satisfaction": "tres_satisfait"},
            submitted_at=NOW,
        )
    )
    session.flush()
    assert send_due_surveys(session=session, now=invitation.sent_at + timedelta(days=10)) == 0


def test_answers_saved_but_not_submitted_still_get_the_reminder(session, counsellor):
    invitation = sent_survey(session, counsellor)
    session.add(
        SurveyResponse(
            operator_id=invitation.operator_id,
            invitation_id=invitation.id,
            questionnaire_id=invitation.questionnaire_id,
            answers={"satisfaction": "tres_satisfait"},
        )
    )
    session.flush()
    assert send_due_surveys(session=session, now=invitation.sent_at + timedelta(days=10)) == 1


def test_who_opted_out_is_not_reminded(session, counsellor):
    invitation = sent_survey(session, counsellor)
    opt_out(session, invitation.beneficiary_id)
    assert send_due_surveys(session=session, now=invitation.sent_at + timedelta(days=10)) == 0


def test_no_reminder_once_the_link_is_about_to_expire(session, counsellor):
    invitation = sent_survey(session, counsellor)
    late = invitation.sent_at + timedelta(days=get_settings().survey_link_days - 1)
    assert send_due_surveys(session=session, now=late) == 0


def test_a_worker_pass_sends_a_bounded_batch(session, counsellor, monkeypatch):
    import app.services.surveys.invitations as module

    monkeypatch.setattr(module, "BATCH", 2)
    due = []
    for _ in range(3):
        case, _ = ended_level_one(session, counsellor)
        due.append(invitations(session, case, SurveyKind.UTILITY)[0].due_at)
    assert send_due_surveys(session=session, now=max(due)) == 2
    assert send_due_surveys(session=session, now=max(due)) == 1


# ---------- Cancellation ----------


def test_cancelling_the_last_level_moves_the_utility_survey_back(session, counsellor):
    case = consenting_case(session, counsellor)
    first = end(
        session,
        counsellor,
        started(session, counsellor, case, "UO1"),
        at=NOW - timedelta(days=2),
    )
    mistake = end(session, counsellor, started(session, counsellor, case, "UO2.1"))
    episodes.cancel_episode(session=session, actor=counsellor, episode_id=mistake.id)
    [utility] = invitations(session, case, SurveyKind.UTILITY)
    assert (utility.episode_id, utility.level) == (first.id, 1)
    assert utility.due_at == months_after(first.ended_at, 6)
    assert utility.status == SurveyStatus.SCHEDULED


def test_cancelling_the_only_level_cancels_what_was_not_sent(session, counsellor):
    case, episode = ended_level_one(session, counsellor, email=None, phone="04 72 00 00 00")
    episodes.cancel_episode(session=session, actor=counsellor, episode_id=episode.id)
    assert [(i.kind, i.status) for i in invitations(session, case)] == [
        ("fin_niveau_1", "annulee"),
        ("utilite_6_mois", "annulee"),
    ]
    assert send_due_surveys(session=session, now=NOW + timedelta(days=400)) == 0


def test_a_survey_already_sent_is_not_withdrawn_by_a_cancellation(session, counsellor):
    case, episode = ended_level_one(session, counsellor)
    episodes.cancel_episode(session=session, actor=counsellor, episode_id=episode.id)
    asked, utility = invitations(session, case)
    assert (asked.status, utility.status) == ("envoyee", "annulee")
