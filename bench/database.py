"""The benchmark's own connection to the database, through the raw driver (sqlite3 or psycopg):
picking subjects, counting the dataset, checking double bookings, replaying traced SQL."""

import sqlite3
import statistics
import time
from typing import Any

import psycopg
from sqlalchemy.engine import make_url

from bench.sql_trace import decode

_TRANSACTION_CONTROL = {"BEGIN", "BEGIN IMMEDIATE", "COMMIT", "ROLLBACK"}
# Slow SQL (a report taking seconds) is replayed fewer times rather than for ever.
REPLAY_BUDGET_MS = 30_000
_WRITES = ("INSERT", "UPDATE", "DELETE")
COUNTED_TABLES = (
    "operators",
    "sites",
    "staff_users",
    "beneficiaries",
    "cases",
    "episodes",
    "interactions",
    "appointments",
    "deliverables",
)


class RawDatabase:
    """One autocommit connection; queries are written with `%s` placeholders for both engines."""

    def __init__(self, url: str) -> None:
        parsed = make_url(url)
        self.engine = parsed.get_backend_name()
        if self.engine == "sqlite":
            self.conn: Any = sqlite3.connect(parsed.database, isolation_level=None, timeout=5)
            # The app's connection settings (app/core/db.py), so that replayed SQL costs the same.
            for pragma in ("foreign_keys=ON", "busy_timeout=5000", "synchronous=NORMAL"):
                self.conn.execute(f"PRAGMA {pragma}")
        elif self.engine == "postgresql":
            conninfo = parsed.set(drivername="postgresql").render_as_string(hide_password=False)
            self.conn = psycopg.connect(conninfo, autocommit=True)
        else:
            raise SystemExit(f"unsupported database: {self.engine}")

    def close(self) -> None:
        self.conn.close()

    def rows(self, sql: str, *params: Any) -> list[tuple]:
        if self.engine == "sqlite":
            sql = sql.replace("%s", "?")
        cursor = self.conn.cursor()
        cursor.execute(sql, params)
        return cursor.fetchall()

    def execute(self, sql: str, *params: Any) -> None:
        if self.engine == "sqlite":
            sql = sql.replace("%s", "?")
        self.conn.cursor().execute(sql, params)

    def scalar(self, sql: str, *params: Any) -> Any:
        found = self.rows(sql, *params)
        return found[0][0] if found else None

    def counts(self) -> dict[str, int]:
        return {table: self.scalar(f"SELECT count(*) FROM {table}") for table in COUNTED_TABLES}

    def double_bookings(self, *, after_id: int) -> int:
        """Pairs of active appointments of one counsellor that overlap, one of them booked by
        this run (ids above `after_id`)."""
        return self.scalar(
            "SELECT count(*) FROM appointments a JOIN appointments b"
            " ON b.counsellor_id = a.counsellor_id AND b.id <> a.id"
            " AND b.status <> 'cancelled'"
            " AND a.starts_at < b.blocks_until AND b.starts_at < a.blocks_until"
            " WHERE a.id > %s AND a.status <> 'cancelled' AND (b.id > a.id OR b.id <= %s)",
            after_id,
            after_id,
        )

    # ---- replaying a request's SQL --------------------------------------------------------

    def replay(self, statements: list[dict], times: int) -> tuple[float, int]:
        """Median ms of running the statements in one transaction, rolled back, `times` times;
        and how many statements fail on replay (unique keys already taken by the traced request
        itself: those run inside a savepoint, their cost is still counted)."""
        begin = "BEGIN"
        if any(s["sql"].strip().upper() == "BEGIN IMMEDIATE" for s in statements):
            begin = "BEGIN IMMEDIATE"
        work = [
            (s["sql"], decode(s["params"]), s["many"])
            for s in statements
            if s["sql"].strip().upper() not in _TRANSACTION_CONTROL
        ]  # TypeError: a parameter the trace could not record (see bench/sql_trace.py)
        failing = self._failing(begin, work)
        durations: list[float] = []
        while len(durations) < times and sum(durations) < REPLAY_BUDGET_MS:
            started = time.perf_counter()
            self._run(begin, work, failing)
            durations.append((time.perf_counter() - started) * 1000)
        return statistics.median(durations), len(failing)

    def _run(self, begin: str, work: list, guarded: set[int]) -> set[int]:
        failed = set()
        cursor = self.conn.cursor()
        cursor.execute(begin)
        try:
            for index, (sql, params, many) in enumerate(work):
                if index not in guarded:
                    self._execute(cursor, sql, params, many)
                    continue
                cursor.execute("SAVEPOINT bench_replay")
                try:
                    self._execute(cursor, sql, params, many)
                except (sqlite3.Error, psycopg.Error):
                    failed.add(index)
                    cursor.execute("ROLLBACK TO SAVEPOINT bench_replay")
                cursor.execute("RELEASE SAVEPOINT bench_replay")
        finally:
            cursor.execute("ROLLBACK")
        return failed

    def _failing(self, begin: str, work: list) -> set[int]:
        """A first pass with every write in a savepoint, to find those that fail; none when the
        request only reads."""
        guarded = {
            index
            for index, (sql, _params, _many) in enumerate(work)
            if sql.lstrip().upper().startswith(_WRITES)
        }
        return self._run(begin, work, guarded) if guarded else set()

    @staticmethod
    def _execute(cursor, sql: str, params, many: bool) -> None:
        try:
            if many:
                cursor.executemany(sql, params)
            else:
                cursor.execute(sql, params)
        except TypeError as exc:
            raise RuntimeError(f"cannot replay {sql[:200]!r} with {params!r:.300}") from exc
        if cursor.description:
            cursor.fetchall()
