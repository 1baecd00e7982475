"""Which function writes each kind of e-mail the worker writes when it sends it
(OutboxMessage.template on an e-mail), and the writing itself: once, on the first attempt, kept
in the row so that every retry sends the same words, link and .ics."""

from collections.abc import Callable

from sqlalchemy import update
from sqlalchemy.engine import Engine
from sqlmodel import Session, col

from app.models.outbox import MessageStatus, OutboxMessage
from app.services.booking import email_texts as appointment_mail
from app.services.messaging.mail import DeliveryError, WrittenEmail

Writer = Callable[..., WrittenEmail]

WRITERS: dict[str, Writer] = {
    template: appointment_mail.write_appointment_email for template in appointment_mail.SUBJECTS
}


def write_email(*, session: Session, message: OutboxMessage) -> None:
    """Fill the message's subject, text and attachments; DeliveryError(permanent) when there
    is nothing left to say."""
    writer = WRITERS.get(message.template)
    if writer is None:
        raise DeliveryError(f"Modèle d'e-mail inconnu : {message.template!r}", permanent=True)
    try:
        written = writer(session=session, message=message)
    except (KeyError, ValueError, TypeError) as exc:
        raise DeliveryError(f"E-mail impossible à écrire : {exc}", permanent=True) from exc
    message.subject = written.subject[:300]
    message.body_text = written.text
    message.attachments = written.attachments


def write_email_once(engine: Engine, message: OutboxMessage) -> None:
    """For the worker, on the message it claimed: written in a transaction of its own and
    kept while its lease holds (the same guard as the outcome's, see outbox._finish)."""
    if not message.template or message.body_text:
        return
    with Session(engine, expire_on_commit=False) as session, session.begin():
        write_email(session=session, message=message)
        session.exec(
            update(OutboxMessage)
            .where(
                col(OutboxMessage.id) == message.id,
                OutboxMessage.status == MessageStatus.SENDING.value,
                col(OutboxMessage.lease_until) == message.lease_until,
            )
            .values(
                subject=message.subject,
                body_text=message.body_text,
                attachments=message.attachments,
            )
            .execution_options(synchronize_session=False)
        )
