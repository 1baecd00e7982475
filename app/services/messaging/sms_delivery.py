"""One SMS's way out, in the worker: its text written on first attempt (with its short link)
and kept for the retries unless what it says changed meanwhile (checked on every attempt, as
for the e-mails), the opt-out checked at the last moment, then the gateway."""

from sqlalchemy import update
from sqlalchemy.engine import Engine
from sqlmodel import Session, col

from app.models.outbox import MessageStatus, OutboxMessage
from app.services.messaging.email_templates import facts_now, still_as_written, with_facts
from app.services.messaging.mail import DeliveryError
from app.services.messaging.sms import Sms, SmsTransport, callback_url
from app.services.messaging.sms_opt_out import sms_opted_out
from app.services.messaging.sms_templates import FACTS, write_sms

OPTED_OUT = "Désinscrit des SMS (réponse « STOP ») : non envoyé."


def hand_over_sms(
    engine: Engine, transport: SmsTransport, message: OutboxMessage, *, deadline: float
) -> dict:
    """Send the claimed SMS; returns the values to record with its « sent »."""
    text = _text(engine, message)
    sms = Sms(
        to=message.recipient, text=text, reference=message.message_id, callback_url=callback_url()
    )
    return {"provider_id": transport.send(sms, deadline=deadline)}


def _text(engine: Engine, message: OutboxMessage) -> str:
    """The SMS's text: written in a transaction of its own (its short link is a row), then
    read again by every retry so that the person never gets two different links, unless what
    it says changed since (a confirmation whose appointment moved: the new time wins)."""
    with Session(engine, expire_on_commit=False) as session, session.begin():
        if sms_opted_out(session=session, number=message.recipient):
            raise DeliveryError(OPTED_OUT, permanent=True)
        facts = facts_now(session=session, message=message, facts=FACTS)
        if still_as_written(message, facts):
            return message.body_text
        text = write_sms(session=session, message=message)
        message.payload = with_facts(message, facts)
        session.exec(
            update(OutboxMessage)
            .where(
                col(OutboxMessage.id) == message.id,
                OutboxMessage.status == MessageStatus.SENDING.value,
                col(OutboxMessage.lease_until) == message.lease_until,
            )
            .values(body_text=text, payload=message.payload)
            .execution_options(synchronize_session=False)
        )
    message.body_text = text
    return text
