"""The SMS telling a person without an e-mail address that a document is shared with them,
written by the worker when it sends it: the short link was made with the request."""

from sqlmodel import Session

from app.models.beneficiaries import Beneficiary
from app.models.outbox import OutboxMessage
from app.services.messaging.mail import DeliveryError
from app.services.messaging.sms_text import fit_sms

DOCUMENT_SHARED = "document_shared"
SUBJECTS = {DOCUMENT_SHARED: "SMS : document transmis"}


def payload(person: Beneficiary, short_link: str) -> dict:
    return {"beneficiary_id": person.id, "link": short_link}


def write_document_sms(*, session: Session, message: OutboxMessage) -> str:
    """« Zoé, un document de votre conseil en évolution professionnelle vous attend :
    https://…/s/… »"""
    data = message.payload or {}
    person = session.get(Beneficiary, data.get("beneficiary_id"))
    if person is None or person.anonymised_at is not None:
        raise DeliveryError("Personne anonymisée entre-temps : SMS sans objet.", permanent=True)
    tail = (
        f", un document de votre conseil en évolution professionnelle vous attend : {data['link']}"
    )
    return fit_sms("", person.first_name, tail)
