"""Each case's firsts (first contact, first appointment not cancelled, first level-1 and level-2
episodes, first level-1 interview), kept on the case at every flush, so that the activity report reads them instead of looking up every case's rows.

One session event sees every ORM write, whatever the service; statements that bypass the ORM
(bulk UPDATE/DELETE, COPY) must call `refresh_case_firsts` themselves. The synthetic generator
computes the values as it writes its rows (app/synthetic/stories.py).
"""

from collections.abc import Iterable

from sqlalchemy import event, func, inspect, select, update
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session, UOWTransaction
from sqlalchemy.orm.attributes import set_committed_value
from sqlmodel import col

from app.models.appointments import Appointment, AppointmentStatus
from app.models.cases import Case, Episode, Interaction
from app.models.catalogue import ServiceUnit
from app.models.triage import TriageRequest

# The attributes of a row pointing at a case that its case's firsts depend on.
_WATCHED: dict[type, tuple[str, ...]] = {
    Appointment: ("case_id", "starts_at", "status"),
    TriageRequest: ("case_id", "received_at"),
    Episode: ("case_id", "unit_id", "started_at", "cancelled_at"),
    Interaction: ("case_id", "episode_id", "occurred_at"),
}
FIRSTS = (
    "first_contact_at",
    "first_appointment_at",
    "level_1_started_at",
    "level_2_started_at",
    "level_1_interview_at",
)
_PENDING = "case_firsts.refreshed"  # case ids refreshed by this flush, for after_flush_postexec
_CHUNK = 500  # case ids per statement: far below every engine's limit on bound parameters


def _episodes_of_level(level: int):
    """The case's episodes of a level, not cancelled (a condition correlated to `cases`)."""
    unit_level = select(ServiceUnit.level).where(ServiceUnit.id == Episode.unit_id)
    return (
        Episode.case_id == Case.id,
        col(Episode.cancelled_at).is_(None),
        unit_level.scalar_subquery() == level,
    )


def firsts_values() -> dict:
    """The columns recomputed from the case's rows (subqueries correlated to `cases`)."""
    earlier_request = (
        select(func.min(TriageRequest.received_at))
        .where(TriageRequest.case_id == Case.id, TriageRequest.received_at < Case.opened_at)
        .scalar_subquery()
    )
    first_appointment = (
        select(func.min(Appointment.starts_at))
        .where(Appointment.case_id == Case.id, Appointment.status != AppointmentStatus.CANCELLED)
        .scalar_subquery()
    )
    level_1_interview = (
        select(func.min(Interaction.occurred_at))
        .join(Episode, col(Episode.id) == Interaction.episode_id)
        .where(Interaction.case_id == Case.id, *_episodes_of_level(1))
        .scalar_subquery()
    )
    # The triage request came first, unless the case was opened directly (or earlier).
    return {
        "first_contact_at": func.coalesce(earlier_request, Case.opened_at),
        "first_appointment_at": first_appointment,
        "level_1_started_at": _first_episode(1),
        "level_2_started_at": _first_episode(2),
        "level_1_interview_at": level_1_interview,
    }


def _first_episode(level: int):
    return select(func.min(Episode.started_at)).where(*_episodes_of_level(level)).scalar_subquery()


def refresh_case_firsts(connection: Connection, case_ids: Iterable[int]) -> None:
    """Recompute the firsts of these cases from their triage requests and appointments."""
    ids = sorted(set(case_ids))
    for start in range(0, len(ids), _CHUNK):
        chunk = ids[start : start + _CHUNK]
        connection.execute(update(Case).where(col(Case.id).in_(chunk)).values(**firsts_values()))


def _touched_cases(session: Session) -> set[int]:
    """Cases whose firsts this flush may change, before and after a row moved between cases."""
    ids: set[int] = set()
    new, deleted = session.new, session.deleted
    for obj in (*new, *deleted, *session.dirty):
        attributes = inspect(obj).attrs
        if isinstance(obj, Case):
            if obj in new or attributes.opened_at.history.has_changes():
                ids.add(obj.id)
        elif (watched := _WATCHED.get(type(obj))) is not None and (
            obj in new
            or obj in deleted
            or any(attributes[name].history.has_changes() for name in watched)
        ):
            ids.update(attributes.case_id.history.sum())  # the case it left, too
    ids.discard(None)
    return ids


@event.listens_for(Session, "after_flush")
def _refresh_after_flush(session: Session, flush_context: UOWTransaction) -> None:
    # The new, dirty and deleted rows and their history are still those of the flush here.
    ids = _touched_cases(session)
    if ids:
        refresh_case_firsts(session.connection(), ids)
        flush_context.attributes[_PENDING] = ids


@event.listens_for(Session, "after_flush_postexec")
def _show_refreshed_values(session: Session, flush_context: UOWTransaction) -> None:
    """Cases loaded in the session show the values just written, as if read after the flush."""
    ids = flush_context.attributes.pop(_PENDING, ())
    loaded = {}
    for case_id in ids:
        case = session.identity_map.get(session.identity_key(Case, case_id))
        if case is not None:
            loaded[case_id] = case
    if not loaded:
        return
    columns = [getattr(Case, name) for name in FIRSTS]
    statement = select(Case.id, *columns).where(col(Case.id).in_(list(loaded)))
    for case_id, *values in session.connection().execute(statement):
        for name, value in zip(FIRSTS, values, strict=True):
            set_committed_value(loaded[case_id], name, value)
