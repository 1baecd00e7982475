"""The calendar part of the appointment e-mails, read back from the MIME message the worker
builds: a published event in UTF-8 whose UID stays and SEQUENCE rises as it changes."""

from datetime import datetime, time, timedelta
from email import message_from_bytes, policy
from zoneinfo import ZoneInfo

import pytest
from icalendar import Calendar

from app.core.config import get_settings
from app.models.appointments import OpeningSlot
from app.models.base import utcnow
from app.services.booking.changes import cancel_appointment, move_appointment
from app.services.booking.messages import queue_confirmation
from app.services.messaging.mail import build_email
from tests.factories import (
    make_appointment,
    make_appointment_type,
    make_operator,
    make_site,
    make_staff,
    outbox_messages,
)

pytestmark = pytest.mark.usefixtures("clock")
PARIS = ZoneInfo("Europe/Paris")


def in_days(days: int, hour: int) -> datetime:
    return datetime.combine(utcnow().date() + timedelta(days=days), time(hour), tzinfo=PARIS)


@pytest.fixture
def appointment(session):
    """Booked in ten days at 9:00 at a site open every morning, for « Réunion d'étape »."""
    operator = make_operator(session)
    site = make_site(session, operator, address="10 rue de la Part-Dieu")
    counsellor = make_staff(session, operator, full_name="Hélène Guérin")
    kind = make_appointment_type(session, operator, name="Réunion d'étape")
    for weekday in range(7):
        session.add(
            OpeningSlot(
                operator_id=operator.id,
                counsellor_id=counsellor.id,
                site_id=site.id,
                weekday=weekday,
                start_time=time(9),
                end_time=time(12),
                valid_from=utcnow().date() - timedelta(days=1),
            )
        )
    return make_appointment(
        session,
        starts_at=in_days(10, 9),
        site=site,
        counsellor=counsellor,
        appointment_type=kind,
        email="ines@exemple.fr",
    )


def calendar_parts(session):
    """Each queued e-mail built as the worker sends it, parsed back: its .ics part."""
    parts = []
    for message in outbox_messages(session):
        raw = build_email(message, sender=get_settings().mail_sender).as_bytes()
        email = message_from_bytes(raw, policy=policy.default)
        [part] = [p for p in email.iter_attachments() if p.get_filename() == "rendez-vous.ics"]
        parts.append(part)
    return parts


def event_of(part):
    calendar = Calendar.from_ical(part.get_content())
    assert calendar["METHOD"] == "PUBLISH"
    [event] = calendar.walk("VEVENT")
    return event


def test_the_calendar_part_is_published_in_utf8(session, appointment):
    queue_confirmation(session=session, appointment=appointment)
    [part] = calendar_parts(session)
    assert part.get_content_type() == "text/calendar"
    assert (part.get_param("charset"), part.get_param("method")) == ("utf-8", "PUBLISH")
    event = event_of(part)  # get_content() decodes with the declared charset
    assert str(event["SUMMARY"]) == "Réunion d'étape — Auvergne-Rhône-Alpes"
    assert "Conseiller·ère : Hélène Guérin" in str(event["DESCRIPTION"])
    assert str(event["ORGANIZER"]).startswith("mailto:")


def test_the_uid_stays_and_the_sequence_grows_through_a_move_and_a_cancellation(
    session, appointment
):
    queue_confirmation(session=session, appointment=appointment)
    calendar_parts(session)  # the worker writes the confirmation before the move
    move_appointment(session=session, appointment_id=appointment.id, start=in_days(11, 10))
    cancel_appointment(session=session, appointment_id=appointment.id)
    events = [event_of(part) for part in calendar_parts(session)]
    assert [str(e["UID"]) for e in events] == [appointment.ics_uid] * 3
    assert [e["SEQUENCE"] for e in events] == [0, 1, 2]
    assert [str(e["STATUS"]) for e in events] == ["CONFIRMED", "CONFIRMED", "CANCELLED"]
    assert events[1].decoded("DTSTART") == in_days(11, 10)
