"""The appointment SMS, written by the worker when it sends them: one SMS each (160 GSM-7
characters), the place shortened when needed, the link to cancel or move (or to book again
after a cancellation) as a short link.

Each notice says the time the event was about (kept in its payload when it was queued). The
confirmation says the appointment as it is when sent, like its e-mail: its facts are read on
every attempt (appointment_facts), and a retry after a move writes it again."""

from datetime import datetime

from sqlmodel import Session

from app.core.dates import to_local
from app.models.appointments import Appointment, AppointmentStatus
from app.models.outbox import OutboxMessage
from app.services.booking.details import (
    LINK_GRACE,
    AppointmentDetails,
    appointment_details,
    manage_link,
)
from app.services.booking.rebooking import short_rebook_link
from app.services.messaging.mail import DeliveryError
from app.services.messaging.short_links import shorten
from app.services.messaging.sms_text import fit_sms

CONFIRMED = "appointment_confirmed"
CANCELLED = "appointment_cancelled"
MOVED = "appointment_moved"
PLACE_CHANGED = "appointment_place_changed"
REMINDER = "appointment_reminder"

SUBJECTS = {
    CONFIRMED: "SMS : rendez-vous confirmé",
    CANCELLED: "SMS : rendez-vous annulé",
    MOVED: "SMS : rendez-vous déplacé",
    PLACE_CHANGED: "SMS : changement de lieu du rendez-vous",
    REMINDER: "SMS : rappel de rendez-vous",
}
_WEEKDAYS = ("lun.", "mar.", "mer.", "jeu.", "ven.", "sam.", "dim.")


def payload(appointment: Appointment, **facts: str) -> dict:
    """What an appointment SMS needs from the moment it is queued."""
    return {
        "appointment_id": appointment.id,
        "starts_at": appointment.starts_at.isoformat(),
        **facts,
    }


def appointment_facts(*, session: Session, message: OutboxMessage) -> dict | None:
    """Read on every attempt, first or retry (one query by primary key): DeliveryError when
    there is nothing left to say; for a confirmation, what its text says of the appointment
    (written again when they differ from those it was written from)."""
    appointment = appointment_to_tell(session, message)
    # Held for the writer that may follow in this session, which then finds it there rather
    # than reads it again (the identity map keeps only the objects still referenced).
    session.info["appointment_to_tell"] = appointment
    return _facts(message, appointment)


def appointment_to_tell(session: Session, message: OutboxMessage) -> Appointment:
    appointment = session.get(Appointment, (message.payload or {}).get("appointment_id"))
    if appointment is None:
        raise DeliveryError("Rendez-vous introuvable : message sans objet.", permanent=True)
    if message.template == REMINDER and appointment.status != AppointmentStatus.BOOKED:
        raise DeliveryError("Rendez-vous annulé entre-temps : rappel sans objet.", permanent=True)
    if message.template == CONFIRMED and appointment.status == AppointmentStatus.CANCELLED:
        raise DeliveryError(
            "Rendez-vous annulé entre-temps : confirmation sans objet.", permanent=True
        )
    return appointment


def _facts(message: OutboxMessage, appointment: Appointment) -> dict | None:
    if message.template != CONFIRMED:
        return None  # a notice says the time it was about, whatever happened since
    return {
        "starts_at": appointment.starts_at.isoformat(),
        "ics_sequence": appointment.ics_sequence,
        "mode": appointment.mode,
        "site_id": appointment.site_id,
    }


def write_appointment_sms(*, session: Session, message: OutboxMessage) -> str:
    appointment = appointment_to_tell(session, message)
    details = appointment_details(session=session, appointment=appointment)
    if message.template == CONFIRMED:
        when = _when(details, appointment.starts_at)
    else:
        when = _when(details, datetime.fromisoformat(message.payload["starts_at"]))
    if message.template == CANCELLED:
        rebook = short_rebook_link(session=session, details=details)
        tail = f" : votre RDV du {when} est annulé. Reprendre RDV : {rebook}"
        return fit_sms("", details.operator.name, tail)
    link = _short_manage_link(session, appointment)
    lead = {
        CONFIRMED: f"RDV confirmé le {when}, ",
        REMINDER: f"Rappel : RDV le {when}, ",
        MOVED: f"RDV déplacé au {when}, ",
        PLACE_CHANGED: f"RDV du {when} : nouveau lieu, ",
    }[message.template]
    return fit_sms(lead, details.place, f". Annuler ou déplacer : {link}")


def _when(details: AppointmentDetails, moment: datetime) -> str:
    """« jeu. 04/03 à 14h00 » in the site's time zone."""
    local = to_local(moment, details.time_zone)
    return f"{_WEEKDAYS[local.weekday()]} {local:%d/%m} à {local:%Hh%M}"


def _short_manage_link(session: Session, appointment: Appointment) -> str:
    return shorten(
        session=session,
        link=manage_link(appointment),
        expires_at=appointment.ends_at + LINK_GRACE,
        operator_id=appointment.operator_id,
    )
