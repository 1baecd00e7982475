"""Bulk writing of rows, engine by engine: COPY on PostgreSQL, executemany on SQLite.

Rows are plain tuples in the column order given; datetimes are time-zone aware (UTC), JSON
columns are given as already-serialised text. Primary keys are allocated here (contiguous
ranges after the current maximum) so that children can point at parents without reading back.
"""

import itertools
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from sqlalchemy import text
from sqlalchemy.engine import Connection
from sqlmodel import SQLModel

import app.models  # noqa: F401  (every table in the metadata)
from app.models.base import UTCDateTime
from app.synthetic.constraints import LiftedConstraints, LiftedSqliteChecks

# What the app's UTCDateTime column stores on SQLite (naive UTC, always with microseconds): the
# same text, so that comparisons in SQL (which are textual on SQLite) keep working.
_SQLITE_FORMAT = "%Y-%m-%d %H:%M:%S.%f"


@dataclass(frozen=True)
class Table:
    """A table as the loader writes it: its columns in row order, and which hold moments."""

    name: str
    columns: tuple[str, ...]
    stamps: tuple[str, ...] = ()

    @classmethod
    def of(cls, name: str) -> "Table":
        """A table of the app's models: its columns in the models' order, and those holding
        moments (UTCDateTime). Rows are built in that order (app/synthetic/stories.py)."""
        columns = SQLModel.metadata.tables[name].columns
        stamps = tuple(column.name for column in columns if isinstance(column.type, UTCDateTime))
        return cls(name, tuple(column.name for column in columns), stamps)

    @property
    def stamp_indexes(self) -> tuple[int, ...]:
        return tuple(self.columns.index(column) for column in self.stamps)


class Loader:
    """One connection, one engine's fastest path; `write` may be called many times per table."""

    def __init__(self, connection: Connection, lifted_tables: tuple[str, ...] = ()):
        self.connection = connection
        self.postgresql = connection.dialect.name == "postgresql"
        self._counters: dict[str, itertools.count] = {}
        self.counts: dict[str, int] = {}
        self.seconds: dict[str, float] = {}
        self.lifted_tables = lifted_tables
        self._lifted: LiftedConstraints | LiftedSqliteChecks | None = None

    def ids(self, table: str) -> Callable[[], int]:
        """A function giving the next fresh id of `table` at each call."""
        if table not in self._counters:
            current = self.connection.execute(text(f"SELECT COALESCE(MAX(id), 0) FROM {table}"))
            self._counters[table] = itertools.count(current.scalar_one() + 1)
        return self._counters[table].__next__

    def write(self, table: Table, rows: Iterable[tuple]) -> int:
        """Insert the rows; returns how many were written."""
        started = time.perf_counter()
        if not self.connection.in_transaction():
            # The rows go through the driver: begin here so that `commit()` ends the chunk
            # (and SQLite writes it in one BEGIN IMMEDIATE transaction, not row by row).
            self.connection.begin()
        if self.postgresql:
            written = self._copy(table, rows)
        else:
            written = self._executemany(table, rows)
        self.counts[table.name] = self.counts.get(table.name, 0) + written
        elapsed = time.perf_counter() - started
        self.seconds[table.name] = self.seconds.get(table.name, 0.0) + elapsed
        return written

    def _copy(self, table: Table, rows: Iterable[tuple]) -> int:
        raw = self.connection.connection.driver_connection
        written = 0
        with raw.cursor() as cursor:
            with cursor.copy(f"COPY {table.name} ({', '.join(table.columns)}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
                    written += 1
        return written

    def _executemany(self, table: Table, rows: Iterable[tuple]) -> int:
        stamps = table.stamp_indexes
        if stamps:
            rows = [_sqlite_row(row, stamps) for row in rows]
        else:
            rows = list(rows)
        marks = ", ".join("?" for _ in table.columns)
        statement = f"INSERT INTO {table.name} ({', '.join(table.columns)}) VALUES ({marks})"
        self.connection.connection.driver_connection.executemany(statement, rows)
        return len(rows)

    def start(self) -> None:
        """Tune the connection for a bulk load and lift the per-row checks (constraints.py):
        they are put back, and so checked over all the rows at once, by `finish`."""
        if self.postgresql:
            self.connection.exec_driver_sql("SET synchronous_commit = off")
            self._lifted = LiftedConstraints(self.connection, self.lifted_tables)
        else:
            # A crash mid-way leaves a database to regenerate anyway: no need to sync commits.
            # Set on the driver's connection, outside any transaction, as SQLite requires.
            self._pragmas(
                "synchronous=OFF", "cache_size=-262144", "temp_store=MEMORY", "foreign_keys=OFF"
            )
            self._lifted = LiftedSqliteChecks(self.connection, self.lifted_tables)
        self._lifted.lift()

    def finish(self) -> None:
        """Put the checks back, let the app insert after the generated ids, and give the
        planner fresh statistics."""
        for table in self._counters if self.postgresql else ():
            self.connection.execute(
                text(
                    f"SELECT setval(pg_get_serial_sequence('{table}', 'id'),"
                    f" (SELECT COALESCE(MAX(id), 1) FROM {table}))"
                )
            )
        if self._lifted is not None:
            self._lifted.restore()
        self.connection.exec_driver_sql("ANALYZE")

    def close(self) -> None:
        """Once committed: the pooled connection goes back with the app's usual settings."""
        if self.postgresql:
            self.connection.exec_driver_sql("RESET synchronous_commit")
            self.connection.commit()
        else:
            self._pragmas(
                "synchronous=NORMAL", "cache_size=-2000", "temp_store=DEFAULT", "foreign_keys=ON"
            )

    def abort(self) -> None:
        """After a failure: roll back the chunk under way and put the checks back unchecked."""
        self.connection.rollback()
        if self._lifted is not None:
            self._lifted.restore(check=False)
            self.connection.commit()
        self.close()

    def _pragmas(self, *pragmas: str) -> None:
        raw = self.connection.connection.driver_connection
        for pragma in pragmas:
            raw.execute(f"PRAGMA {pragma}")


def _sqlite_row(row: tuple, stamps: tuple[int, ...]) -> tuple:
    values = list(row)
    for i in stamps:
        value = values[i]
        if value is not None:
            # Every generated moment is already in UTC.
            values[i] = value.strftime(_SQLITE_FORMAT)
    return tuple(values)
