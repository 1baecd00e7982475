"""Alembic environment: migrates the database named by the app's settings (or a given engine)."""

import re
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from logging.config import fileConfig

from alembic import context
from alembic.operations import ops
from alembic.runtime.plugins import Plugin
from alembic.util import PriorityDispatchResult
from sqlalchemy import CheckConstraint
from sqlmodel import SQLModel

import app.models  # noqa: F401  (registers every table on the metadata)
from app.core.config import get_settings
from app.core.db import build_engine

config = context.config
if config.config_file_name is not None and config.attributes.get("configure_logger", True):
    fileConfig(config.config_file_name, disable_existing_loggers=False)

target_metadata = SQLModel.metadata

# Trigram indexes exist on PostgreSQL only and are written by hand in their migration; the
# models do not describe them, so `alembic check` must not ask to drop them.
DATABASE_ONLY_INDEXES = frozenset({"ix_beneficiaries_search_trgm", "ix_cases_reference_trgm"})


def include_object(obj, name, type_, reflected, compare_to) -> bool:
    return not (type_ == "index" and reflected and name in DATABASE_ONLY_INDEXES)


# Alembic compares check constraints by name only, and only when asked (the plugin below). The
# values they allow are compared too, so that a state added to an enum (app/models, `check_in`)
# without its migration fails `alembic check`. Each engine spells a constraint its own way
# (PostgreSQL: `status::text = ANY (ARRAY['open'::character varying, ...])`, `x >= 5 AND x <= 9`
# for BETWEEN), so what is compared is the string and number literals a constraint names.
_STRING = re.compile(r"'((?:[^']|'')*)'")
_NUMBER = re.compile(r"\b\d+(?:\.\d+)?\b")


def check_literals(sqltext: str) -> Counter:
    """The string and number literals of a check constraint, whatever the engine's spelling."""
    strings = _STRING.findall(sqltext)
    numbers = _NUMBER.findall(_STRING.sub("''", sqltext))
    return Counter([*(f"'{s}'" for s in strings), *numbers])


def compare_check_values(autogen_context, modify_table_ops, schema, tname, conn_table, table):
    if conn_table is None or table is None:
        return PriorityDispatchResult.CONTINUE
    reflected = {
        ck["name"]: ck["sqltext"]
        for ck in autogen_context.inspector.get_check_constraints(tname, schema=schema)
    }
    for constraint in table.constraints:
        if not isinstance(constraint, CheckConstraint) or constraint.name not in reflected:
            continue  # a missing or extra one is the plugin's to report
        in_database = reflected[constraint.name]
        if check_literals(str(constraint.sqltext)) != check_literals(in_database):
            was = CheckConstraint(in_database, name=constraint.name, table=conn_table)
            modify_table_ops.ops.append(ops.DropConstraintOp.from_constraint(was))
            modify_table_ops.ops.append(ops.AddConstraintOp.from_constraint(constraint))
    return PriorityDispatchResult.CONTINUE


try:
    _plugin = Plugin("filrouge.check_constraint_values")
except ValueError:
    pass  # registered by an earlier command in this process (env.py runs once per command)
else:
    _plugin.add_autogenerate_comparator(compare_check_values, "table", "check_values")


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    url = config.get_main_option("sqlalchemy.url") or get_settings().database_url
    engine = build_engine(url)
    with engine.connect() as conn:
        _run(conn)
    engine.dispose()


def _run(connection) -> None:
    if connection.dialect.name == "sqlite":
        with _sqlite_foreign_keys_off(connection):
            _migrate(connection)
    else:
        _migrate(connection)


@contextmanager
def _sqlite_foreign_keys_off(connection) -> Iterator[None]:
    """SQLite changes a table (batch mode) by copying it, dropping it and renaming the copy;
    with foreign keys on, dropping a table that other rows reference fails. SQLite's own recipe:
    keys off for the change (possible only outside a transaction), then check them all.

    A caller that passes a connection already in a transaction keeps its keys on: only a
    database with no rows to point at can be migrated that way (the tests' scratch ones)."""
    raw = connection.connection.driver_connection
    if raw.in_transaction:
        yield
        return
    raw.execute("PRAGMA foreign_keys=OFF")
    try:
        yield
    finally:
        raw.execute("PRAGMA foreign_keys=ON")


def _check_sqlite_foreign_keys(connection) -> None:
    """Before the migration commits: every reference still points at a row."""
    broken = connection.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
    if broken:
        raise RuntimeError(f"the migration left rows pointing nowhere: {broken[:5]}")


def _migrate(connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
        include_object=include_object,
        autogenerate_plugins=[
            "alembic.autogenerate.*",
            "alembic.ext.checkconstraint_byname",
            "filrouge.check_constraint_values",
        ],
    )
    with context.begin_transaction():
        context.run_migrations()
        if connection.dialect.name == "sqlite":
            _check_sqlite_foreign_keys(connection)


run_migrations_online()
