"""Background builds claimed by a lease on their row: a control's proof pack, a person's
access archive. Any table with `id`, `status` (PackStatus, or states of its own with the same
« building » and a `waiting_status`) and `lease_until` columns works.

A builder claims a queued row (or one whose builder stopped: its lease ran out) with a
conditional UPDATE, renews the lease on every progress write, and stops quietly when another
builder took the row over; of two builders, only one ever writes.

A worker asked to stop (SIGTERM) hands its row back at the next checkpoint, queued again
and without a lease, so that another worker takes it at once rather than after the lease."""

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import update
from sqlalchemy.engine import Connection, Engine
from sqlmodel import Session, and_, col, or_, select

from app.models.base import utcnow
from app.models.control import PackStatus

LEASE = timedelta(minutes=10)
Bind = Engine | Connection


class LeaseLost(Exception):
    """Another builder took the row over (this one ran past its lease): stop quietly."""


class LeaseReleased(LeaseLost):
    """This builder's worker is stopping: the row was handed back; stop, building nothing more."""


def waiting(model) -> str:
    """The status a row waits in for a builder: « queued », unless its table names another."""
    return getattr(model, "waiting_status", PackStatus.QUEUED.value)


def claimable(model, now: datetime):
    building_abandoned = and_(model.status == PackStatus.BUILDING, col(model.lease_until) < now)
    return or_(model.status == waiting(model), building_abandoned)


def next_claimable(bind: Bind, model) -> int | None:
    """The oldest row waiting for a builder."""
    with reading(bind) as session:
        statement = select(model.id).where(claimable(model, utcnow())).order_by(model.id)
        return session.exec(statement.limit(1)).first()


@dataclass
class Lease:
    """A builder's hold on a row: every write checks it still holds it, so that a builder
    that outlived its lease never overwrites the one that took over."""

    bind: Bind
    model: type
    row_id: int
    until: datetime
    stop: threading.Event | None = None

    def write(self, *, then: Callable[[Session], None] | None = None, **values) -> None:
        """Write `values` if this builder still holds the row; `then(session)` runs in the
        same transaction (a notification committed with the state it announces)."""
        renewed = utcnow() + LEASE
        with writing(self.bind) as session:
            statement = update(self.model).where(self._held())
            changed = session.execute(statement.values(lease_until=renewed, **values)).rowcount
            if changed != 1:
                raise LeaseLost()
            if then is not None:
                then(session)
        self.until = renewed

    def checkpoint(self, **values) -> None:
        """A progress write, at a point where the build may stop: when the worker is stopping,
        the row is handed back instead (LeaseReleased)."""
        if self.stop is not None and self.stop.is_set():
            self.release()
            raise LeaseReleased()
        self.write(**values)

    def release(self) -> None:
        """Queue the row again, without a lease, if this builder still holds it."""
        with writing(self.bind) as session:
            session.execute(
                update(self.model)
                .where(self._held())
                .values(status=waiting(self.model), lease_until=None)
            )

    def _held(self):
        return and_(
            col(self.model.id) == self.row_id,
            self.model.status == PackStatus.BUILDING,
            col(self.model.lease_until) == self.until,
        )


def claim(
    bind: Bind, model, row_id: int, *, stop: threading.Event | None = None, **reset
) -> Lease | None:
    """A conditional UPDATE: of two builders, only one sees its row changed. `reset`: the
    progress columns a new build starts from; `stop`: the worker's, see Lease.checkpoint."""
    now = utcnow()
    with writing(bind) as session:
        result = session.execute(
            update(model)
            .where(col(model.id) == row_id, claimable(model, now))
            .values(status=PackStatus.BUILDING, lease_until=now + LEASE, **reset)
        )
        claimed = result.rowcount == 1
    return Lease(bind, model, row_id, now + LEASE, stop) if claimed else None


def stopping(stop: threading.Event | None) -> bool:
    return stop is not None and stop.is_set()


@contextmanager
def reading(bind: Bind) -> Iterator[Session]:
    """A read-only unit: on SQLite it does not take the write lock (BEGIN, not IMMEDIATE)."""
    if isinstance(bind, Engine):
        bind = bind.execution_options(sqlite_immediate=False)
    with Session(bind, join_transaction_mode="create_savepoint") as session:
        yield session


@contextmanager
def writing(bind: Bind) -> Iterator[Session]:
    with Session(bind, join_transaction_mode="create_savepoint") as session:
        yield session
        session.commit()
