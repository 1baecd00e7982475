"""Appointment e-mails through the outbox: confirmation with its .ics, notices, reminders once
and only within the window; and one delivery through a real SMTP server."""

import base64
import re
from datetime import UTC, datetime, timedelta

import pytest
from alembic import command
from icalendar import Calendar
from sqlalchemy import delete
from sqlmodel import Session, select

from app.core.config import get_settings
from app.core.db import build_engine
from app.core.security import read_link_token
from app.models.outbox import OutboxMessage
from app.services.booking.messages import (
    manage_link,
    queue_cancellation,
    queue_confirmation,
    queue_moved,
    send_due_reminders,
)
from app.services.messaging.mail import transport_from_settings
from app.services.messaging.outbox import deliver_due
from tests.conftest import alembic_config, scratch_database
from tests.factories import (
    make_appointment,
    outbox_messages,
)
from tests.smtp import body

NOW = datetime(2027, 3, 1, 9, 0, tzinfo=UTC)


# ---------- Builders (shared with the calendar and link tests) ----------


def attached_calendar(message) -> Calendar:
    [attachment] = message.attachments
    assert attachment["filename"] == "rendez-vous.ics"
    assert attachment["content_type"] == "text/calendar; charset=utf-8; method=PUBLISH"
    return Calendar.from_ical(base64.b64decode(attachment["content_b64"]))


# ---------- Messages ----------


def test_confirmation_has_the_calendar_file_and_the_details_in_french(session):
    appointment = make_appointment(
        session, starts_at=datetime(2027, 3, 4, 13, 0, tzinfo=UTC), email="zoe@exemple.fr"
    )
    queue_confirmation(session=session, appointment=appointment)
    [message] = outbox_messages(session)
    assert message.recipient == "zoe@exemple.fr"
    assert "4 mars 2027 à 14 h 00" in message.subject  # Paris, winter time
    assert "Lieu : Lyon Part-Dieu, 10 rue de la Part-Dieu, 69003 Lyon" in message.body_text
    assert appointment.reference in message.body_text
    assert "/rendez-vous/gerer/" in message.body_text
    calendar = attached_calendar(message)
    assert calendar["METHOD"] == "PUBLISH"
    [event] = calendar.walk("VEVENT")
    assert str(event["UID"]) == appointment.ics_uid


def test_without_an_email_address_nothing_is_queued(session):
    appointment = make_appointment(session, starts_at=NOW + timedelta(days=5), email=None)
    queue_confirmation(session=session, appointment=appointment)
    queue_cancellation(session=session, appointment=appointment)
    assert outbox_messages(session) == []


def test_phone_appointment_says_so_instead_of_an_address(session):
    appointment = make_appointment(session, starts_at=NOW + timedelta(days=5), mode="phone")
    queue_confirmation(session=session, appointment=appointment)
    [message] = outbox_messages(session)
    assert "Lieu : Par téléphone" in message.body_text
    [event] = attached_calendar(message).walk("VEVENT")
    assert str(event["LOCATION"]) == "Par téléphone"


def test_move_notice_gives_the_old_and_the_new_time(session):
    appointment = make_appointment(session, starts_at=datetime(2027, 3, 4, 13, 0, tzinfo=UTC))
    previous = appointment.starts_at
    appointment.starts_at += timedelta(days=1)
    appointment.ends_at += timedelta(days=1)
    appointment.blocks_until += timedelta(days=1)
    appointment.ics_sequence = 1
    queue_moved(session=session, appointment=appointment, previous_start=previous)
    [message] = outbox_messages(session)
    assert "ancien horaire : 4 mars 2027 à 14 h 00" in message.body_text
    assert "nouvel horaire : 5 mars 2027 à 14 h 00" in message.body_text
    [event] = attached_calendar(message).walk("VEVENT")
    assert event["SEQUENCE"] == 1


def test_manage_link_is_signed_for_the_appointment(session):
    appointment = make_appointment(session, starts_at=NOW + timedelta(days=5))
    link = manage_link(appointment)
    assert link.startswith(get_settings().public_base_url)
    token = link.rsplit("/", 1)[1]
    assert read_link_token(token, purpose="appointment") == appointment.id


# ---------- Reminders ----------


def test_reminder_is_queued_once_within_the_window(session):
    appointment = make_appointment(session, starts_at=NOW + timedelta(hours=47))
    assert send_due_reminders(session=session, now=NOW) == 1
    assert send_due_reminders(session=session, now=NOW + timedelta(hours=1)) == 0
    [message] = outbox_messages(session)
    assert message.subject.startswith("Rappel : rendez-vous le")
    session.refresh(appointment)
    assert appointment.reminder_sent_at == NOW


def test_no_reminder_before_the_window_nor_for_cancelled_or_past_appointments(session):
    make_appointment(session, starts_at=NOW + timedelta(hours=49))
    make_appointment(session, starts_at=NOW + timedelta(hours=2), status="cancelled")
    make_appointment(session, starts_at=NOW - timedelta(hours=1))
    assert send_due_reminders(session=session, now=NOW) == 0
    assert outbox_messages(session) == []


def test_the_window_follows_the_setting(session, monkeypatch):
    monkeypatch.setattr(get_settings(), "reminder_hours", 72)
    make_appointment(session, starts_at=NOW + timedelta(hours=60))
    assert send_due_reminders(session=session, now=NOW) == 1


# ---------- Through a real SMTP server ----------


@pytest.fixture(scope="module")
def committed_engine(database_url, tmp_path_factory):
    """A database of its own: the worker reads what other connections committed."""
    scratch = tmp_path_factory.mktemp("appointment_mail")
    with scratch_database(database_url, "appointment_mail", scratch) as url:
        engine = build_engine(url)
        with engine.begin() as conn:
            command.upgrade(alembic_config(conn), "head")
        yield engine
        engine.dispose()


def test_confirmation_delivered_over_smtp_carries_a_parsable_calendar_file(
    committed_engine, smtp_server
):
    starts_at = datetime(2027, 7, 6, 8, 30, tzinfo=UTC)
    with Session(committed_engine, expire_on_commit=False) as session:
        appointment = make_appointment(session, starts_at=starts_at, email="lea@exemple.fr")
        queue_confirmation(session=session, appointment=appointment)
        session.commit()
    try:
        report = deliver_due(engine=committed_engine, transport=transport_from_settings(), now=NOW)
        assert report.sent == 1
        [email] = smtp_server.messages
        assert email["To"] == "lea@exemple.fr"
        assert "6 juillet 2027 à 10 h 30" in email["Subject"]  # Paris, summer time
        assert re.search(r"/rendez-vous/gerer/\S+", email.get_body(("plain",)).get_content())
        [part] = list(email.iter_attachments())
        assert part.get_content_type() == "text/calendar"
        calendar = Calendar.from_ical(part.get_payload(decode=True))
        [event] = calendar.walk("VEVENT")
        assert str(event["UID"]) == appointment.ics_uid
        assert event.decoded("DTSTART") == starts_at
    finally:
        with committed_engine.begin() as conn:
            conn.execute(delete(OutboxMessage))


def test_the_request_queues_the_confirmation_unwritten(session):
    appointment = make_appointment(session, starts_at=NOW + timedelta(days=5), email="a@b.fr")
    queue_confirmation(session=session, appointment=appointment)
    [message] = session.exec(select(OutboxMessage)).all()
    assert (message.template, message.body_text, message.attachments) == (
        "appointment_confirmed",
        "",
        [],
    )
    assert message.payload == {
        "appointment_id": appointment.id,
        "starts_at": appointment.starts_at.isoformat(),
    }
    assert message.subject == "Rendez-vous confirmé"  # what « Messages » shows until sent


def queue_committed(engine, starts_at, email):
    """A booked appointment, its confirmation queued and committed: (appointment, message id)."""
    with Session(engine, expire_on_commit=False) as session:
        appointment = make_appointment(session, starts_at=starts_at, email=email)
        queue_confirmation(session=session, appointment=appointment)
        session.commit()
        [message_id] = session.exec(select(OutboxMessage.id)).all()
        return appointment, message_id


def test_the_worker_writes_the_confirmation_of_the_appointment_as_it_is_when_sending(
    committed_engine, smtp_server
):
    appointment, message_id = queue_committed(
        committed_engine, datetime(2027, 7, 6, 8, 30, tzinfo=UTC), "noe@exemple.fr"
    )
    moved_to = datetime(2027, 7, 7, 12, 0, tzinfo=UTC)
    with Session(committed_engine) as session:  # moved before the worker's pass
        moved = session.get(type(appointment), appointment.id)
        moved.starts_at, moved.ends_at = moved_to, moved_to + timedelta(hours=1)
        moved.blocks_until, moved.ics_sequence = moved.ends_at, 1
        session.add(moved)
        session.commit()
    try:
        assert deliver_due(engine=committed_engine, transport=transport_from_settings()).sent == 1
        [email] = smtp_server.messages
        assert "7 juillet 2027 à 14 h 00" in email["Subject"]
        [part] = list(email.iter_attachments())
        [event] = Calendar.from_ical(part.get_payload(decode=True)).walk("VEVENT")
        assert (event.decoded("DTSTART"), event["SEQUENCE"]) == (moved_to, 1)
        with Session(committed_engine) as session:  # kept, so that a retry sends the same
            kept = session.get(OutboxMessage, message_id)
            assert kept.subject == email["Subject"]
            sent_text = email.get_body(("plain",)).get_content().replace("\r\n", "\n")
            assert kept.body_text == sent_text
            assert len(kept.attachments) == 1
    finally:
        with committed_engine.begin() as conn:
            conn.execute(delete(OutboxMessage))


def test_the_confirmation_of_an_appointment_cancelled_since_is_not_sent(
    committed_engine, smtp_server
):
    appointment, message_id = queue_committed(
        committed_engine, NOW + timedelta(days=5), "ana@exemple.fr"
    )
    with Session(committed_engine) as session:
        cancelled = session.get(type(appointment), appointment.id)
        cancelled.status = "cancelled"
        session.add(cancelled)
        session.commit()
    try:
        report = deliver_due(engine=committed_engine, transport=transport_from_settings())
        assert (report.sent, report.failed, smtp_server.messages) == (0, 1, [])
        with Session(committed_engine) as session:
            message = session.get(OutboxMessage, message_id)
            assert message.status == "failed" and message.body_text == ""
            assert message.last_error.startswith("Rendez-vous annulé entre-temps")
    finally:
        with committed_engine.begin() as conn:
            conn.execute(delete(OutboxMessage))


def first_attempt_deferred(engine, smtp_server, message_id) -> datetime:
    """The confirmation's first attempt written, then refused for now by the server: when
    the worker tries it again."""
    smtp_server.fail_next("451 4.3.0 Try again later")
    report = deliver_due(engine=engine, transport=transport_from_settings())
    assert (report.sent, report.retried, smtp_server.messages) == (0, 1, [])
    with Session(engine) as session:
        message = session.get(OutboxMessage, message_id)
        assert message.body_text  # written on the first attempt
        return message.next_attempt_at


def test_a_confirmation_whose_appointment_is_cancelled_before_its_retry_is_not_sent(
    committed_engine, smtp_server
):
    appointment, message_id = queue_committed(
        committed_engine, NOW + timedelta(days=5), "ines@exemple.fr"
    )
    try:
        retry_at = first_attempt_deferred(committed_engine, smtp_server, message_id)
        with Session(committed_engine) as session:
            cancelled = session.get(type(appointment), appointment.id)
            cancelled.status = "cancelled"
            session.add(cancelled)
            session.commit()

        report = deliver_due(
            engine=committed_engine, transport=transport_from_settings(), now=retry_at
        )

        assert (report.sent, report.failed, smtp_server.messages) == (0, 1, [])
        with Session(committed_engine) as session:
            message = session.get(OutboxMessage, message_id)
            assert message.status == "failed"
            assert message.last_error.startswith("Rendez-vous annulé entre-temps")
    finally:
        with committed_engine.begin() as conn:
            conn.execute(delete(OutboxMessage))


def test_a_confirmation_whose_appointment_moves_before_its_retry_says_the_new_time(
    committed_engine, smtp_server
):
    appointment, message_id = queue_committed(
        committed_engine, datetime(2027, 7, 6, 8, 30, tzinfo=UTC), "noa@exemple.fr"
    )
    moved_to = datetime(2027, 7, 8, 12, 0, tzinfo=UTC)
    try:
        retry_at = first_attempt_deferred(committed_engine, smtp_server, message_id)
        with Session(committed_engine) as session:
            moved = session.get(type(appointment), appointment.id)
            moved.starts_at, moved.ends_at = moved_to, moved_to + timedelta(hours=1)
            moved.blocks_until, moved.ics_sequence = moved.ends_at, 1
            session.add(moved)
            session.commit()

        report = deliver_due(
            engine=committed_engine, transport=transport_from_settings(), now=retry_at
        )

        assert report.sent == 1
        [email] = smtp_server.messages
        assert "8 juillet 2027 à 14 h 00" in email["Subject"]
        assert "6 juillet" not in email["Subject"] + body(email)
        [part] = list(email.iter_attachments())
        [event] = Calendar.from_ical(part.get_payload(decode=True)).walk("VEVENT")
        assert (event.decoded("DTSTART"), event["SEQUENCE"]) == (moved_to, 1)
    finally:
        with committed_engine.begin() as conn:
            conn.execute(delete(OutboxMessage))


def test_a_retry_of_a_confirmation_whose_appointment_did_not_change_sends_the_same(
    committed_engine, smtp_server
):
    _appointment, message_id = queue_committed(
        committed_engine, datetime(2027, 7, 6, 8, 30, tzinfo=UTC), "leo@exemple.fr"
    )
    try:
        retry_at = first_attempt_deferred(committed_engine, smtp_server, message_id)
        with Session(committed_engine) as session:
            written = session.get(OutboxMessage, message_id).body_text

        report = deliver_due(
            engine=committed_engine, transport=transport_from_settings(), now=retry_at
        )

        assert report.sent == 1
        [email] = smtp_server.messages
        assert body(email) == written  # same words, same signed link
    finally:
        with committed_engine.begin() as conn:
            conn.execute(delete(OutboxMessage))


def test_an_appointment_booked_inside_the_window_gets_no_separate_reminder(session):
    appointment = make_appointment(session, starts_at=NOW + timedelta(hours=24))
    appointment.created_at = appointment.updated_at = NOW - timedelta(hours=1)
    session.add(appointment)
    session.flush()
    assert send_due_reminders(session=session, now=NOW) == 0
    assert outbox_messages(session) == []
    session.refresh(appointment)
    assert appointment.reminder_sent_at == NOW  # claimed, so later passes skip it
