"""Appending to the audit trail, and checking that nobody altered it since.

Each entry carries the SHA-256 of its own fields and of the previous entry's hash: changing,
removing or inserting an entry anywhere breaks the chain from there on. Appends are serialised
by a lock on the chain's one row (`AuditChain`), held until the request commits: the entry's
id, time and previous hash are only taken once it is held, so two requests recording at once
never chain to the same entry. On SQLite the request's BEGIN IMMEDIATE already serialises
them; the entry is then written with the request's other changes, or not at all."""

import hashlib
import json
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import UTC

from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from app.models.audit import MAX_REASON, MAX_USER_AGENT, AuditAction, AuditChain, AuditEvent
from app.models.base import utcnow
from app.models.staff import StaffUser


@dataclass(frozen=True)
class Origin:
    """Where a request came from, as the trail keeps it."""

    ip: str = ""
    user_agent: str = ""


# The request's origin, bound by the web layer (app/web/audit.py) for every request, so that
# a service records it without being handed the request; empty for the worker and the CLI.
_origin: ContextVar[Origin | None] = ContextVar("audit_origin", default=None)


def bind_origin(origin: Origin) -> None:
    _origin.set(origin)


def record(
    session: Session,
    *,
    actor: StaffUser | None,
    action: AuditAction,
    record_type: str = "",
    record_id: int | None = None,
    beneficiary_id: int | None = None,
    operator_id: int | None = None,
    origin: Origin | None = None,
    reason: str | None = None,
) -> AuditEvent:
    """Append one entry (ids and kinds, never content) to the trail, in the session's
    transaction. `operator_id` defaults to the actor's operator, `origin` to the request's."""
    origin = origin or _origin.get() or Origin()
    chain = lock_chain(session)
    event = AuditEvent(
        id=chain.head_id + 1,
        at=utcnow(),
        actor_id=actor.id if actor else None,
        actor_role=actor.role if actor else None,
        action=AuditAction(action).value,
        record_type=record_type,
        record_id=record_id,
        beneficiary_id=beneficiary_id,
        operator_id=operator_id if operator_id is not None or not actor else actor.operator_id,
        ip=origin.ip[:45],
        user_agent=origin.user_agent[:MAX_USER_AGENT],
        reason=reason[:MAX_REASON] if reason else None,
        previous_hash=chain.head_hash,
        hash="",
    )
    event.hash = entry_hash(event)
    chain.head_id, chain.head_hash = event.id, event.hash
    session.add_all([event, chain])
    session.flush()
    return event


def lock_chain(session: Session) -> AuditChain:
    """The chain's row, locked until the transaction ends (read afresh, not from the session's
    identity map, which may hold an older head)."""
    query = select(AuditChain).with_for_update().execution_options(populate_existing=True)
    return session.exec(query).one()


def entry_hash(event: AuditEvent) -> str:
    """SHA-256 of the entry's fields in a canonical form (sorted keys, UTC to the microsecond)."""
    fields = {
        "id": event.id,
        "at": event.at.astimezone(UTC).isoformat(timespec="microseconds"),
        "actor_id": event.actor_id,
        "actor_role": event.actor_role,
        "action": str(event.action),
        "record_type": event.record_type,
        "record_id": event.record_id,
        "beneficiary_id": event.beneficiary_id,
        "operator_id": event.operator_id,
        "ip": event.ip,
        "user_agent": event.user_agent,
        "reason": event.reason,
        "previous_hash": event.previous_hash,
    }
    canonical = json.dumps(fields, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()


@dataclass(frozen=True)
class Verdict:
    """What `verify` found: how many entries it checked, and the first one that breaks the
    chain (None: the chain holds)."""

    checked: int
    broken_id: int | None = None
    problem: str = ""

    @property
    def intact(self) -> bool:
        return self.broken_id is None


def verify(session: Session, *, batch: int = 1000) -> Verdict:
    """Walk the chain from its checkpoint to its head; stop at the first entry that does not
    follow its predecessor or whose hash does not match its fields. Run it on one snapshot
    (`snapshot_engine`), so that a purge or an append meanwhile is not taken for a break."""
    chain = session.exec(select(AuditChain).execution_options(populate_existing=True)).one()
    expected_id, previous = chain.checkpoint_id + 1, chain.checkpoint_hash
    checked = 0
    # Entries appended meanwhile (past the head read above) are for the next verification.
    entries = session.exec(
        select(AuditEvent)
        .where(AuditEvent.id <= chain.head_id)
        .order_by(AuditEvent.id)
        .execution_options(yield_per=batch)
    )
    for event in entries:
        if event.id != expected_id:
            return Verdict(checked, expected_id, "entrée manquante")
        if event.previous_hash != previous:
            return Verdict(checked, event.id, "ne suit pas l'entrée précédente")
        if entry_hash(event) != event.hash:
            return Verdict(checked, event.id, "contenu modifié")
        checked, expected_id, previous = checked + 1, event.id + 1, event.hash
    if (expected_id - 1, previous) != (chain.head_id, chain.head_hash):
        return Verdict(checked, expected_id, "dernières entrées manquantes")
    return Verdict(checked)


def snapshot_engine(engine: Engine) -> Engine:
    """The engine's transactions as one snapshot that takes no write lock: REPEATABLE READ on
    PostgreSQL, a deferred BEGIN on SQLite (in WAL mode, a read sees one snapshot)."""
    if engine.dialect.name == "postgresql":
        return engine.execution_options(isolation_level="REPEATABLE READ")
    return engine.execution_options(sqlite_immediate=False)
