"""Reports read from a snapshot taken once a month, not counted at each reading.

Two readings of the national view a day apart would show one new case as +1 in that person's
age band, sex and operator: a cell hidden as small would be recovered by difference. A year is
therefore read as a monthly snapshot holds it (the report already suppressed). The worker takes
the month's snapshots of the years read most on its first pass of the month, and until it has,
their readers read the latest one before: nobody waits for a count (seconds, nationally). Another
year is counted by its first reader in the month.

A snapshot holds any `ActivityReport`, whatever its sections, rows and values: the values that
are not plain JSON (shares, medians, days) keep their type, and a suppressed cell stays None."""

from collections.abc import Callable
from dataclasses import fields, is_dataclass, replace
from datetime import date, datetime

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from app.core.dates import local_today
from app.models.base import utcnow
from app.models.reports import ReportSnapshot
from app.services.reports import tables
from app.services.reports.tables import ActivityReport

# Raise it when a snapshotted report's sections or values change: this month's snapshots are
# then taken again in the new layout, rather than a page reading sections it no longer knows.
SNAPSHOT_VERSION = 2  # 2: the survey section draws its share of positive answers

Count = Callable[[], ActivityReport]


def month_of(now: datetime, time_zone: str) -> date:
    """The first day of the local month of `now`: the month a snapshot is taken for."""
    return local_today(time_zone, now=now).replace(day=1)


def snapshot_report(
    *,
    session: Session,
    kind: str,
    year: int,
    time_zone: str,
    count: Count,
    now: datetime | None = None,
    worker_takes_it: bool = False,
) -> ActivityReport:
    """The report of `year` as this month's snapshot holds it — or, when `worker_takes_it`, the
    latest one until the worker has taken this month's. When there is none, `count` gives it
    and it is stored (of two first readers at once, the database keeps one: the other reads
    that one, so that every reader of the month reads the same figures)."""
    now = now or utcnow()
    month = month_of(now, time_zone)
    stored = _latest(session, kind, year, month, since=None if worker_takes_it else month)
    if stored is None:
        stored, _ = _take(session, kind, year, time_zone, count, now)
    return from_payload(stored.payload)


def take_snapshot(
    *,
    session: Session,
    kind: str,
    year: int,
    time_zone: str,
    count: Count,
    now: datetime | None = None,
) -> bool:
    """Take this month's snapshot of `year` unless it is there already; True when this call
    took it (the worker's job: nobody waits for it on the 1st)."""
    now = now or utcnow()
    if _stored(session, kind, year, month_of(now, time_zone)) is not None:
        return False
    _, taken = _take(session, kind, year, time_zone, count, now)
    return taken


def _stored(session: Session, kind: str, year: int, month: date) -> ReportSnapshot | None:
    statement = select(ReportSnapshot).where(
        ReportSnapshot.kind == kind,
        ReportSnapshot.year == year,
        ReportSnapshot.month == month,
        ReportSnapshot.version == SNAPSHOT_VERSION,
    )
    return session.exec(statement).first()


def _latest(
    session: Session, kind: str, year: int, month: date, *, since: date | None
) -> ReportSnapshot | None:
    """The snapshot of `year` for the latest month up to `month` (and from `since`, if given),
    in the current layout."""
    statement = (
        select(ReportSnapshot)
        .where(
            ReportSnapshot.kind == kind,
            ReportSnapshot.year == year,
            ReportSnapshot.month <= month,
            ReportSnapshot.month >= (since or date.min),
            ReportSnapshot.version == SNAPSHOT_VERSION,
        )
        .order_by(col(ReportSnapshot.month).desc())
        .limit(1)
    )
    return session.exec(statement).first()


def _take(
    session: Session, kind: str, year: int, time_zone: str, count: Count, now: datetime
) -> tuple[ReportSnapshot, bool]:
    """Count the report and store it; (the month's snapshot, whether this call stored it)."""
    month = month_of(now, time_zone)
    report = replace(count(), counted_at=now)
    snapshot = ReportSnapshot(
        kind=kind,
        year=year,
        month=month,
        version=SNAPSHOT_VERSION,
        taken_at=now,
        payload=to_payload(report),
    )
    try:
        with session.begin_nested():
            session.add(snapshot)
    except IntegrityError:
        # Another reader stored the month's snapshot meanwhile (on PostgreSQL this insert
        # waited for its commit): that one is the month's, for everybody.
        winner = _stored(session, kind, year, month)
        if winner is None:  # pragma: no cover - the constraint named only that row
            raise
        return winner, False
    return snapshot, True


# ---- the payload: a report as JSON, and back ------------------------------------------------

# Every dataclass of the report's module (the report, its sections, shares, medians...) by name:
# a type added there is stored without a change here.
_TYPES = {
    name: kind
    for name, kind in vars(tables).items()
    if isinstance(kind, type) and is_dataclass(kind) and kind.__module__ == tables.__name__
}
_TAG = "$"


def to_payload(report: ActivityReport) -> dict:
    return _encode(report)


def from_payload(payload: dict) -> ActivityReport:
    report = _decode(payload)
    if not isinstance(report, ActivityReport):
        raise TypeError("not a report snapshot")
    return report


def _encode(value):
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, list):
        return [_encode(item) for item in value]
    if isinstance(value, tuple):
        return {_TAG: "tuple", "items": [_encode(item) for item in value]}
    if isinstance(value, datetime):  # before date: a datetime is a date too
        return {_TAG: "datetime", "value": value.isoformat()}
    if isinstance(value, date):
        return {_TAG: "date", "value": value.isoformat()}
    if isinstance(value, dict) and all(isinstance(key, str) for key in value):
        return {_TAG: "dict", "items": {key: _encode(item) for key, item in value.items()}}
    kind = type(value).__name__
    if _TYPES.get(kind) is type(value):
        given = {f.name: _encode(getattr(value, f.name)) for f in fields(value) if f.init}
        return {_TAG: kind, "fields": given}
    raise TypeError(f"a {kind} cannot be stored in a report snapshot")


def _decode(value):
    if isinstance(value, list):
        return [_decode(item) for item in value]
    if not isinstance(value, dict):
        return value
    kind = value[_TAG]
    if kind == "tuple":
        return tuple(_decode(item) for item in value["items"])
    if kind == "datetime":
        return datetime.fromisoformat(value["value"])
    if kind == "date":
        return date.fromisoformat(value["value"])
    if kind == "dict":
        return {key: _decode(item) for key, item in value["items"].items()}
    cls = _TYPES[kind]
    # A field since removed is left out; one since added takes its default.
    known = {f.name for f in fields(cls) if f.init}
    return cls(**{name: _decode(item) for name, item in value["fields"].items() if name in known})
