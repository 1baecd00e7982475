"""The message outbox: write messages inside the caller's transaction; the worker delivers them.

SMS go through the same rows, claims, leases and retries (channel "sms"); what differs is in
app/services/messaging/sms_delivery.py: the worker writes their text, then hands them to
the SMS gateway. An e-mail may be written by the worker too (a `template`, see
app/services/messaging/email_templates.py): on its first attempt, then kept for the retries
unless what it says changed meanwhile (checked on every attempt).

Delivery claims each message in its own committed transaction (a lease), sends it outside
any transaction, then records the outcome. A worker that dies before the SMTP server has
accepted a message leaves a lease that runs out, and another pass sends the message then.
Only a death between the server's acceptance and the "sent" commit sends it twice, with
the same Message-ID so that mail systems can drop the copy.

A live worker is never overtaken: the SMTP exchange of one message (connecting included)
must end by the lease minus one SMTP timeout, which leaves that timeout to record the outcome.
"""

import logging
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import NamedTuple

from sqlalchemy import and_, or_, update
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from app.core.config import Settings, get_settings
from app.core.errors import Conflict, Forbidden
from app.models.base import utcnow
from app.models.cases import Case
from app.models.nomenclatures import Role
from app.models.outbox import Channel, MessageStatus, OutboxMessage
from app.models.staff import StaffUser
from app.services.access.scope import load_owned, operator_of, owned_by
from app.services.messaging.email_templates import write_email_for_attempt
from app.services.messaging.mail import DeliveryError, Transport, build_email
from app.services.messaging.sms import SmsTransport, sms_transport_from_settings
from app.services.messaging.sms_delivery import hand_over_sms

log = logging.getLogger(__name__)

BACKOFF_FIRST = timedelta(minutes=1)
BACKOFF_MAX = timedelta(hours=6)
SUPERVISOR_ROLES = frozenset({Role.MANAGER, Role.OPERATOR_ADMIN})


def new_message_id() -> str:
    return f"<{secrets.token_hex(16)}@filrouge>"


def queue_email(
    *,
    session: Session,
    recipient: str,
    subject: str,
    text: str,
    html: str | None = None,
    operator_id: int | None = None,
    case_id: int | None = None,
    attachments: list[dict] | None = None,
) -> OutboxMessage:
    """Queue an e-mail; it is sent only if the caller's transaction commits."""
    message = OutboxMessage(
        operator_id=operator_id,
        case_id=case_id,
        recipient=recipient,
        subject=subject,
        body_text=text,
        body_html=html,
        attachments=attachments or [],
        message_id=new_message_id(),
    )
    session.add(message)
    session.flush()
    # The row, not its recipient: the message's page shows whom it is for to those allowed.
    log.debug("outbox message %d queued", message.id, extra={"outbox_id": message.id})
    return message


def queue_written_email(
    *,
    session: Session,
    recipient: str,
    template: str,
    payload: dict,
    subject: str,
    operator_id: int | None = None,
    case_id: int | None = None,
) -> OutboxMessage:
    """Queue an e-mail the worker writes when it sends it, from `template` and `payload`
    (app/services/messaging/email_templates.py): the request inserts a row and renders
    nothing. `subject` is what « Messages » shows of it until then."""
    return _queue_unwritten(
        session, Channel.EMAIL, new_message_id(), recipient, template, payload, subject,
        operator_id, case_id,
    )  # fmt: skip


def queue_sms(
    *,
    session: Session,
    recipient: str,
    template: str,
    payload: dict,
    subject: str,
    operator_id: int | None = None,
    case_id: int | None = None,
) -> OutboxMessage:
    """Queue an SMS to `recipient` (E.164); the worker writes its text from `template` and
    `payload` (app/services/messaging/sms_templates.py), so that the request only inserts a
    row. `subject` is what « Messages » shows of it."""
    return _queue_unwritten(
        session, Channel.SMS, f"sms-{secrets.token_hex(16)}", recipient, template, payload,
        subject, operator_id, case_id,
    )  # fmt: skip


def _queue_unwritten(
    session, channel, message_id, recipient, template, payload, subject, operator_id, case_id
) -> OutboxMessage:
    """A row whose text the worker writes when it sends it (e-mail or SMS alike)."""
    message = OutboxMessage(
        operator_id=operator_id,
        case_id=case_id,
        channel=channel.value,
        recipient=recipient,
        subject=subject,
        body_text="",
        template=template,
        payload=payload,
        message_id=message_id,
    )
    session.add(message)
    session.flush()
    log.debug("outbox %s %d queued", channel.value, message.id, extra={"outbox_id": message.id})
    return message


# ---------- What staff see ----------


class MessageRow(NamedTuple):
    message: OutboxMessage
    case_reference: str | None


def require_supervisor(actor: StaffUser) -> None:
    if actor.role not in SUPERVISOR_ROLES:
        raise Forbidden("Seuls les responsables d'équipe et les administrateurs voient les envois.")


def list_messages(
    *,
    session: Session,
    actor: StaffUser,
    status: MessageStatus | None = None,
    limit: int = 100,
) -> list[MessageRow]:
    """The operator's most recent messages, newest first, with the reference of their case."""
    require_supervisor(actor)
    query = (
        select(OutboxMessage, Case.reference)
        .outerjoin(Case, col(Case.id) == OutboxMessage.case_id)
        .where(owned_by(OutboxMessage, operator_of(actor)))
        .order_by(col(OutboxMessage.created_at).desc(), col(OutboxMessage.id).desc())
        .limit(limit)
    )
    if status is not None:
        query = query.where(OutboxMessage.status == status.value)
    return [MessageRow(message, reference) for message, reference in session.exec(query)]


def case_messages(*, session: Session, actor: StaffUser, case_id: int) -> list[OutboxMessage]:
    """The messages about one case, oldest first (for its timeline)."""
    load_owned(session, Case, case_id, actor)
    query = (
        select(OutboxMessage)
        .where(OutboxMessage.case_id == case_id)
        .order_by(col(OutboxMessage.created_at), col(OutboxMessage.id))
    )
    return list(session.exec(query))


def retry_message(*, session: Session, actor: StaffUser, message_id: int) -> OutboxMessage:
    """Give a failed message a fresh series of attempts (once the address is fixed, say)."""
    require_supervisor(actor)
    message = load_owned(session, OutboxMessage, message_id, actor)
    if message.status != MessageStatus.FAILED:
        raise Conflict("Seul un message en échec peut être renvoyé.")
    message.status = MessageStatus.PENDING.value
    message.attempts = 0
    message.next_attempt_at = utcnow()
    session.add(message)
    session.flush()
    return message


# ---------- Delivery (the worker) ----------


@dataclass
class DeliveryReport:
    sent: int = 0
    retried: int = 0
    failed: int = 0

    def __bool__(self) -> bool:
        return bool(self.sent or self.retried or self.failed)

    def summary(self) -> str:
        return f"{self.sent} envoyé(s), {self.retried} à réessayer, {self.failed} en échec"


def retry_delay(attempts: int) -> timedelta:
    """1 minute after the first attempt, doubling after each one, 6 hours at most."""
    return min(BACKOFF_FIRST * 2 ** min(max(attempts - 1, 0), 20), BACKOFF_MAX)


@dataclass
class Transports:
    email: Transport
    sms: SmsTransport


def deliver_due(
    *,
    engine: Engine,
    transport: Transport,
    sms_transport: SmsTransport | None = None,
    now: datetime | None = None,
    batch_size: int = 50,
    stop: threading.Event | None = None,
) -> DeliveryReport:
    """Send the messages that are due, one claim each; safe with several workers at once.

    SMS go through `sms_transport`, by default the one the settings name. `now` freezes the
    clock (tests); `stop` ends the pass between two messages."""
    clock: Callable[[], datetime] = (lambda: now) if now else utcnow
    settings = get_settings()
    transports = Transports(transport, sms_transport or sms_transport_from_settings(settings))
    report = DeliveryReport(failed=_fail_abandoned(engine, now=clock(), settings=settings))
    try:
        for message_id in _due_ids(engine, now=clock(), settings=settings, limit=batch_size):
            if stop is not None and stop.is_set():
                break
            deadline = time.monotonic() + send_budget(settings)  # the lease starts now
            message = _claim(engine, message_id, now=clock(), settings=settings)
            if message is not None:  # otherwise another worker was quicker
                _deliver(engine, transports, message, deadline, clock, settings, report)
    finally:
        transports.email.close()
        transports.sms.close()
    return report


def send_budget(settings: Settings) -> float:
    """Seconds one message's SMTP exchange may take: its lease, less the time to record it."""
    return settings.outbox_lease_seconds - settings.smtp_timeout_seconds


def _due(now: datetime, settings: Settings):
    """Pending and due, or held by a worker whose lease ran out (it crashed, most likely)."""
    return or_(
        and_(
            OutboxMessage.status == MessageStatus.PENDING.value,
            col(OutboxMessage.next_attempt_at) <= now,
        ),
        and_(
            OutboxMessage.status == MessageStatus.SENDING.value,
            col(OutboxMessage.lease_until) < now,
            col(OutboxMessage.attempts) < settings.outbox_max_attempts,
        ),
    )


def _due_ids(engine: Engine, *, now: datetime, settings: Settings, limit: int) -> list[int]:
    query = (
        select(OutboxMessage.id)
        .where(_due(now, settings))
        .order_by(col(OutboxMessage.next_attempt_at), col(OutboxMessage.id))
        .limit(limit)
    )
    # A plain read: no need for SQLite's write lock.
    with Session(engine.execution_options(sqlite_immediate=False)) as session:
        return [message_id for message_id in session.exec(query) if message_id is not None]


def _claim(
    engine: Engine, message_id: int, *, now: datetime, settings: Settings
) -> OutboxMessage | None:
    """Take the message for this worker; the UPDATE's row count says whether we got it."""
    claim = (
        update(OutboxMessage)
        .where(col(OutboxMessage.id) == message_id, _due(now, settings))
        .values(
            status=MessageStatus.SENDING.value,
            lease_until=now + timedelta(seconds=settings.outbox_lease_seconds),
            # Counted before sending, so that a message that kills the worker runs out too.
            attempts=col(OutboxMessage.attempts) + 1,
        )
        .execution_options(synchronize_session=False)
    )
    with Session(engine, expire_on_commit=False) as session, session.begin():
        if session.exec(claim).rowcount != 1:
            return None
        return session.get(OutboxMessage, message_id)


def _deliver(
    engine: Engine,
    transports: Transports,
    message: OutboxMessage,
    deadline: float,
    clock: Callable[[], datetime],
    settings: Settings,
    report: DeliveryReport,
) -> None:
    try:
        recorded = _hand_over(engine, transports, message, deadline, settings)
    except DeliveryError as error:
        _record_failure(engine, message, error, now=clock(), settings=settings, report=report)
        return
    except Exception as exc:  # a bug in a transport must not hold the rest of the batch
        log.exception("unexpected error while sending outbox message %s", message.id)
        error = DeliveryError(f"{type(exc).__name__} : {exc}")
        _record_failure(engine, message, error, now=clock(), settings=settings, report=report)
        return
    _finish(
        engine, message, status=MessageStatus.SENT.value, sent_at=clock(), last_error="", **recorded
    )
    log.debug("outbox message %d sent", message.id, extra={"outbox_id": message.id})
    report.sent += 1


def _hand_over(
    engine: Engine,
    transports: Transports,
    message: OutboxMessage,
    deadline: float,
    settings: Settings,
) -> dict:
    """Send the message; returns what to record with its « sent » (the gateway's id)."""
    if message.is_sms:
        return hand_over_sms(engine, transports.sms, message, deadline=deadline)
    write_email_for_attempt(engine, message)
    transports.email.send(build_email(message, sender=settings.mail_sender), deadline=deadline)
    return {}


def _record_failure(
    engine: Engine,
    message: OutboxMessage,
    error: DeliveryError,
    *,
    now: datetime,
    settings: Settings,
    report: DeliveryReport,
) -> None:
    reason = error.reason[:1000]
    # Without the reason: an SMTP server's refusal quotes the address (the messages' page
    # shows it to those allowed).
    fields = {"outbox_id": message.id, "attempts": message.attempts}
    if error.permanent or message.attempts >= settings.outbox_max_attempts:
        _finish(engine, message, status=MessageStatus.FAILED.value, last_error=reason)
        log.warning("outbox message %d failed for good", message.id, extra=fields)
        report.failed += 1
        return
    _finish(
        engine,
        message,
        status=MessageStatus.PENDING.value,
        next_attempt_at=now + retry_delay(message.attempts),
        last_error=reason,
    )
    log.warning("outbox message %d not delivered, to be tried again", message.id, extra=fields)
    report.retried += 1


def _finish(engine: Engine, message: OutboxMessage, **values) -> None:
    """Record the outcome, unless our lease ran out and another worker took the message."""
    still_ours = (
        update(OutboxMessage)
        .where(
            col(OutboxMessage.id) == message.id,
            OutboxMessage.status == MessageStatus.SENDING.value,
            col(OutboxMessage.lease_until) == message.lease_until,
        )
        .values(lease_until=None, **values)
        .execution_options(synchronize_session=False)
    )
    with Session(engine) as session, session.begin():
        session.exec(still_ours)


def _fail_abandoned(engine: Engine, *, now: datetime, settings: Settings) -> int:
    """Give up on messages whose every attempt ended with the worker dying."""
    give_up = (
        update(OutboxMessage)
        .where(
            OutboxMessage.status == MessageStatus.SENDING.value,
            col(OutboxMessage.lease_until) < now,
            col(OutboxMessage.attempts) >= settings.outbox_max_attempts,
        )
        .values(
            status=MessageStatus.FAILED.value,
            lease_until=None,
            last_error="Envoi interrompu à chaque tentative (arrêt du processus d'envoi).",
        )
        .execution_options(synchronize_session=False)
    )
    with Session(engine) as session, session.begin():
        return session.exec(give_up).rowcount
