"""What a beneficiary receives about an appointment, through the outbox: confirmation with a
calendar file, notices of cancellation and move, and the reminder sent before it.

A person who gave a mobile number also gets each of them by SMS, unless they answered STOP:
the request queues a row naming the SMS (app/services/booking/sms_texts.py), the worker writes
it. The confirmation e-mail goes the same way (app/services/booking/email_texts.py): booking
inserts rows and renders no text nor .ics.
"""

from datetime import datetime, timedelta

from sqlalchemy import update
from sqlmodel import Session, col, select

from app.core.config import get_settings
from app.models.appointments import Appointment, AppointmentStatus
from app.models.base import utcnow
from app.models.beneficiaries import Beneficiary
from app.models.consents import ConsentPurpose
from app.services.booking import email_texts, sms_texts
from app.services.booking.details import AppointmentDetails, appointment_details, manage_link
from app.services.booking.email_texts import calendar_attachment, greeting, signature, summary
from app.services.booking.rebooking import rebook_link
from app.services.messaging.outbox import queue_email, queue_sms, queue_written_email
from app.services.messaging.sms import may_get_sms, mobile_number
from app.services.privacy.consents import may_contact

# ---------- The messages ----------


def queue_confirmation(*, session: Session, appointment: Appointment) -> None:
    """« Votre rendez-vous est confirmé », with the .ics (nothing without an e-mail address),
    and its SMS: rows naming them, written by the worker when it sends them
    (app/services/booking/email_texts.py), so that booking renders nothing."""
    beneficiary = session.get(Beneficiary, appointment.beneficiary_id)
    if beneficiary.email:
        queue_written_email(
            session=session,
            recipient=beneficiary.email,
            template=sms_texts.CONFIRMED,
            payload=sms_texts.payload(appointment),
            subject=email_texts.SUBJECTS[sms_texts.CONFIRMED],
            operator_id=appointment.operator_id,
            case_id=appointment.case_id,
        )
    _queue_sms_to(session, beneficiary, appointment, sms_texts.CONFIRMED)


def queue_cancellation(*, session: Session, appointment: Appointment) -> None:
    """The notice that the appointment is cancelled; its .ics removes it from calendars."""
    details = appointment_details(session=session, appointment=appointment)
    text = (
        f"{greeting(details)}"
        f"Votre rendez-vous « {details.appointment_type.name} » du {details.when()} "
        "est annulé.\n\n"
        f"Référence : {appointment.reference}\n\n"
        "Vous pouvez reprendre rendez-vous à tout moment :\n"
        f"{rebook_link(details)}\n"
        f"{signature(details)}"
    )
    _send(session, details, f"Rendez-vous annulé : {details.when()}", text, True, "")
    _queue_sms(session, details, sms_texts.CANCELLED)


def queue_moved(*, session: Session, appointment: Appointment, previous_start: datetime) -> None:
    """The notice of a new time (old → new); its .ics, with a higher SEQUENCE, replaces the
    event in calendars."""
    details = appointment_details(session=session, appointment=appointment)
    link = manage_link(appointment)
    text = (
        f"{greeting(details)}"
        f"Votre rendez-vous « {details.appointment_type.name} » est déplacé :\n"
        f"ancien horaire : {details.when(previous_start)}\n"
        f"nouvel horaire : {details.when()}\n\n"
        f"{summary(details)}\n"
        "Pour annuler ou déplacer à nouveau ce rendez-vous :\n"
        f"{link}\n"
        f"{signature(details)}"
    )
    _send(session, details, f"Rendez-vous déplacé au {details.when()}", text, True, link)
    _queue_sms(session, details, sms_texts.MOVED)


def queue_place_changed(*, session: Session, appointment: Appointment, previous_place: str) -> None:
    """The notice that the appointment keeps its time but changes place (its site closed): at
    another site, or by phone; its .ics, with a higher SEQUENCE, replaces the event."""
    details = appointment_details(session=session, appointment=appointment)
    link = manage_link(appointment)
    text = (
        f"{greeting(details)}"
        f"Votre rendez-vous « {details.appointment_type.name} » du {details.when()} change "
        "de lieu, à la même heure : le site où il devait avoir lieu ferme.\n"
        f"ancien lieu : {previous_place}\n"
        f"nouveau lieu : {details.place}\n\n"
        f"{summary(details)}\n"
        "Pour annuler ou déplacer ce rendez-vous :\n"
        f"{link}\n"
        f"{signature(details)}"
    )
    _send(
        session,
        details,
        f"Rendez-vous du {details.when()} : changement de lieu",
        text,
        True,
        link,
    )
    _queue_sms(session, details, sms_texts.PLACE_CHANGED)


def _may_write(session: Session, details: AppointmentDetails, by: ConsentPurpose) -> bool:
    """A reminder is a courtesy: not by e-mail (or SMS) to a person who withdrew their agreement
    to it (the messages about an appointment they booked or that moved still go)."""
    return may_contact(session=session, person=details.beneficiary, purpose=by)


def queue_reminder(*, session: Session, appointment: Appointment) -> None:
    """The reminder before the appointment, with the link to cancel or move it."""
    details = appointment_details(session=session, appointment=appointment)
    link = manage_link(appointment)
    text = (
        f"{greeting(details)}"
        f"Nous vous rappelons votre rendez-vous « {details.appointment_type.name} ».\n\n"
        f"{summary(details)}\n"
        "Si vous ne pouvez pas venir, prévenez-nous en annulant ou en déplaçant le "
        f"rendez-vous :\n{link}\n"
        f"{signature(details)}"
    )
    if _may_write(session, details, ConsentPurpose.EMAIL):
        _send(session, details, f"Rappel : rendez-vous le {details.when()}", text, False, link)
    if _may_write(session, details, ConsentPurpose.SMS):
        _queue_sms(session, details, sms_texts.REMINDER)


def send_due_reminders(*, session: Session, now: datetime | None = None) -> int:
    """Queue the reminder of each booked appointment starting within `reminder_hours`, once;
    returns how many appointments were reminded (safe with several workers at once)."""
    now = now or utcnow()
    window = timedelta(hours=get_settings().reminder_hours)
    horizon = now + window
    due = select(Appointment.id).where(
        Appointment.status == AppointmentStatus.BOOKED,
        col(Appointment.reminder_sent_at).is_(None),
        col(Appointment.starts_at) > now,
        col(Appointment.starts_at) <= horizon,
    )
    reminded = 0
    for appointment_id in list(session.exec(due)):
        # The conditional UPDATE claims the reminder: another worker's pass finds it taken.
        claim = (
            update(Appointment)
            .where(
                col(Appointment.id) == appointment_id, col(Appointment.reminder_sent_at).is_(None)
            )
            .values(reminder_sent_at=now)
            .execution_options(synchronize_session=False)
        )
        if session.exec(claim).rowcount != 1:
            continue
        appointment = session.get(Appointment, appointment_id)
        session.refresh(appointment)
        if appointment.updated_at > appointment.starts_at - window:
            continue  # booked or moved inside the window: its confirmation was the reminder
        queue_reminder(session=session, appointment=appointment)
        reminded += 1
    return reminded


# ---------- Sending ----------


def _send(
    session: Session,
    details: AppointmentDetails,
    subject: str,
    text: str,
    with_calendar: bool,
    link: str,
) -> None:
    beneficiary = details.beneficiary
    if not beneficiary.email:
        return
    attachments = [calendar_attachment(details, link)] if with_calendar else []
    queue_email(
        session=session,
        recipient=beneficiary.email,
        subject=subject,
        text=text,
        operator_id=details.appointment.operator_id,
        case_id=details.appointment.case_id,
        attachments=attachments,
    )


def _queue_sms(session: Session, details: AppointmentDetails, template: str) -> None:
    _queue_sms_to(session, details.beneficiary, details.appointment, template)


def _queue_sms_to(
    session: Session, beneficiary: Beneficiary, appointment: Appointment, template: str
) -> None:
    """The SMS twin of the e-mail, for a mobile number not opted out; the worker writes it."""
    number = mobile_number(beneficiary.phone) if may_get_sms(beneficiary) else None
    if number is None:
        return
    queue_sms(
        session=session,
        recipient=number,
        template=template,
        payload=sms_texts.payload(appointment),
        subject=sms_texts.SUBJECTS[template],
        operator_id=appointment.operator_id,
        case_id=appointment.case_id,
    )
