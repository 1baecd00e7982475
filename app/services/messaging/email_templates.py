"""Which function writes each kind of e-mail the worker writes when it sends it
(OutboxMessage.template on an e-mail), and the writing itself: on the first attempt, kept in
the row so that a retry sends the same words, link and .ics, unless what they say changed
since (FACTS, read on every attempt: a confirmation whose appointment moved is written again,
one whose appointment was cancelled is dropped)."""

from collections.abc import Callable

from sqlalchemy import update
from sqlalchemy.engine import Engine
from sqlmodel import Session, col

from app.models.outbox import MessageStatus, OutboxMessage
from app.services.booking import email_texts as appointment_mail
from app.services.booking import sms_texts as appointment_sms
from app.services.messaging.mail import DeliveryError, WrittenEmail

Writer = Callable[..., WrittenEmail]
Facts = Callable[..., dict | None]

WRITERS: dict[str, Writer] = {
    template: appointment_mail.write_appointment_email for template in appointment_mail.SUBJECTS
}
FACTS: dict[str, Facts] = {
    template: appointment_sms.appointment_facts for template in appointment_mail.SUBJECTS
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


def facts_now(*, session: Session, message: OutboxMessage, facts: dict[str, Facts]) -> dict | None:
    """What the message's text says that may change before it goes (None when nothing does);
    DeliveryError(permanent) when there is nothing left to say. Shared with the SMS."""
    read = facts.get(message.template)
    return read(session=session, message=message) if read else None


def still_as_written(message: OutboxMessage, facts: dict | None) -> bool:
    """Written already, from what is still true (a confirmation written before its facts were
    recorded is written again once)."""
    return bool(message.body_text) and (message.payload or {}).get("written_from") == facts


def with_facts(message: OutboxMessage, facts: dict | None) -> dict | None:
    """The payload recording what the text was written from, when it says anything that may
    change."""
    if facts is None:
        return message.payload
    return {**(message.payload or {}), "written_from": facts}


def write_email_for_attempt(engine: Engine, message: OutboxMessage) -> None:
    """For the worker, on the message it claimed, on every attempt: written (again) in a
    transaction of its own when it is not yet or what it says changed, and kept while its lease
    holds (the same guard as the outcome's, see outbox._finish)."""
    if not message.template:
        return
    with Session(engine, expire_on_commit=False) as session, session.begin():
        facts = facts_now(session=session, message=message, facts=FACTS)
        if still_as_written(message, facts):
            return
        write_email(session=session, message=message)
        message.payload = with_facts(message, facts)
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
                payload=message.payload,
            )
            .execution_options(synchronize_session=False)
        )
