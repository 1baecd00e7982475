"""The waiting list's SMS, written by the worker when it sends them (its link as a short link),
and the signed links they and the e-mails carry: to leave the list, to answer an offer."""

from datetime import datetime, timedelta

from sqlmodel import Session

from app.core.config import get_settings
from app.core.dates import to_local
from app.core.security import create_link_token
from app.models.appointments import Appointment
from app.models.operators import Operator
from app.models.outbox import OutboxMessage
from app.models.waiting_list import OfferOutcome, WaitingListEntry, WaitingListOffer
from app.services.booking.details import LINK_GRACE, appointment_details
from app.services.messaging.mail import DeliveryError
from app.services.messaging.short_links import shorten
from app.services.messaging.sms_text import fit_sms

LEAVE_PURPOSE = "waiting_list"
LEAVE_LINK_LIFETIME = timedelta(days=365)
OFFER_PURPOSE = "waiting_offer"

JOINED = "waiting_list_joined"
OFFERED = "waiting_list_offer"
SUBJECTS = {
    JOINED: "SMS : inscription sur la liste d'attente",
    OFFERED: "SMS : place libérée proposée",
}
_WEEKDAYS = ("lun.", "mar.", "mer.", "jeu.", "ven.", "sam.", "dim.")


def _base() -> str:
    return get_settings().public_base_url.rstrip("/")


def leave_link(entry: WaitingListEntry) -> str:
    token = create_link_token(
        purpose=LEAVE_PURPOSE, subject_id=entry.id, lifetime=LEAVE_LINK_LIFETIME
    )
    return f"{_base()}/rendez-vous/liste-attente/quitter/{token}"


def offer_link(offer: WaitingListOffer, appointment: Appointment) -> str:
    """Valid until a day after the slot: a late click is told kindly what became of it."""
    lifetime = appointment.ends_at + LINK_GRACE - offer.offered_at
    token = create_link_token(purpose=OFFER_PURPOSE, subject_id=offer.id, lifetime=lifetime)
    return f"{_base()}/rendez-vous/place-liberee/{token}"


def write_waiting_list_sms(*, session: Session, message: OutboxMessage) -> str:
    data = message.payload or {}
    if message.template == JOINED:
        entry = session.get(WaitingListEntry, data.get("entry_id"))
        if entry is None:
            raise DeliveryError("Inscription introuvable : SMS sans objet.", permanent=True)
        link = shorten(
            session=session,
            link=leave_link(entry),
            expires_at=entry.created_at + LEAVE_LINK_LIFETIME,
            operator_id=entry.operator_id,
        )
        operator = session.get(Operator, entry.operator_id)
        tail = (
            " : vous êtes sur la liste d'attente, nous vous préviendrons si une place se "
            f"libère. Quitter la liste : {link}"
        )
        return fit_sms("", operator.name, tail)
    offer = session.get(WaitingListOffer, data.get("offer_id"))
    if offer is None or offer.outcome != OfferOutcome.PENDING or offer.appointment_id is None:
        raise DeliveryError("Proposition close entre-temps : SMS sans objet.", permanent=True)
    appointment = session.get(Appointment, offer.appointment_id)
    details = appointment_details(session=session, appointment=appointment)
    link = shorten(
        session=session,
        link=offer_link(offer, appointment),
        expires_at=appointment.ends_at + LINK_GRACE,
        operator_id=offer.operator_id,
    )
    lead = f"Place libérée : RDV le {_short(appointment.starts_at, details.time_zone)}, "
    until = to_local(offer.expires_at, details.time_zone)
    return fit_sms(
        lead, details.place, f". Répondez avant le {until:%d/%m} à {until:%Hh%M} : {link}"
    )


def _short(moment: datetime, zone: str) -> str:
    local = to_local(moment, zone)
    return f"{_WEEKDAYS[local.weekday()]} {local:%d/%m} à {local:%Hh%M}"
