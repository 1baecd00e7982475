"""The .ics file parsed back with icalendar: stable UID, rising SEQUENCE, UTC times right across
daylight saving and overseas, and the CANCEL method."""

from datetime import UTC, datetime, timedelta

from icalendar import Calendar

from app.services.booking.calendar_files import appointment_ics
from tests.factories import make_appointment, make_operator, make_site


def ics(session, appointment) -> Calendar:
    from app.services.booking.messages import appointment_details

    details = appointment_details(session=session, appointment=appointment)
    data = appointment_ics(
        appointment,
        appointment_type=details.appointment_type,
        site=details.site,
        counsellor_name=details.counsellor_name,
        operator_name=details.operator.name,
        manage_url="https://filrouge.exemple.fr/rendez-vous/gerer/abc",
    )
    return Calendar.from_ical(data)


def event_of(calendar: Calendar):
    [event] = calendar.walk("VEVENT")
    return event


def test_calendar_has_the_required_properties(session):
    appointment = make_appointment(session, starts_at=datetime(2027, 3, 4, 13, 0, tzinfo=UTC))
    calendar = ics(session, appointment)
    assert calendar["VERSION"] == "2.0"
    assert calendar["PRODID"]
    assert calendar["METHOD"] == "PUBLISH"
    event = event_of(calendar)
    assert event["DTSTAMP"]
    assert str(event["STATUS"]) == "CONFIRMED"
    assert str(event["SUMMARY"]).startswith("Premier rendez-vous CEP")
    assert str(event["ORGANIZER"]) == "mailto:ne-pas-repondre@filrouge.localhost"
    assert appointment.reference in str(event["DESCRIPTION"])
    assert "/rendez-vous/gerer/abc" in str(event["DESCRIPTION"])
    assert "10 rue de la Part-Dieu" in str(event["LOCATION"])


def test_uid_stays_and_sequence_rises_when_the_appointment_moves(session):
    appointment = make_appointment(session, starts_at=datetime(2027, 3, 4, 13, 0, tzinfo=UTC))
    first = event_of(ics(session, appointment))
    appointment.starts_at += timedelta(days=2)
    appointment.ends_at += timedelta(days=2)
    appointment.blocks_until += timedelta(days=2)
    appointment.ics_sequence += 1
    second = event_of(ics(session, appointment))
    assert str(first["UID"]) == str(second["UID"]) == appointment.ics_uid
    assert second["SEQUENCE"] > first["SEQUENCE"]
    assert second.decoded("DTSTART") == datetime(2027, 3, 6, 13, 0, tzinfo=UTC)


def test_times_are_utc_on_the_day_summer_time_starts(session):
    # 28 March 2027, Paris goes from UTC+1 to UTC+2 at 2:00: 10:00 local is 8:00 UTC.
    start = datetime(2027, 3, 28, 8, 0, tzinfo=UTC)
    event = event_of(ics(session, make_appointment(session, starts_at=start)))
    assert event.decoded("DTSTART") == start
    assert event.decoded("DTEND") == start + timedelta(hours=1)
    assert event.decoded("DTSTART").tzinfo is not None
    assert "20270328T080000Z" in event.to_ical().decode()


def test_overseas_site_time_is_kept_exactly(session):
    site = make_site(
        session,
        make_operator(session),
        name="Saint-Denis",
        postcode="97400",
        city="Saint-Denis",
        time_zone="Indian/Reunion",
    )
    # 9:00 in La Réunion (UTC+4) is 5:00 UTC.
    start = datetime(2027, 3, 4, 5, 0, tzinfo=UTC)
    event = event_of(ics(session, make_appointment(session, starts_at=start, site=site)))
    assert event.decoded("DTSTART") == start
    assert "97400 Saint-Denis" in str(event["LOCATION"])


def test_a_cancelled_appointment_is_published_cancelled(session):
    appointment = make_appointment(session, starts_at=datetime(2027, 3, 4, 13, 0, tzinfo=UTC))
    appointment.status = "cancelled"
    appointment.ics_sequence = 1
    calendar = ics(session, appointment)
    assert calendar["METHOD"] == "PUBLISH"
    event = event_of(calendar)
    assert str(event["STATUS"]) == "CANCELLED"
    assert event["SEQUENCE"] == 1


def test_video_appointment_is_located_in_visio(session):
    appointment = make_appointment(
        session, starts_at=datetime(2027, 3, 4, 13, 0, tzinfo=UTC), mode="video"
    )
    assert str(event_of(ics(session, appointment))["LOCATION"]) == "En visio"
