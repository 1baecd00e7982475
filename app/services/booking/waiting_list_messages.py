"""What a person on the waiting list receives, through the outbox: the confirmation that they
are on it (with the link to leave it), and each slot offered to them (with the link to accept
or decline it). By e-mail, and by SMS to a mobile number not opted out; the worker writes the
SMS (waiting_list_sms.py), its link as a short link."""

from sqlmodel import Session

from app.core.dates import format_datetime
from app.models.appointments import Appointment, AppointmentType
from app.models.beneficiaries import Beneficiary
from app.models.operators import Operator
from app.models.waiting_list import WaitingListEntry, WaitingListOffer
from app.services.booking.details import appointment_details
from app.services.booking.waiting_list_sms import (
    JOINED,
    OFFERED,
    SUBJECTS,
    leave_link,
    offer_link,
)
from app.services.messaging.outbox import queue_email, queue_sms
from app.services.messaging.sms import may_get_sms, mobile_number


def queue_joined(*, session: Session, entry: WaitingListEntry) -> None:
    person = session.get(Beneficiary, entry.beneficiary_id)
    operator = session.get(Operator, entry.operator_id)
    kind = session.get(AppointmentType, entry.appointment_type_id)
    if person.email:
        text = (
            f"Bonjour {person.first_name} {person.last_name},\n\n"
            f"Vous êtes inscrit·e sur la liste d'attente pour « {kind.name} ». Dès qu'un "
            "créneau correspondant à vos disponibilités se libère, nous vous le proposons par "
            "message ; vous aurez alors un temps limité pour l'accepter.\n\n"
            f"Pour quitter la liste d'attente :\n{leave_link(entry)}\n\n"
            f"{operator.name} — conseil en évolution professionnelle\n"
        )
        queue_email(
            session=session,
            recipient=person.email,
            subject="Vous êtes sur la liste d'attente",
            text=text,
            operator_id=entry.operator_id,
        )
    _queue_sms(session, person, JOINED, {"entry_id": entry.id}, entry.operator_id)


def queue_offer(*, session: Session, offer: WaitingListOffer, appointment: Appointment) -> None:
    details = appointment_details(session=session, appointment=appointment)
    person = details.beneficiary
    deadline = format_datetime(offer.expires_at, details.time_zone)
    if person.email:
        text = (
            f"Bonjour {person.first_name} {person.last_name},\n\n"
            f"Une place s'est libérée pour « {details.appointment_type.name} » :\n"
            f"Date : {details.when()} (fin à {details.end_time()})\n"
            f"Lieu : {details.place}\n\n"
            f"Elle vous est réservée jusqu'au {deadline}. Pour l'accepter, ou nous dire que "
            f"vous n'êtes pas disponible :\n{offer_link(offer, appointment)}\n\n"
            "Sans réponse de votre part, elle sera proposée à la personne suivante.\n\n"
            f"{details.operator.name} — conseil en évolution professionnelle\n"
        )
        queue_email(
            session=session,
            recipient=person.email,
            subject=f"Une place s'est libérée le {details.when()}",
            text=text,
            operator_id=offer.operator_id,
        )
    _queue_sms(session, person, OFFERED, {"offer_id": offer.id}, offer.operator_id)


def _queue_sms(session, person: Beneficiary, template: str, payload: dict, operator_id: int):
    number = mobile_number(person.phone) if may_get_sms(person) else None
    if number is None:
        return
    queue_sms(
        session=session,
        recipient=number,
        template=template,
        payload=payload,
        subject=SUBJECTS[template],
        operator_id=operator_id,
    )
