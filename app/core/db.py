"""Database engine and the session-per-request unit of work."""

import logging
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import lru_cache, wraps
from pathlib import Path
from typing import ParamSpec, TypeVar

from sqlalchemy import event
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import SessionTransaction
from sqlmodel import Session, create_engine

from app.core.config import get_settings
from app.core.errors import Conflict

logger = logging.getLogger(__name__)

# How long a write waits for SQLite's one write lock. Waiters are not served in turn (each
# retries after a sleep), so a burst of bookings can keep one waiting for seconds: it should
# wait, not fail with « database is locked ».
SQLITE_BUSY_SECONDS = 30


def _tune_sqlite(engine: Engine, *, read_only: bool) -> None:
    """WAL, foreign keys, busy timeout; transactions that write start with BEGIN IMMEDIATE."""

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn, _record):
        # Let SQLAlchemy emit BEGIN itself (pysqlite's implicit BEGIN is wrong for us).
        dbapi_conn.isolation_level = None
        cursor = dbapi_conn.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_SECONDS * 1000}")
        cursor.execute("PRAGMA synchronous=NORMAL")
        if read_only:
            cursor.execute("PRAGMA query_only=ON")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn):
        # Taking the write lock up front avoids SQLITE_BUSY when a reader later writes.
        immediate = conn.get_execution_options().get("sqlite_immediate", True)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


def build_engine(url: str, *, pool_size: int = 10, read_only: bool = False) -> Engine:
    """An engine on `url`; `read_only`, every transaction refuses to write (a misuse of the
    read replica's session fails loudly, even when its URL names the primary)."""
    # A database error's message leaves out the statement's parameters (names, e-mail
    # addresses, typed text): it ends up in a traceback, and tracebacks are logged.
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        options = {"check_same_thread": False, "timeout": SQLITE_BUSY_SECONDS}
        engine = create_engine(url, connect_args=options, hide_parameters=True)
        _tune_sqlite(engine, read_only=read_only)
        # A reader never takes SQLite's write lock.
        return engine.execution_options(sqlite_immediate=False) if read_only else engine
    if parsed.get_backend_name() == "postgresql" and parsed.drivername == "postgresql":
        url = parsed.set(drivername="postgresql+psycopg").render_as_string(hide_password=False)
    # JIT compiles each costly plan anew (0.1–0.3 s on a national report) and wins nothing on
    # queries this short; reports group hundreds of thousands of rows, which spill to disk
    # with the default 4 MB of work memory.
    # Added to any `options` the URL already carries (a statement_timeout, a search_path).
    options = f"{parsed.query.get('options', '')} -c jit=off -c work_mem=32MB".strip()
    if read_only:
        options += " -c default_transaction_read_only=on"
    return create_engine(
        url,
        pool_size=pool_size,
        max_overflow=pool_size,
        pool_pre_ping=True,
        connect_args={"options": options},
        hide_parameters=True,
    )


def default_web_workers(url: str) -> int:
    """On PostgreSQL, one web process per core and one more: each process waits on the
    database part of the time, and the extra one keeps the cores busy meanwhile (bookings on
    2 cores: 82/s with 2 processes, 95–99/s with 3, 79/s with 4). SQLite takes one writer at
    a time: processes queued on its lock gain nothing over the threads of one process."""
    if make_url(url).get_backend_name() == "sqlite":
        return 1
    return (os.cpu_count() or 1) + 1


@lru_cache
def get_engine() -> Engine:
    settings = get_settings()
    return build_engine(settings.database_url, pool_size=settings.database_pool_size)


@lru_cache
def get_health_engine() -> Engine:
    """A connection of its own for /healthz, which must answer while a burst of requests holds
    the pool; its reads never wait for SQLite's write lock."""
    engine = build_engine(get_settings().database_url, pool_size=1)
    return engine.execution_options(sqlite_immediate=False)


@lru_cache
def get_read_engine() -> Engine | None:
    """The read replica's engine (FILROUGE_READ_DATABASE_URL), read-only; None without one."""
    url = get_settings().read_database_url
    return (
        build_engine(url, pool_size=get_settings().database_pool_size, read_only=True)
        if url
        else None
    )


def ping(engine: Engine) -> None:
    with engine.connect() as conn:
        conn.exec_driver_sql("SELECT 1")


def unit_of_work(engine: Engine) -> Iterator[Session]:
    """One transaction: commit when the caller's work succeeds, roll back otherwise."""
    with Session(engine, expire_on_commit=False) as session:
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise


def get_session() -> Iterator[Session]:
    """The request's unit of work on the configured database."""
    yield from unit_of_work(get_engine())


# What a user reads when the database refuses a step the checks let through: another request
# changed the same rows meanwhile (a name taken, a slot filled, a row removed).
REFUSED_BY_THE_DATABASE = (
    "Quelqu'un vient de modifier ces informations : rechargez la page et réessayez."
)


@contextmanager
def savepoint(session: Session) -> Iterator[Session]:
    """One step of a request, done whole or not at all, inside the request's transaction.

    A step that fails is rolled back to where it began and the request goes on: a form shown
    again with its errors commits nothing of the step. A row the database refuses (a unique,
    check or exclusion constraint) is a Conflict, which says so, rather than a server error."""
    try:
        with session.begin_nested():
            yield session
    except IntegrityError as exc:
        raise Conflict(REFUSED_BY_THE_DATABASE) from exc


_Params = ParamSpec("_Params")
_Result = TypeVar("_Result")


def all_or_nothing(action: Callable[_Params, _Result]) -> Callable[_Params, _Result]:
    """A service function run in a savepoint of the `session` it is given (see `savepoint`)."""

    @wraps(action)
    def run(*args: _Params.args, **kwargs: _Params.kwargs) -> _Result:
        with savepoint(kwargs["session"]):  # type: ignore[arg-type]
            return action(*args, **kwargs)

    return run


# ---- after the commit ------------------------------------------------------------------------

_ONCE_COMMITTED = "actions_once_committed"


def once_committed(session: Session, action: Callable[[], object]) -> None:
    """Run `action` once the session's transaction commits, not before: deleting a file or
    counting a booking before would be wrong if the transaction rolled back. A transaction or
    a savepoint rolled back drops the actions taken within it. An action that fails is logged,
    not raised: what it followed is committed."""
    if not session.in_transaction():
        session.begin()
    within = session.get_nested_transaction() or session.get_transaction()
    if not event.contains(session, "after_commit", _run_committed):
        event.listen(session, "after_commit", _run_committed)
        event.listen(session, "after_soft_rollback", _forget_rolled_back)
    session.info.setdefault(_ONCE_COMMITTED, []).append((within, action))


def _run_committed(session: Session) -> None:
    if session.get_nested_transaction() is not None:
        return  # a savepoint released: its actions wait for the transaction's commit
    for _, action in session.info.pop(_ONCE_COMMITTED, []):
        try:
            action()
        except Exception:
            logger.exception("action after commit failed")


def _forget_rolled_back(session: Session, previous: SessionTransaction) -> None:
    pending = session.info.get(_ONCE_COMMITTED, [])
    pending[:] = [(within, action) for within, action in pending if not _inside(within, previous)]


def _inside(transaction: SessionTransaction | None, outer: SessionTransaction) -> bool:
    while transaction is not None:
        if transaction is outer:
            return True
        transaction = transaction.parent
    return False
