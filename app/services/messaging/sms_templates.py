"""Which function writes each kind of SMS (OutboxMessage.template), for the worker."""

from collections.abc import Callable

from sqlmodel import Session

from app.models.outbox import OutboxMessage
from app.services.booking import sms_texts as appointment_sms
from app.services.booking import waiting_list_sms
from app.services.deliverables import sms_texts as document_sms
from app.services.messaging.mail import DeliveryError
from app.services.personal_space import sms_texts as space_sms
from app.services.surveys import sms_texts as survey_sms

Writer = Callable[..., str]
Facts = Callable[..., dict | None]

WRITERS: dict[str, Writer] = {
    **{template: appointment_sms.write_appointment_sms for template in appointment_sms.SUBJECTS},
    **{template: survey_sms.write_survey_sms for template in survey_sms.SUBJECTS},
    **{t: waiting_list_sms.write_waiting_list_sms for t in waiting_list_sms.SUBJECTS},
    **{template: space_sms.write_space_sms for template in space_sms.SUBJECTS},
    **{template: document_sms.write_document_sms for template in document_sms.SUBJECTS},
}
# Read on every attempt (app/services/messaging/sms_delivery.py): dropped or written again.
FACTS: dict[str, Facts] = {
    template: appointment_sms.appointment_facts for template in appointment_sms.SUBJECTS
}


def write_sms(*, session: Session, message: OutboxMessage) -> str:
    """The SMS's text; DeliveryError(permanent) when there is nothing left to say."""
    writer = WRITERS.get(message.template)
    if writer is None:
        raise DeliveryError(f"Modèle de SMS inconnu : {message.template!r}", permanent=True)
    try:
        return writer(session=session, message=message)
    except (KeyError, ValueError, TypeError) as exc:
        raise DeliveryError(f"SMS impossible à écrire : {exc}", permanent=True) from exc
