"""The words of the appointment e-mails, and the confirmation as the worker writes it when it
sends it (write_appointment_email): the booking request only queues a row naming it, so that it
renders neither text nor .ics.

Written at send time from the appointment as it is then, and checked again on every retry
(sms_texts.appointment_facts): a confirmation whose appointment was cancelled meanwhile is not
sent (its cancellation notice says what there is to say), one whose appointment moved is
written again with the new time and .ics."""

import base64

from sqlmodel import Session

from app.models.outbox import OutboxMessage
from app.services.booking.calendar_files import CONTENT_TYPE as ICS_CONTENT_TYPE
from app.services.booking.calendar_files import appointment_ics
from app.services.booking.details import AppointmentDetails, appointment_details, manage_link
from app.services.booking.sms_texts import CONFIRMED, appointment_to_tell
from app.services.booking.video_rooms import joining_note
from app.services.messaging.mail import WrittenEmail
from app.services.personal_space.links import space_footer

# What « Messages » shows of a confirmation until the worker has written it.
SUBJECTS = {CONFIRMED: "Rendez-vous confirmé"}


def write_appointment_email(*, session: Session, message: OutboxMessage) -> WrittenEmail:
    appointment = appointment_to_tell(session, message)
    return confirmation(appointment_details(session=session, appointment=appointment))


def confirmation(details: AppointmentDetails) -> WrittenEmail:
    """« Votre rendez-vous est confirmé », with the .ics."""
    link = manage_link(details.appointment)
    text = (
        f"{greeting(details)}"
        f"Votre rendez-vous « {details.appointment_type.name} » est confirmé.\n\n"
        f"{summary(details)}\n"
        "Pensez à apporter votre CV et, si vous en avez, vos derniers diplômes.\n\n"
        "Pour annuler ou déplacer ce rendez-vous :\n"
        f"{link}\n\n"
        "Le fichier joint ajoute le rendez-vous à votre agenda.\n"
        f"{signature(details)}"
    )
    return WrittenEmail(
        subject=f"Rendez-vous confirmé le {details.when()}",
        text=text,
        attachments=[calendar_attachment(details, link)],
    )


# ---------- Pieces (the notices of app/services/booking/messages.py use them too) ----------


def greeting(details: AppointmentDetails) -> str:
    b = details.beneficiary
    return f"Bonjour {b.first_name} {b.last_name},\n\n"


def summary(details: AppointmentDetails) -> str:
    a = details.appointment
    lines = [
        f"Date : {details.when()} (fin à {details.end_time()})",
        f"Lieu : {details.place}",
    ]
    if a.mode in ("phone", "video"):
        lines.append(joining_note(a))
    if details.site and details.site.accessibility and a.mode == "on_site":
        lines.append(f"Accessibilité : {details.site.accessibility}")
    lines.append(f"Référence : {a.reference}")
    return "\n".join(lines) + "\n"


def signature(details: AppointmentDetails) -> str:
    return f"\n{details.operator.name} — conseil en évolution professionnelle\n{space_footer()}"


def calendar_attachment(details: AppointmentDetails, link: str) -> dict:
    """The .ics as an outbox attachment."""
    ics = appointment_ics(
        details.appointment,
        appointment_type=details.appointment_type,
        site=details.site,
        counsellor_name=details.counsellor_name,
        operator_name=details.operator.name,
        manage_url=link,
    )
    return {
        "filename": "rendez-vous.ics",
        "content_type": ICS_CONTENT_TYPE,
        "content_b64": base64.b64encode(ics).decode(),
    }
