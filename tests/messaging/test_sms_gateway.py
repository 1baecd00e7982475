"""SMS end to end against a real HTTP gateway (tests/sms_gateway.py): a booking with a mobile
number is delivered by the worker, its short link leads to the signed page; refusals are
retried or failed and shown in « Messages »; delivery reports and STOP come back through the
callback. A database of its own: the worker reads what the requests committed."""

import json
import re
from datetime import timedelta

import pytest
from alembic import command
from fastapi.testclient import TestClient
from sqlalchemy import delete
from sqlmodel import Session, select

from app.core.config import get_settings
from app.core.dates import to_local
from app.core.db import build_engine, get_session, unit_of_work
from app.models.appointments import Appointment, RateLimitHit
from app.models.base import utcnow
from app.models.beneficiaries import Beneficiary
from app.models.consents import ConsentRecord
from app.models.nomenclatures import Role
from app.models.outbox import OutboxMessage
from app.services.booking.messages import queue_confirmation
from app.services.messaging.mail import transport_from_settings
from app.services.messaging.outbox import deliver_due
from app.services.messaging.sms_delivery import OPTED_OUT
from app.services.messaging.sms_text import SMS_LIMIT, gsm7_length
from tests.conftest import alembic_config, scratch_database
from tests.factories import (
    contact_page,
    log_in,
    make_appointment,
    make_appointment_type,
    make_beneficiary,
    make_openings,
    make_operator,
    make_site,
    make_staff,
    submit,
    working_day_at,
)
from tests.sms_gateway import TOKEN, SmsGateway

CALLBACK_TOKEN = "jeton-des-rappels"
SHORT_LINK = re.compile(r"https?://\S+/s/([A-Za-z0-9]{16})\b")


@pytest.fixture(scope="module")
def committed_engine(database_url, tmp_path_factory):
    with scratch_database(database_url, "sms", tmp_path_factory.mktemp("sms")) as url:
        engine = build_engine(url)
        with engine.begin() as conn:
            command.upgrade(alembic_config(conn), "head")
        yield engine
        engine.dispose()


@pytest.fixture
def engine_(committed_engine):
    """The scratch database; what the worker would pick up is cleared after each test."""
    yield committed_engine
    with committed_engine.begin() as conn:
        conn.execute(delete(OutboxMessage))
        conn.execute(delete(RateLimitHit))


@pytest.fixture
def gateway(monkeypatch):
    settings = get_settings()
    with SmsGateway() as server:
        monkeypatch.setattr(settings, "sms_gateway_url", server.url)
        monkeypatch.setattr(settings, "sms_gateway_token", TOKEN)
        monkeypatch.setattr(settings, "sms_callback_token", CALLBACK_TOKEN)
        yield server


@pytest.fixture
def web(engine_):
    """The app on the scratch database, each request its own committed transaction."""
    from app.main import create_app

    application = create_app()

    def committed_session():
        yield from unit_of_work(engine_)

    application.dependency_overrides[get_session] = committed_session
    return TestClient(application)


def deliver(engine, when=None):
    return deliver_due(engine=engine, transport=transport_from_settings(), now=when or utcnow())


def stored(engine, message_id: int) -> OutboxMessage:
    with Session(engine) as session:
        return session.exec(select(OutboxMessage).where(OutboxMessage.id == message_id)).one()


def queued_confirmation(engine, phone: str) -> tuple[int, int]:
    """A booked appointment of a person with `phone`, its confirmation queued and committed:
    (the SMS's outbox id, the appointment's id)."""
    with Session(engine, expire_on_commit=False) as session:
        operator = make_operator(session)
        counsellor = make_staff(session, operator, full_name="Camille Martin")
        person = make_beneficiary(session, counsellor, email=None, phone=phone)
        site = make_site(session, operator, address="10 rue de la Part-Dieu")
        appointment = make_appointment(
            session,
            starts_at=working_day_at(site, days_ahead=5),
            counsellor=counsellor,
            site=site,
            beneficiary=person,
        )
        queue_confirmation(session=session, appointment=appointment)
        [sms] = session.exec(
            select(OutboxMessage).where(OutboxMessage.case_id == appointment.case_id)
        ).all()
        session.commit()
        return sms.id, appointment.id


def callback(web, body: dict, token: str | None = CALLBACK_TOKEN):
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return web.post("/api/sms/callback", json=body, headers=headers)


@pytest.mark.usefixtures("clock")
def test_a_booking_with_a_mobile_gets_one_sms_whose_short_link_opens_the_signed_page(
    engine_, gateway, web
):
    with Session(engine_, expire_on_commit=False) as session:
        operator = make_operator(session)
        site = make_site(session, operator)
        make_openings(session, make_staff(session, operator), site)
        kind = make_appointment_type(session, operator, name="Premier rendez-vous CEP")
        session.commit()
        agenda = (operator, site, kind)
    page, token = contact_page(web, agenda)
    assert submit(web, page, token, phone="06 12 34 56 78").status_code == 200
    assert gateway.received == []  # the request only queued it: the worker writes and sends

    report = deliver(engine_)

    assert (report.sent, report.failed) == (2, 0)  # the e-mail and the SMS
    [received] = gateway.received
    assert received.headers["Authorization"] == f"Bearer {TOKEN}"
    assert received.headers["Idempotency-Key"] == received.body["reference"]
    assert received.body["to"] == "+33612345678"
    assert received.body["callback_url"].endswith("/api/sms/callback")
    text = received.body["text"]
    assert text.startswith("RDV confirmé le ")
    assert 0 < gsm7_length(text) <= SMS_LIMIT
    code = SHORT_LINK.search(text).group(1)
    assert "Moreau" not in text and "Inès" not in text
    with Session(engine_) as session:
        appointment = session.exec(select(Appointment)).one()
        sms = session.exec(select(OutboxMessage).where(OutboxMessage.channel == "sms")).one()
        assert (sms.body_text, sms.provider_id) == (text, "gw-1")

    followed = web.get(f"/s/{code}", follow_redirects=False)
    assert followed.status_code == 303
    assert followed.headers["location"].startswith("/rendez-vous/gerer/")
    assert followed.headers["referrer-policy"] == "no-referrer"
    signed_page = web.get(followed.headers["location"])
    assert signed_page.status_code == 200
    assert appointment.reference in signed_page.text


def test_a_gateway_error_500_is_retried_with_the_same_text_and_reference(engine_, gateway):
    sms_id, _ = queued_confirmation(engine_, "06 12 34 56 01")
    gateway.answer_next(500, {"error": "indisponible"})
    report = deliver(engine_)
    assert (report.sent, report.retried) == (0, 1)
    message = stored(engine_, sms_id)
    assert (message.status, message.attempts) == ("pending", 1)
    assert message.last_error == "Passerelle SMS : refus 500 : indisponible"

    report = deliver(engine_, message.next_attempt_at)

    assert report.sent == 1
    first, second = gateway.received
    assert first.body == second.body  # same words, same short link, same reference
    assert stored(engine_, sms_id).status == "sent"


def test_a_gateway_refusal_400_fails_for_good_and_shows_in_messages(engine_, gateway, web):
    sms_id, _ = queued_confirmation(engine_, "06 12 34 56 02")
    gateway.answer_next(400, {"error": "numéro refusé"})
    assert deliver(engine_).failed == 1
    message = stored(engine_, sms_id)
    assert (message.status, message.attempts) == ("failed", 1)
    with Session(engine_, expire_on_commit=False) as session:
        manager = make_staff(session, make_operator(session), role=Role.MANAGER)
        log_in(web, session, manager)
        session.commit()

    page = web.get("/messages").text

    row = re.search(r"<tr>\s*<td data-label=\"Canal\">SMS</td>.*?</tr>", page, re.S).group(0)
    assert "06 12 34 56 02" in row
    assert "Échec" in row and "Passerelle SMS : refus 400 : numéro refusé" in row
    assert "Renvoyer" in row


def test_a_delivery_report_is_recorded_and_shown(engine_, gateway, web):
    sms_id, _ = queued_confirmation(engine_, "06 12 34 56 03")
    deliver(engine_)
    reference = stored(engine_, sms_id).message_id
    answer = callback(web, {"type": "status", "reference": reference, "status": "delivered"})
    assert answer.status_code == 200 and answer.json() == {"changed": 1}
    message = stored(engine_, sms_id)
    assert (message.delivery, message.delivered_at is not None) == ("delivered", True)
    # A late « failed » for the same SMS does not undo it.
    late = {"type": "status", "reference": reference, "status": "failed", "error": "x"}
    assert callback(web, late).json() == {"changed": 0}


def test_a_failed_delivery_report_shows_the_sms_as_not_delivered(engine_, gateway, web):
    sms_id, _ = queued_confirmation(engine_, "06 12 34 56 04")
    deliver(engine_)
    reference = stored(engine_, sms_id).message_id
    report = {"type": "status", "reference": reference, "status": "failed", "error": "absent"}
    assert callback(web, report).json() == {"changed": 1}
    message = stored(engine_, sms_id)
    assert message.delivery == "undelivered"
    assert message.last_error == "Non remis par l'opérateur : absent"


def test_stop_opts_the_number_out_and_no_sms_goes_to_it_any_more(engine_, gateway, web):
    waiting_id, appointment_id = queued_confirmation(engine_, "06 12 34 56 05")

    answer = callback(web, {"type": "inbound", "from": "+33612345605", "text": " Stop "})

    assert answer.json() == {"changed": 1}
    with Session(engine_) as session:
        person = session.exec(select(Beneficiary).where(Beneficiary.phone == "+33612345605")).one()
        assert person.sms_opt_out_at is not None
        # A withdrawal of the consent to SMS, in the person's consent records.
        withdrawn = session.exec(
            select(ConsentRecord).where(ConsentRecord.beneficiary_id == person.id)
        ).all()
        assert [(r.purpose, r.given, r.channel) for r in withdrawn] == [("sms", False, "sms_stop")]
    # Queued before the STOP: not sent.
    assert deliver(engine_).failed == 1
    assert stored(engine_, waiting_id).last_error == OPTED_OUT
    # Anything after it: not even queued.
    with Session(engine_) as session:
        appointment = session.get(Appointment, appointment_id)
        queue_confirmation(session=session, appointment=appointment)
        session.commit()
    deliver(engine_)
    assert gateway.received == []


def test_an_inbound_sms_other_than_stop_changes_nothing(engine_, gateway, web):
    queued_confirmation(engine_, "06 12 34 56 06")
    answer = callback(web, {"type": "inbound", "from": "0612345606", "text": "Merci !"})
    assert answer.json() == {"changed": 0}
    assert deliver(engine_).sent == 1


def test_the_callback_refuses_a_wrong_token_and_is_absent_without_one(
    engine_, gateway, web, monkeypatch
):
    body = {"type": "inbound", "from": "+33612345607", "text": "STOP"}
    assert callback(web, body, token="devine").status_code == 403
    assert callback(web, body, token=None).status_code == 403
    monkeypatch.setattr(get_settings(), "sms_callback_token", "")
    assert callback(web, body).status_code == 404


def test_without_a_gateway_sms_are_written_to_the_folder(engine_, tmp_path, monkeypatch):
    monkeypatch.setattr(get_settings(), "sms_gateway_url", "")
    monkeypatch.setattr(get_settings(), "sms_dir", tmp_path / "sms")
    sms_id, _ = queued_confirmation(engine_, "06 12 34 56 08")
    assert deliver(engine_).sent == 1
    message = stored(engine_, sms_id)
    [written] = (tmp_path / "sms").glob("*.json")
    content = json.loads(written.read_text())
    assert content["to"] == "+33612345608"
    assert content["reference"] == message.message_id
    assert content["text"] == message.body_text and SHORT_LINK.search(content["text"])


def test_a_confirmation_for_an_appointment_cancelled_since_is_not_sent(engine_, gateway):
    _sms_id, appointment_id = queued_confirmation(engine_, "06 12 34 56 10")
    with Session(engine_) as session:
        appointment = session.get(Appointment, appointment_id)
        appointment.status = "cancelled"
        session.add(appointment)
        session.commit()
    assert deliver(engine_, utcnow() + timedelta(seconds=1)).failed == 1
    assert gateway.received == []


def sms_time(moment) -> str:
    """How an appointment SMS says `moment` (the test sites are in Paris)."""
    return f"{to_local(moment, 'Europe/Paris'):%d/%m à %Hh%M}"


def deferred_once(engine, gateway, sms_id):
    """The SMS's first attempt written, then refused for now by the gateway: (the text it
    had, when the worker tries it again)."""
    gateway.answer_next(503, {"error": "indisponible"})
    assert deliver(engine).retried == 1
    [refused] = gateway.received
    return refused.body["text"], stored(engine, sms_id).next_attempt_at


def test_a_confirmation_cancelled_before_its_retry_is_not_sent(engine_, gateway):
    sms_id, appointment_id = queued_confirmation(engine_, "06 12 34 56 11")
    _text, retry_at = deferred_once(engine_, gateway, sms_id)
    with Session(engine_) as session:
        appointment = session.get(Appointment, appointment_id)
        appointment.status = "cancelled"
        session.add(appointment)
        session.commit()

    assert deliver(engine_, retry_at).failed == 1

    assert len(gateway.received) == 1  # the refused attempt only
    message = stored(engine_, sms_id)
    assert message.status == "failed"
    assert message.last_error.startswith("Rendez-vous annulé entre-temps")


def test_a_confirmation_moved_before_its_retry_says_the_new_time(engine_, gateway):
    sms_id, appointment_id = queued_confirmation(engine_, "06 12 34 56 12")
    first_text, retry_at = deferred_once(engine_, gateway, sms_id)
    with Session(engine_) as session:
        appointment = session.get(Appointment, appointment_id)
        booked = appointment.starts_at
        appointment.starts_at += timedelta(days=1, hours=1)
        appointment.ends_at += timedelta(days=1, hours=1)
        appointment.blocks_until = appointment.ends_at
        appointment.ics_sequence += 1
        session.add(appointment)
        session.commit()
        new_start = appointment.starts_at

    assert deliver(engine_, retry_at).sent == 1

    refused, sent = gateway.received
    assert sent.body["reference"] == refused.body["reference"]
    assert sms_time(booked) in first_text
    assert sms_time(new_start) in sent.body["text"] and sms_time(booked) not in sent.body["text"]


def test_a_retry_of_a_confirmation_whose_appointment_did_not_change_sends_the_same(
    engine_, gateway
):
    sms_id, _ = queued_confirmation(engine_, "06 12 34 56 13")
    first_text, retry_at = deferred_once(engine_, gateway, sms_id)
    assert deliver(engine_, retry_at).sent == 1
    assert gateway.received[1].body["text"] == first_text  # same words, same short link


def test_a_reminder_for_an_appointment_cancelled_since_is_not_sent(engine_, gateway):
    from app.services.booking.messages import queue_reminder

    sms_id, appointment_id = queued_confirmation(engine_, "06 12 34 56 09")
    with Session(engine_) as session:
        session.exec(delete(OutboxMessage).where(OutboxMessage.id == sms_id))
        appointment = session.get(Appointment, appointment_id)
        queue_reminder(session=session, appointment=appointment)
        appointment.status = "cancelled"
        session.add(appointment)
        session.commit()
    assert deliver(engine_, utcnow() + timedelta(seconds=1)).failed == 1
    assert gateway.received == []
