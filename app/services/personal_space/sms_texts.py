"""The SMS carrying a link to the personal space, written by the worker when it sends it: the
short link was made with the request, the person's first name is read at sending time."""

from sqlmodel import Session

from app.models.beneficiaries import Beneficiary
from app.models.outbox import OutboxMessage
from app.services.messaging.mail import DeliveryError
from app.services.messaging.sms_text import fit_sms

SPACE_LINK = "personal_space_link"
SUBJECTS = {SPACE_LINK: "SMS : lien vers l'espace personnel"}


def payload(person: Beneficiary, short_link: str) -> dict:
    return {"beneficiary_id": person.id, "link": short_link}


def write_space_sms(*, session: Session, message: OutboxMessage) -> str:
    """« Espace personnel CEP de Zoé : https://…/s/… »"""
    data = message.payload or {}
    person = session.get(Beneficiary, data.get("beneficiary_id"))
    if person is None or person.anonymised_at is not None:
        raise DeliveryError("Personne anonymisée entre-temps : SMS sans objet.", permanent=True)
    return fit_sms("Espace personnel CEP de ", person.first_name, f" : {data['link']}")
