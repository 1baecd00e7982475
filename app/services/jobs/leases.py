"""Background builds claimed by a lease on their row: a control's proof pack, a person's
access archive. Any table with `id`, `status` (PackStatus) and `lease_until` columns works.

A builder claims a queued row (or one whose builder stopped: its lease ran out) with a
conditional UPDATE, renews the lease on every progress write, and stops quietly when another
builder took the row over; of two builders, only one ever writes."""

from collections.abc import Iterator
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


def claimable(model, now: datetime):
    building_abandoned = and_(model.status == PackStatus.BUILDING, col(model.lease_until) < now)
    return or_(model.status == PackStatus.QUEUED, building_abandoned)


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

    def write(self, **values) -> None:
        renewed = utcnow() + LEASE
        held = and_(
            col(self.model.id) == self.row_id,
            self.model.status == PackStatus.BUILDING,
            col(self.model.lease_until) == self.until,
        )
        with writing(self.bind) as session:
            statement = update(self.model).where(held)
            changed = session.execute(statement.values(lease_until=renewed, **values)).rowcount
        if changed != 1:
            raise LeaseLost()
        self.until = renewed


def claim(bind: Bind, model, row_id: int, **reset) -> Lease | None:
    """A conditional UPDATE: of two builders, only one sees its row changed. `reset`: the
    progress columns a new build starts from."""
    now = utcnow()
    with writing(bind) as session:
        result = session.execute(
            update(model)
            .where(col(model.id) == row_id, claimable(model, now))
            .values(status=PackStatus.BUILDING, lease_until=now + LEASE, **reset)
        )
        claimed = result.rowcount == 1
    return Lease(bind, model, row_id, now + LEASE) if claimed else None


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
