"""Appending to the audit trail, linking it into a chain, and checking that nobody altered it.

Each linked entry carries the SHA-256 of its own fields and of the previous entry's hash:
changing, removing or inserting an entry anywhere breaks the chain from there on. A request
only inserts its entry (id from the database's sequence, chain fields empty), with its other
changes or not at all, and takes no lock: a slow request never holds up another's. The worker
links the committed entries on each pass (`link_pending`), under a lock on the chain's one row
(`AuditChain`) held for that short transaction only, so two linkers never chain to the same
entry. Chain order is link order (`seq`): an entry committed late is linked in a later batch."""

import hashlib
import json
from dataclasses import dataclass
from datetime import UTC

from sqlalchemy import func
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from app.core.request_origin import Origin, current_origin
from app.models.audit import MAX_REASON, MAX_USER_AGENT, AuditAction, AuditChain, AuditEvent
from app.models.base import utcnow
from app.models.staff import StaffUser


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
    event = new_entry(
        actor=actor,
        action=action,
        record_type=record_type,
        record_id=record_id,
        beneficiary_id=beneficiary_id,
        operator_id=operator_id,
        origin=origin,
        reason=reason,
    )
    session.add(event)
    session.flush()
    return event


def new_entry(
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
    """The entry `record` appends, not linked yet (for whoever inserts it otherwise)."""
    origin = origin or current_origin()
    return AuditEvent(
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
    )


def link_pending(session: Session, *, batch: int | None = 5000) -> int:
    """Chain the committed entries not linked yet, in id order, after the chain's head: each
    gets the next `seq`, the head's hash as its previous hash, and its own hash. Returns how
    many were linked (`batch` at most; None: all). Run it in a transaction of its own: it holds
    the chain's lock till its end."""
    pending = select(AuditEvent.id).where(col(AuditEvent.seq).is_(None)).limit(1)
    if session.exec(pending).first() is None:  # most passes: nothing new, no lock taken
        return 0
    chain = lock_chain(session)
    # Read after the lock: what another linker linked meanwhile is not taken again.
    entries = session.exec(
        select(AuditEvent)
        .where(col(AuditEvent.seq).is_(None))
        .order_by(AuditEvent.id)
        .limit(batch)
        .execution_options(populate_existing=True)
    ).all()
    for event in entries:
        event.seq, event.previous_hash = chain.head_seq + 1, chain.head_hash
        event.hash = entry_hash(event)
        chain.head_seq, chain.head_hash = event.seq, event.hash
    session.add_all([*entries, chain])
    session.flush()
    return len(entries)


def lock_chain(session: Session) -> AuditChain:
    """The chain's row, locked until the transaction ends (read afresh, not from the session's
    identity map, which may hold an older head)."""
    query = select(AuditChain).with_for_update().execution_options(populate_existing=True)
    return session.exec(query).one()


def entry_hash(event: AuditEvent) -> str:
    """SHA-256 of the entry's fields in a canonical form (sorted keys, UTC to the microsecond).
    `seq` is not among them: the previous hash already pins the entry's place in the chain."""
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
    """What `verify` found: how many entries it checked, the first one (by `seq`) that breaks
    the chain (None: the chain holds), and how many entries are not linked yet."""

    checked: int
    broken_seq: int | None = None
    problem: str = ""
    unlinked: int = 0

    @property
    def intact(self) -> bool:
        return self.broken_seq is None


def verify(session: Session, *, batch: int = 1000) -> Verdict:
    """Walk the chain by `seq` from its checkpoint to its head; stop at the first entry that does
    not follow its predecessor or whose hash does not match its fields. Run it on one snapshot
    (`snapshot_engine`), so that a purge or a link meanwhile is not taken for a break."""
    chain = session.exec(select(AuditChain).execution_options(populate_existing=True)).one()
    unlinked = session.exec(
        select(func.count()).select_from(AuditEvent).where(col(AuditEvent.seq).is_(None))
    ).one()
    expected, previous = chain.checkpoint_seq + 1, chain.checkpoint_hash
    checked = 0
    entries = session.exec(
        select(AuditEvent)
        .where(col(AuditEvent.seq).is_not(None))
        .order_by(AuditEvent.seq)
        .execution_options(yield_per=batch)
    )
    for event in entries:
        if event.seq != expected:
            return Verdict(checked, expected, "entrée manquante", unlinked)
        if event.previous_hash != previous:
            return Verdict(checked, event.seq, "ne suit pas l'entrée précédente", unlinked)
        if entry_hash(event) != event.hash:
            return Verdict(checked, event.seq, "contenu modifié", unlinked)
        checked, expected, previous = checked + 1, expected + 1, event.hash
    if (expected - 1, previous) != (chain.head_seq, chain.head_hash):
        return Verdict(checked, expected, "dernières entrées manquantes", unlinked)
    return Verdict(checked, unlinked=unlinked)


def snapshot_engine(engine: Engine) -> Engine:
    """The engine's transactions as one snapshot that takes no write lock: REPEATABLE READ on
    PostgreSQL, a deferred BEGIN on SQLite (in WAL mode, a read sees one snapshot)."""
    if engine.dialect.name == "postgresql":
        return engine.execution_options(isolation_level="REPEATABLE READ")
    return engine.execution_options(sqlite_immediate=False)
