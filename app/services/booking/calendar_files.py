"""The .ics calendar file (RFC 5545) attached to appointment e-mails: one event whose stable UID
and rising SEQUENCE let calendar apps replace it on a move and mark it cancelled.

Published (iTIP METHOD:PUBLISH), not sent as an invitation: the person has nothing to accept,
and a REQUEST or CANCEL would need her as ATTENDEE and an organizer who reads replies."""

from datetime import UTC, datetime
from email.utils import parseaddr

from icalendar import Calendar, Event, vCalAddress, vText

from app.core.config import get_settings
from app.models.appointments import Appointment, AppointmentStatus, AppointmentType
from app.models.base import utcnow
from app.models.operators import Site
from app.services.booking.video_rooms import joining_note

PRODID = "-//Fil rouge//Rendez-vous CEP//FR"
REMOTE_PLACES = {"phone": "Par téléphone", "video": "En visio"}
# The MIME type of the attached file: the charset keeps accents whole in mail clients, the
# method tells them what to do with it (RFC 6047).
CONTENT_TYPE = "text/calendar; charset=utf-8; method=PUBLISH"
WHAT_TO_BRING = "Pensez à apporter votre CV et, si vous en avez, vos derniers diplômes."


def appointment_place(appointment: Appointment, site: Site | None) -> str:
    """Where it happens, in one line: the site's address, or « Par téléphone » / « En visio »."""
    if appointment.mode in REMOTE_PLACES or site is None:
        return REMOTE_PLACES.get(appointment.mode, "À confirmer")
    street = f"{site.address}, " if site.address else ""
    return f"{site.name}, {street}{site.postcode} {site.city}"


def appointment_ics(
    appointment: Appointment,
    *,
    appointment_type: AppointmentType,
    site: Site | None,
    counsellor_name: str,
    operator_name: str,
    manage_url: str = "",
    stamp: datetime | None = None,
) -> bytes:
    """The calendar file for the appointment as it stands now (cancelled or not)."""
    calendar = Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", "PUBLISH")

    event = Event()
    event.add("uid", appointment.ics_uid)
    event.add("sequence", appointment.ics_sequence)
    event.add("dtstamp", (stamp or utcnow()).astimezone(UTC))
    # UTC times: every calendar app converts them, no VTIMEZONE block needed.
    event.add("dtstart", appointment.starts_at.astimezone(UTC))
    event.add("dtend", appointment.ends_at.astimezone(UTC))
    event.add("summary", f"{appointment_type.name} — {operator_name}")
    # A video room is where it happens: calendar apps offer to join from LOCATION and URL.
    event.add("location", appointment.video_url or appointment_place(appointment, site))
    if appointment.video_url:
        event.add("url", appointment.video_url)
    event.add("description", _description(appointment, counsellor_name, manage_url))
    cancelled = appointment.status == AppointmentStatus.CANCELLED
    event.add("status", "CANCELLED" if cancelled else "CONFIRMED")
    event.add("transp", "OPAQUE")
    event.add("organizer", _organizer(operator_name))
    calendar.add_component(event)
    return calendar.to_ical()


def _description(appointment: Appointment, counsellor_name: str, manage_url: str) -> str:
    lines = [f"Référence : {appointment.reference}"]
    if joining_note(appointment):
        lines.append(joining_note(appointment))
    if counsellor_name:
        lines.append(f"Conseiller·ère : {counsellor_name}")
    lines.append(WHAT_TO_BRING)
    if manage_url:
        lines.append(f"Annuler ou déplacer le rendez-vous : {manage_url}")
    return "\n".join(lines)


def _organizer(operator_name: str) -> vCalAddress:
    _name, address = parseaddr(get_settings().mail_sender)
    organizer = vCalAddress(f"mailto:{address}")
    organizer.params["cn"] = vText(operator_name)
    return organizer
