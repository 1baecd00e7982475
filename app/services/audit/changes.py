"""Every change to a person's record (created, changed or removed through the ORM) recorded in
the audit trail as one CHANGE entry per row and transaction: the kind and id of the row, the
person it belongs to, who changed it — ids only, never what was written.

One session hook for the whole app, so that no service can forget it. Bulk `update()` and
`delete()` statements do not go through it: the one service using them on personal data,
anonymisation, records its own entry (and suspends this hook, `changes_unrecorded`)."""

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import event, insert
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session as OrmSession
from sqlalchemy.orm import SessionTransaction, object_mapper
from sqlmodel import Session, SQLModel, select

from app.models.appointments import Appointment
from app.models.attachments import Attachment
from app.models.audit import AuditAction, AuditEvent
from app.models.beneficiaries import Beneficiary
from app.models.cases import Case, Episode, Interaction
from app.models.deliverables import ActionPlan, ActionStep, Deliverable, DeliverableVersion
from app.models.partners import Referral
from app.models.staff import StaffUser
from app.models.triage import TriageRequest
from app.services.audit.trail import new_entry

# The rows that make up a person's record, and their kind in the trail: the same words as the
# reads' (app/services/audit/accesses.py), so that a filter by kind finds reads and changes.
# Left out: what the app writes about its own running (sessions, outbox, rate limits, the
# trail itself), and logs that go with a row listed here (a referral's events).
PERSONAL_RECORDS: dict[type[SQLModel], str] = {
    Beneficiary: "beneficiary",
    Case: "case",
    Episode: "episode",
    Interaction: "interaction",
    Appointment: "appointment",
    TriageRequest: "triage_request",
    Deliverable: "deliverable",
    DeliverableVersion: "deliverable_version",
    ActionPlan: "action_plan",
    ActionStep: "action_step",
    Attachment: "attachment",
    Referral: "referral",
}

_ACTOR = "audit_actor"
_RECORDED = "audit_changes_recorded"  # (kind, id) already recorded in this transaction
_SUSPENDED = "audit_changes_suspended"


def bind_actor(session: Session, actor: StaffUser) -> None:
    """Name the signed-in staff member as the author of the session's changes. Kept on the
    session rather than in a context variable: the auth dependency runs in a thread of its
    own, whose context the endpoint's thread never sees; the session is the one they share."""
    session.info[_ACTOR] = actor


def forget_actor(session: Session) -> None:
    """For a session that outlives its request (the tests' one): the next may be anonymous.
    Not on each commit: a request may commit midway (an upload) and change more after."""
    session.info.pop(_ACTOR, None)


@contextmanager
def changes_unrecorded(session: Session) -> Iterator[None]:
    """Changes made meanwhile are not recorded one by one: the caller records what it did."""
    session.info[_SUSPENDED] = True
    try:
        yield
        session.flush()  # what is still pending is part of it too
    finally:
        session.info.pop(_SUSPENDED, None)


@event.listens_for(OrmSession, "after_flush")
def _record_changes(session: OrmSession, _flush_context) -> None:
    """Called with the flush's rows still listed as new, changed or deleted, and their ids."""
    if session.info.get(_SUSPENDED):
        return
    changed = [row for row in session.dirty if session.is_modified(row, include_collections=False)]
    rows = [*session.new, *changed, *session.deleted]
    recorded = session.info.setdefault(_RECORDED, set())
    entries = []
    for row in rows:
        kind = PERSONAL_RECORDS.get(type(row))
        if kind is None or (kind, _row_id(row)) in recorded:
            continue
        recorded.add((kind, _row_id(row)))
        entries.append(_entry(session, row, kind))
    if entries:
        columns = [column.name for column in AuditEvent.__table__.columns if column.name != "id"]
        values = [{name: getattr(entry, name) for name in columns} for entry in entries]
        # Core, not the ORM: the flush under way takes no new rows.
        session.connection().execute(insert(AuditEvent), values)


@event.listens_for(OrmSession, "after_transaction_end")
def _forget_recorded(session: OrmSession, transaction: SessionTransaction) -> None:
    if transaction.parent is None:  # the session's own transaction, not a savepoint
        session.info.pop(_RECORDED, None)


@event.listens_for(OrmSession, "after_soft_rollback")
def _forget_recorded_on_rollback(session: OrmSession, _previous: SessionTransaction) -> None:
    """A savepoint rolled back took its entries with it: the rows it changed may change again
    and must then be recorded (recording one twice is the lesser harm)."""
    session.info.pop(_RECORDED, None)


def _entry(session: OrmSession, row: SQLModel, kind: str) -> AuditEvent:
    return new_entry(
        actor=session.info.get(_ACTOR),
        action=AuditAction.CHANGE,
        record_type=kind,
        record_id=_row_id(row),
        beneficiary_id=_person_of(session.connection(), row),
        operator_id=row.operator_id,
    )


def _row_id(row: SQLModel) -> int:
    """Its primary key (an action plan's is its case's id)."""
    return object_mapper(row).primary_key_from_instance(row)[0]


def _person_of(connection: Connection, row: SQLModel) -> int | None:
    """The person whose record the row belongs to: itself, its own link, or its case's."""
    if isinstance(row, Beneficiary):
        return row.id
    if getattr(row, "beneficiary_id", None) is not None:
        return row.beneficiary_id
    if isinstance(row, DeliverableVersion):
        query = select(Case.beneficiary_id).join(Deliverable, Deliverable.case_id == Case.id)
        return connection.execute(query.where(Deliverable.id == row.deliverable_id)).scalar()
    case_id = getattr(row, "case_id", None)
    if case_id is None:
        return None
    return connection.execute(select(Case.beneficiary_id).where(Case.id == case_id)).scalar()
