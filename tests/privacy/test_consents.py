"""Consent records: each agreement and withdrawal kept with the text shown, how and by whom;
the person's dates follow; a withdrawal takes effect at once."""

from datetime import timedelta

import pytest
from sqlmodel import select

from app.models.beneficiaries import Beneficiary
from app.models.cases import EpisodeEnd, EpisodeStart
from app.models.consents import ConsentChannel, ConsentPurpose, ConsentRecord
from app.models.surveys import SurveyInvitation
from app.services.cases import episodes
from app.services.privacy.consents import current_consents, may_contact, withdraw
from app.services.surveys.invitations import send_due_surveys
from tests.conftest import NOW
from tests.factories import (
    log_in,
    make_beneficiary,
    make_case,
    make_staff,
    outbox_messages,
    read,
    unit_id,
)

pytestmark = pytest.mark.usefixtures("clock")


def records(session, person) -> list[tuple]:
    rows = session.exec(
        select(ConsentRecord)
        .where(ConsentRecord.beneficiary_id == person.id)
        .order_by(ConsentRecord.id)
    )
    return [(r.purpose, r.given, r.channel, r.text_code, r.text_version) for r in rows]


def test_the_persons_form_records_each_box_ticked_with_its_text(session, counsellor):
    person = make_beneficiary(session, counsellor, consent=True, survey_consent=True)
    assert records(session, person) == [
        ("processing", True, "interview", "accompagnement", 1),
        ("surveys", True, "interview", "enquetes", 1),
    ]
    assert person.consent_at is not None and person.may_be_surveyed


def test_a_withdrawal_is_a_new_record_and_the_history_stays(session, counsellor):
    person = make_beneficiary(session, counsellor, survey_consent=True)
    withdraw(
        session=session,
        person=person,
        purpose=ConsentPurpose.SURVEYS,
        actor=counsellor,
        how=ConsentChannel.PHONE,
    )
    assert records(session, person) == [
        ("surveys", True, "interview", "enquetes", 1),
        ("surveys", False, "phone", "enquetes", 1),
    ]
    assert not person.may_be_surveyed and person.survey_opt_out_at is not None
    states = {s.purpose: s.given for s in current_consents(session=session, person=person)}
    assert states[ConsentPurpose.SURVEYS] is False


def test_withdrawing_surveys_closes_those_to_come_at_once(session, counsellor):
    person = make_beneficiary(session, counsellor, survey_consent=True)
    case = make_case(session, counsellor, person)
    episode, _ = episodes.start_episode(
        session=session,
        actor=counsellor,
        case_id=case.id,
        data=EpisodeStart(unit_id=unit_id(session, "UO1"), started_at=NOW - timedelta(days=3)),
    )
    episodes.end_episode(
        session=session, actor=counsellor, episode_id=episode.id, data=EpisodeEnd()
    )
    sent_before = len(outbox_messages(session))
    withdraw(
        session=session,
        person=person,
        purpose=ConsentPurpose.SURVEYS,
        actor=None,
        how=ConsentChannel.RIGHTS_REQUEST,
    )
    statuses = session.exec(
        select(SurveyInvitation.status).where(SurveyInvitation.beneficiary_id == person.id)
    ).all()
    assert statuses and set(statuses) == {"desinscrite"}
    send_due_surveys(session=session, now=NOW + timedelta(days=400))
    assert len(outbox_messages(session)) == sent_before


def test_withdrawing_e_mails_stops_survey_e_mails(session, counsellor):
    person = make_beneficiary(session, counsellor, survey_consent=True)
    assert may_contact(session=session, person=person, purpose=ConsentPurpose.EMAIL)
    withdraw(
        session=session,
        person=person,
        purpose=ConsentPurpose.EMAIL,
        actor=counsellor,
        how=ConsentChannel.WRITING,
    )
    assert not may_contact(session=session, person=person, purpose=ConsentPurpose.EMAIL)
    case = make_case(session, counsellor, person)
    episode, _ = episodes.start_episode(
        session=session,
        actor=counsellor,
        case_id=case.id,
        data=EpisodeStart(unit_id=unit_id(session, "UO1"), started_at=NOW - timedelta(days=3)),
    )
    episodes.end_episode(
        session=session, actor=counsellor, episode_id=episode.id, data=EpisodeEnd()
    )
    assert outbox_messages(session) == []


def test_the_persons_page_shows_and_records_a_consent(client, session, counsellor):
    person = make_beneficiary(session, counsellor, consent=True)
    csrf = log_in(client, session, counsellor)
    page = client.get(f"/beneficiaries/{person.id}")
    assert "Consentements" in read(page) and "accompagnement v1" in read(page)
    form = {"purpose": "sms", "decision": "withdrawn", "how": "phone", "csrf_token": csrf}
    done = client.post(f"/beneficiaries/{person.id}/consentements", data=form)
    assert done.status_code == 200 and "Consentement enregistré" in read(done)
    assert ("sms", False, "phone", "contact-sms", 1) in records(session, person)
    assert "Par téléphone" in read(done)


def test_sharing_from_the_persons_page_needs_a_partner(client, session, counsellor):
    person = make_beneficiary(session, counsellor)
    csrf = log_in(client, session, counsellor)
    form = {"purpose": "partner_share", "decision": "given", "how": "interview"}
    refused = client.post(
        f"/beneficiaries/{person.id}/consentements", data={**form, "csrf_token": csrf}
    )
    assert 'id="consent-partner_id-error">Choisissez le partenaire' in read(refused)
    assert records(session, person) == []


def test_a_consent_cannot_be_recorded_on_another_operators_person(client, session, counsellor, bre):
    other = make_beneficiary(session, make_staff(session, bre))
    csrf = log_in(client, session, counsellor)
    form = {"purpose": "sms", "decision": "given", "how": "phone", "csrf_token": csrf}
    response = client.post(f"/beneficiaries/{other.id}/consentements", data=form)
    assert response.status_code == 404
    assert session.get(Beneficiary, other.id) is not None and records(session, other) == []
