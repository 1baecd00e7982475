"""Bulk loading lifts the checks made row by row and puts them back at the end.

PostgreSQL: the story tables' foreign keys, the appointments' no-overlap exclusion constraint
and secondary indexes are dropped, then recreated. Adding a constraint back checks every row
in one pass (a join for a foreign key, a GiST build for the exclusion), much faster than
checking millions of rows one by one as they arrive.

SQLite: foreign keys are switched off for the connection (by the loader), the no-overlap
triggers and secondary indexes are dropped; at the end the indexes are rebuilt, overlaps and
foreign keys are checked in one pass each, and the triggers come back.

Either way the database guarantees the same invariants afterwards as before.
"""

from sqlalchemy import text
from sqlalchemy.engine import Connection

_CONSTRAINTS = text(
    "SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid) FROM pg_constraint"
    " WHERE contype IN ('f', 'x') AND conrelid::regclass::text = ANY(:tables)"
    " ORDER BY conrelid::regclass::text, conname"
)
_INDEXES = text(
    "SELECT tablename, indexname, indexdef FROM pg_indexes"
    " WHERE schemaname = current_schema() AND tablename = ANY(:tables)"
    " AND indexname NOT IN (SELECT conname FROM pg_constraint)"
    " ORDER BY tablename, indexname"
)


class LiftedConstraints:
    """What was dropped, to put it back exactly as it was."""

    def __init__(self, connection: Connection, tables: tuple[str, ...]):
        self.connection = connection
        self.tables = tables
        self.constraints: list[tuple[str, str, str]] = []
        self.indexes: list[tuple[str, str, str]] = []

    def lift(self) -> None:
        params = {"tables": list(self.tables)}
        self.constraints = [tuple(row) for row in self.connection.execute(_CONSTRAINTS, params)]
        self.indexes = [tuple(row) for row in self.connection.execute(_INDEXES, params)]
        for table, name, _definition in self.constraints:
            self.connection.exec_driver_sql(f'ALTER TABLE {table} DROP CONSTRAINT "{name}"')
        for _table, name, _definition in self.indexes:
            self.connection.exec_driver_sql(f'DROP INDEX "{name}"')

    def restore(self, *, check: bool = True) -> None:
        """Rebuild the indexes, then add (and so check) the constraints again."""
        for _table, _name, definition in self.indexes:
            self.connection.exec_driver_sql(definition.replace("CREATE INDEX", "CREATE INDEX IF NOT EXISTS", 1))  # fmt: skip
        existing = {
            name
            for (name,) in self.connection.execute(
                text("SELECT conname FROM pg_constraint WHERE conrelid::regclass::text = ANY(:t)"),
                {"t": list(self.tables)},
            )
        }
        for table, name, definition in self.constraints:
            if name not in existing:
                self.connection.exec_driver_sql(
                    f'ALTER TABLE {table} ADD CONSTRAINT "{name}" {definition}'
                )


# Active appointments of a counsellor, in order, each starting before the previous one is over
# (what the no-overlap triggers refuse), found in one sorted pass.
_SQLITE_OVERLAPS = """
    SELECT COUNT(*) FROM (
        SELECT starts_at, LAG(blocks_until) OVER (
            PARTITION BY counsellor_id ORDER BY starts_at, id) AS previous_end
        FROM appointments WHERE status <> 'cancelled')
    WHERE starts_at < previous_end
"""


class LiftedSqliteChecks:
    """The overlap triggers and secondary indexes, kept as their SQL to recreate them."""

    def __init__(self, connection: Connection, tables: tuple[str, ...]):
        self.connection = connection
        self.tables = tables
        self.statements: list[tuple[str, str, str]] = []  # (type, name, sql)

    def lift(self) -> None:
        marks = ", ".join("?" for _ in self.tables)
        self.statements = [
            tuple(row)
            for row in self.connection.exec_driver_sql(
                "SELECT type, name, sql FROM sqlite_master WHERE sql IS NOT NULL AND ("
                f"(type = 'index' AND tbl_name IN ({marks}))"
                " OR (type = 'trigger' AND name LIKE 'appointments_no_overlap%'))",
                tuple(self.tables),
            )
        ]
        for kind, name, _sql in self.statements:
            self.connection.exec_driver_sql(f'DROP {kind.upper()} "{name}"')

    def restore(self, *, check: bool = True) -> None:
        existing = {
            name for (name,) in self.connection.exec_driver_sql("SELECT name FROM sqlite_master")
        }
        for kind, name, sql in self.statements:
            if kind == "index" and name not in existing:
                self.connection.exec_driver_sql(sql)
        if check:
            overlaps = self.connection.exec_driver_sql(_SQLITE_OVERLAPS).scalar_one()
            if overlaps:
                raise RuntimeError(f"{overlaps} generated appointments overlap")
            broken = self.connection.exec_driver_sql("PRAGMA foreign_key_check").fetchmany(5)
            if broken:
                raise RuntimeError(f"generated rows break foreign keys: {broken}")
        for kind, name, sql in self.statements:
            if kind == "trigger" and name not in existing:
                self.connection.exec_driver_sql(sql)
