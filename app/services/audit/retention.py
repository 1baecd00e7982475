"""The trail's retention: entries older than `audit_retention_months` are purged by the worker,
the one path the database lets delete them (see `AuditPurgePermit`)."""

from datetime import datetime

from dateutil.relativedelta import relativedelta
from sqlalchemy import delete, func
from sqlmodel import Session, col, select

from app.core.config import get_settings
from app.models.audit import AuditEvent, AuditPurgePermit
from app.models.base import utcnow
from app.services.audit.trail import lock_chain


def purge_expired(*, session: Session, now: datetime | None = None) -> int:
    """Delete the chain's oldest linked entries, up to the last one before the retention period,
    and move the checkpoint to it so that the rest still verifies; returns how many went.
    Entries not linked yet stay: the linker chains them first, a later pass purges them."""
    cutoff = (now or utcnow()) - relativedelta(months=get_settings().audit_retention_months)
    linked = col(AuditEvent.seq).is_not(None)
    expired = select(AuditEvent.id).where(linked, col(AuditEvent.at) < cutoff).limit(1)
    if session.exec(expired).first() is None:  # most passes: no lock taken
        return 0
    chain = lock_chain(session)
    # A prefix of the chain, so that it still starts from the checkpoint: up to the first
    # linked entry still within the period (link order is nearly, not exactly, time order).
    first_kept = session.exec(
        select(func.min(AuditEvent.seq)).where(linked, AuditEvent.at >= cutoff)
    )
    last_purged = (first_kept.one() or chain.head_seq + 1) - 1
    if last_purged <= chain.checkpoint_seq:
        return 0
    checkpoint = session.exec(select(AuditEvent).where(AuditEvent.seq == last_purged)).one()
    permit = AuditPurgePermit(cutoff=cutoff)
    session.add(permit)
    session.flush()
    purged = session.execute(delete(AuditEvent).where(col(AuditEvent.seq) <= last_purged))
    session.delete(permit)
    chain.checkpoint_seq, chain.checkpoint_hash = checkpoint.seq, checkpoint.hash
    session.add(chain)
    session.flush()
    return purged.rowcount
