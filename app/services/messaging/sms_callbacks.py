"""What the SMS gateway tells us afterwards: a delivery report for an SMS it accepted, or an
SMS a person sent back — « STOP » records their opt-out (app/services/messaging/sms_opt_out.py).

The gateway proves itself with the callback token (FILROUGE_SMS_CALLBACK_TOKEN); without one
configured the route does not exist, and wrong tokens count against the public rate limit."""

import secrets
import unicodedata
from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints
from sqlalchemy import update
from sqlmodel import Session, col

from app.core.config import get_settings
from app.core.errors import Forbidden, NotFound
from app.models.base import utcnow
from app.models.fields import normalise_phone
from app.models.outbox import Channel, MessageStatus, OutboxMessage, SmsDelivery
from app.services.access.rate_limits import check_rate, rate_limit_target
from app.services.messaging.sms_opt_out import record_sms_opt_out

REFUSED_BUCKET = "sms_callback_refused"
_STOP_WORDS = frozenset({"STOP", "STOP SMS", "STOPSMS", "ARRET", "DESINSCRIRE"})


class SmsCallback(BaseModel):
    """One report from the gateway (the README's « SMS » section shows examples)."""

    model_config = ConfigDict(populate_by_name=True, extra="ignore")

    type: Literal["status", "inbound"]
    # For "status": our reference (sent as `reference`), and what became of the SMS.
    reference: Annotated[str, StringConstraints(max_length=200)] = ""
    status: Literal["delivered", "failed"] | None = None
    error: Annotated[str, StringConstraints(max_length=300)] = ""
    # For "inbound": the number that wrote, and what it wrote.
    sender: Annotated[str, StringConstraints(max_length=40)] = Field(default="", alias="from")
    text: Annotated[str, StringConstraints(max_length=1000)] = ""


def check_callback_token(*, session: Session, given: str | None, ip: str | None) -> None:
    """NotFound when no callback token is configured; Forbidden (counted) when it differs."""
    expected = get_settings().sms_callback_token
    if not expected:
        raise NotFound()
    if given is not None and secrets.compare_digest(given.encode(), expected.encode()):
        return
    check_rate(session_or_engine=rate_limit_target(session), bucket=REFUSED_BUCKET, keys=[ip])
    raise Forbidden("Jeton de la passerelle SMS invalide.")


def record_callback(*, session: Session, report: SmsCallback, now: datetime | None = None) -> int:
    """Apply one report; returns how many rows it changed (0 for one about nothing we know,
    or already applied: the gateway may send a report twice)."""
    now = now or utcnow()
    if report.type == "inbound":
        return record_inbound(session=session, sender=report.sender, text=report.text, at=now)
    if report.status is None or not report.reference:
        return 0
    return record_status(
        session=session,
        reference=report.reference,
        delivered=report.status == "delivered",
        error=report.error,
        at=now,
    )


def record_status(
    *, session: Session, reference: str, delivered: bool, error: str, at: datetime
) -> int:
    """The delivery report of an SMS the gateway accepted: delivered, or not (and why)."""
    values: dict = (
        {"delivery": SmsDelivery.DELIVERED.value, "delivered_at": at}
        if delivered
        else {
            "delivery": SmsDelivery.UNDELIVERED.value,
            "last_error": f"Non remis par l'opérateur : {error or 'raison non communiquée'}"[:1000],
        }
    )
    changed = session.exec(
        update(OutboxMessage)
        .where(
            OutboxMessage.message_id == reference,
            OutboxMessage.channel == Channel.SMS.value,
            OutboxMessage.status == MessageStatus.SENT.value,
            # A late « failed » never overrides a « delivered » already reported.
            col(OutboxMessage.delivery) != SmsDelivery.DELIVERED.value,
        )
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    return changed.rowcount


def record_inbound(*, session: Session, sender: str, text: str, at: datetime) -> int:
    """An SMS sent to us: « STOP » (any case, accents, spaces) opts its number out; anything
    else is not read (nobody watches this inbox)."""
    if not is_stop(text):
        return 0
    try:
        number = normalise_phone(sender)
    except ValueError:
        return 0
    return record_sms_opt_out(session=session, number=number, at=at)


def is_stop(text: str) -> bool:
    bare = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return " ".join(bare.upper().replace(".", " ").replace("!", " ").split()) in _STOP_WORDS
