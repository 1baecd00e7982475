"""The appointment SMS, written by the worker when it sends them: one SMS each (160 GSM-7
characters), the place shortened when needed, the link to cancel or move (or to book again
after a cancellation) as a short link.

Each SMS says the time the event was about (kept in its payload when it was queued): a
confirmation sent after a move still confirms the time that was booked."""

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


def write_appointment_sms(*, session: Session, message: OutboxMessage) -> str:
    data = message.payload or {}
    appointment = session.get(Appointment, data.get("appointment_id"))
    if appointment is None:
        raise DeliveryError("Rendez-vous introuvable : SMS sans objet.", permanent=True)
    if message.template == REMINDER and appointment.status != AppointmentStatus.BOOKED:
        raise DeliveryError("Rendez-vous annulé entre-temps : rappel sans objet.", permanent=True)
    if message.template == CONFIRMED and appointment.status == AppointmentStatus.CANCELLED:
        raise DeliveryError(
            "Rendez-vous annulé entre-temps : confirmation sans objet.", permanent=True
        )
    details = appointment_details(session=session, appointment=appointment)
    when = _when(details, datetime.fromisoformat(data["starts_at"]))
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
