"""Test database (SQLite by default, PostgreSQL with FILROUGE_TEST_DATABASE_URL), built with
`alembic upgrade head`; every test runs in a transaction that is rolled back."""

import asyncio
import io
import json
import logging
import os
import secrets
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from functools import cache
from pathlib import Path

import botocore.auth
import pytest
import time_machine
from alembic import command
from alembic.config import Config
from fastapi.testclient import TestClient
from hypothesis import settings
from sqlalchemy import event, text
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import DBAPIError
from sqlmodel import Session

from app.core.db import build_engine, get_session
from app.models.nomenclatures import Role
from tests.factories import bearer, log_in, make_case, make_operator, make_staff

ROOT = Path(__file__).resolve().parent.parent

# Where the `clock` fixture puts tests whose expectations depend on the date: a Wednesday,
# 10:00 in Paris, far from midnight and from the end of a month or a year, with no public
# holiday the day before nor in the fortnight after (a test may look for a free slot a week
# ahead, or mark yesterday's appointment).
NOW = datetime(2026, 12, 2, 9, 0, tzinfo=UTC)

# Property tests draw the same examples on every run, so that the suite cannot fail by chance;
# FILROUGE_FUZZ_RANDOM=1 draws new ones (with FILROUGE_FUZZ_EXAMPLES=300 to dig deeper).
settings.register_profile("fixed", derandomize=True, database=None)
settings.register_profile("random", database=None)
settings.load_profile("random" if os.environ.get("FILROUGE_FUZZ_RANDOM") == "1" else "fixed")


def alembic_config(connection=None) -> Config:
    config = Config(str(ROOT / "alembic.ini"))
    config.attributes["configure_logger"] = False
    if connection is not None:
        config.attributes["connection"] = connection
    return config


@contextmanager
def scratch_database(database_url: str, purpose: str, tmp_dir: Path) -> Iterator[str]:
    """A new empty database beside the test one (same engine), dropped afterwards.

    The pid keeps concurrent runs against one PostgreSQL server out of each other's way."""
    url = make_url(database_url)
    if url.get_backend_name() == "sqlite":
        yield f"sqlite:///{tmp_dir / f'{purpose}.db'}"
        return
    name = f"{url.database}_{purpose}_{os.getpid()}"
    admin = build_engine(database_url).execution_options(isolation_level="AUTOCOMMIT")
    drop_database(admin, name)
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield url.set(database=name).render_as_string(hide_password=False)
    finally:
        drop_database(admin, name)
        admin.dispose()


# What PostgreSQL answers while another process still works in the database: a backend of
# another role that the test role may not end without pg_signal_backend (.ci/run grants it),
# such as an autovacuum worker after a bulk load, or a backend that has not ended yet.
_DATABASE_BUSY = {"42501", "55006"}  # insufficient_privilege, object_in_use


def drop_database(
    admin: Engine, name: str, *, attempts: int = 5, pause: Callable[[float], None] = time.sleep
) -> None:
    """DROP DATABASE … WITH (FORCE), tried again a few times, a second apart, while another
    process is still in it: the wait is for PostgreSQL's own workers, and it is bounded."""
    drop = text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    for attempt in range(1, attempts + 1):
        try:
            with admin.connect() as conn:
                conn.execute(drop)
            return
        except DBAPIError as error:
            if getattr(error.orig, "sqlstate", None) not in _DATABASE_BUSY or attempt == attempts:
                raise
            pause(1.0)


def _refuse_the_event_loop(_conn, _cursor, statement, *_args) -> None:
    """A statement run by a thread that runs an event loop stalls every other request.

    The app's loop runs in a thread of its own (the test client's portal, the browser tests'
    server); the main thread is the tests' own, where Playwright keeps a loop of its own."""
    if threading.current_thread() is threading.main_thread():
        return
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return
    raise AssertionError(f"database statement on the event loop: {statement[:80]}")


event.listen(Engine, "before_cursor_execute", _refuse_the_event_loop)


@pytest.fixture(scope="session", autouse=True)
def _files_in_tmp(tmp_path_factory):
    """Uploaded files, PDFs, e-mails and SMS written by the tests never land in the project's var/."""
    from app.core.config import get_settings

    settings = get_settings()
    root = tmp_path_factory.mktemp("var")
    settings.storage_dir, settings.mail_dir = root / "files", root / "mail"
    settings.sms_dir = root / "sms"


@pytest.fixture(scope="session", autouse=True)
def _reports_read_the_test_database():
    """Reports read the request's own session, whatever FILROUGE_READ_DATABASE_URL the shell
    holds: a replica would never see a test's rolled-back rows (tests/reports/
    test_read_replica.py sets one up on a database of its own)."""
    from app.core.config import get_settings
    from app.core.db import get_read_engine

    get_settings().read_database_url = ""
    get_read_engine.cache_clear()


@pytest.fixture(scope="session")
def database_url(tmp_path_factory) -> str:
    url = os.environ.get("FILROUGE_TEST_DATABASE_URL")
    return url or f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.db'}"


@pytest.fixture(scope="session")
def engine(database_url):
    engine = build_engine(database_url)
    if engine.dialect.name == "postgresql":
        with engine.begin() as conn:
            conn.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
    with engine.begin() as conn:
        command.upgrade(alembic_config(conn), "head")
    yield engine
    engine.dispose()


@pytest.fixture
def session(engine):
    """A session whose commits only release savepoints: the outer transaction is rolled back."""
    connection = engine.connect()
    outer = connection.begin()
    db = Session(bind=connection, join_transaction_mode="create_savepoint", expire_on_commit=False)
    yield db
    db.close()
    outer.rollback()
    connection.close()


async def _no_wait(_seconds: float) -> None:
    return None


@cache
def _the_app():
    """One app for the whole run. FastAPI builds each route's dependencies on an app's first
    requests, and that was most of the suite's time when every test built its own app."""
    from app.main import create_app

    return create_app()


def _shared_app():
    from app.core.logging import configure_logging

    configure_logging()  # as create_app() would: a test may have changed the settings
    return _the_app()


def _test_app(session, engine, application):
    from app.routes.access.auth import login_pause
    from app.routes.system.health import health_engine
    from app.services.audit.changes import forget_actor

    def test_session():
        # Same contract as app.core.db.get_session, inside the test's transaction; what the test
        # set up beforehand is committed first, as it would be in a real database.
        session.commit()
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise
        finally:
            forget_actor(session)  # the next request's session would not know the last one's

    application.dependency_overrides = {get_session: test_session}
    # A login for an account under attack waits (app/routes/access/auth.py); no test sleeps.
    application.dependency_overrides[login_pause] = lambda: _no_wait
    reader = engine.execution_options(sqlite_immediate=False)
    application.dependency_overrides[health_engine] = lambda: reader
    return application


@pytest.fixture
def app(session, engine):
    """The app on the test's transaction. It is shared by every test: one that adds a route
    takes `own_app` instead."""
    application = _test_app(session, engine, _shared_app())
    routes = len(application.routes)
    yield application
    application.dependency_overrides = {}
    assert len(application.routes) == routes, "a test adding routes takes the `own_app` fixture"


@pytest.fixture
def own_app(session, engine):
    """A new app of the test's own, on its transaction, for a test that adds routes to it."""
    from app.main import create_app

    return _test_app(session, engine, create_app())


@pytest.fixture
def client(app) -> TestClient:
    return TestClient(app)


# ---- the usual cast: operators ARA and BRE, ARA's staff, a case ----------------------------
# A module that needs them otherwise (another name, data around them) overrides the fixture.


@pytest.fixture
def ara(session):
    """Operator ARA (Auvergne-Rhône-Alpes), where the staff below work."""
    return make_operator(session)


@pytest.fixture
def bre(session):
    """Operator BRE (Bretagne): another tenant, whose rows ARA's staff never see."""
    return make_operator(session, "BRE", "Bretagne")


@pytest.fixture
def counsellor(session, ara):
    return make_staff(session, ara, full_name="Camille Martin")


@pytest.fixture
def manager(session, ara):
    return make_staff(session, ara, Role.MANAGER)


@pytest.fixture
def admin(session, ara):
    """ARA's operator administrator."""
    return make_staff(session, ara, Role.OPERATOR_ADMIN)


@pytest.fixture
def observer(session):
    """A national observer: no operator, the national view only."""
    return make_staff(session, None, Role.NATIONAL_OBSERVER)


@pytest.fixture
def case(session, counsellor):
    """An open case of the counsellor's."""
    return make_case(session, counsellor)


@pytest.fixture
def csrf(client, session, counsellor) -> str:
    """The test client signed in as the counsellor; the CSRF token of that browser session."""
    return log_in(client, session, counsellor)


@pytest.fixture
def api(client, counsellor) -> TestClient:
    """The test client calling the API with the counsellor's bearer token."""
    client.headers.update(bearer(counsellor))
    return client


@pytest.fixture
def storage_dir(tmp_path, monkeypatch) -> Path:
    """Uploaded files and PDFs in a directory of this test's own."""
    from app.core.config import get_settings

    monkeypatch.setattr(get_settings(), "storage_dir", tmp_path)
    return tmp_path


# ---- files in S3 -----------------------------------------------------------------------------


@pytest.fixture(scope="session")
def s3_server(tmp_path_factory):
    """A real SeaweedFS server, started for the first test that needs one and kept for the
    session (tests/support/seaweed.py)."""
    from tests.support.seaweed import start_seaweed

    with pytest.MonkeyPatch.context() as patch:  # first needed by a test at a frozen date
        patch.setattr(botocore.auth, "get_current_datetime", _real_utc_now)
        server = start_seaweed(tmp_path_factory.mktemp("seaweed"))
    yield server
    server.stop()


@pytest.fixture
def s3_storage(s3_server, storage_dir, monkeypatch):
    """The app's files in the S3 server for this test, under a prefix of its own (scratch
    files still in storage_dir); returns the store."""
    from pydantic import SecretStr

    from app.core.config import get_settings
    from app.core.storage import get_storage

    settings = get_settings()
    prefix = f"test-{secrets.token_hex(6)}"
    monkeypatch.setattr(settings, "storage_url", s3_server.storage_url(prefix))
    monkeypatch.setattr(settings, "storage_endpoint_url", s3_server.endpoint_url)
    monkeypatch.setattr(settings, "storage_region", s3_server.region)
    monkeypatch.setattr(settings, "storage_access_key_id", s3_server.access_key_id)
    secret = SecretStr(s3_server.secret_access_key)
    monkeypatch.setattr(settings, "storage_secret_access_key", secret)
    # A request's signature carries its time, and the server refuses one made days off: the
    # `clock` fixture's frozen date must not reach it.
    monkeypatch.setattr(botocore.auth, "get_current_datetime", _real_utc_now)
    return get_storage()


def _real_utc_now(remove_tzinfo=True) -> datetime:
    hatch = time_machine.escape_hatch
    now = datetime.fromtimestamp(hatch.time.time() if hatch.is_travelling() else time.time(), UTC)
    return now.replace(tzinfo=None) if remove_tzinfo else now


@pytest.fixture
def s3_outage(s3_storage, monkeypatch):
    """The S3 settings of s3_storage pointed at a port where nothing answers; returns the store."""
    from app.core.config import get_settings
    from app.core.storage import get_storage
    from tests.support.seaweed import free_ports

    (port,) = free_ports(1)
    monkeypatch.setattr(get_settings(), "storage_endpoint_url", f"http://127.0.0.1:{port}")
    return get_storage()


@pytest.fixture(params=["local", "s3"])
def storage(request, storage_dir):
    """The same test on both back-ends: the local directory, then the S3 server."""
    from app.core.storage import get_storage

    if request.param == "s3":
        return request.getfixturevalue("s3_storage")
    return get_storage()


# ---- time and mail --------------------------------------------------------------------------


@pytest.fixture
def clock(time_machine) -> datetime:
    """The clock at NOW for this test, in the app as in the test. It ticks on from there, so
    that moments recorded one after the other still differ and lifetimes (sessions, tokens)
    still run; a test never lasts long enough to reach a boundary. Use it where a test computes
    a date and the app computes it again (today, this year, a slot's notice), so that the two
    never straddle midnight, New Year or a quarter hour."""
    time_machine.move_to(NOW, tick=True)
    return NOW


@pytest.fixture
def smtp_server(monkeypatch):
    """A real SMTP server in this process; the settings point the worker's transport at it.

    Deliver with `deliver_due(engine=..., transport=transport_from_settings(), now=...)`,
    then read `smtp_server.messages` (parsed e-mails) or `smtp_server.message_ids`."""
    from app.core.config import get_settings
    from tests.smtp import SmtpServer

    settings = get_settings()
    with SmtpServer() as server:
        monkeypatch.setattr(settings, "smtp_host", server.host)
        monkeypatch.setattr(settings, "smtp_port", server.port)
        monkeypatch.setattr(settings, "smtp_security", "none")
        monkeypatch.setattr(settings, "smtp_username", "")
        monkeypatch.setattr(settings, "smtp_timeout_seconds", 5)
        yield server


@pytest.fixture
def log_lines(monkeypatch):
    """The lines the app, its access log and the server write during the test, parsed: the
    JSON objects of app/core/logging.py's handler, the app's loggers at DEBUG. Call it to read
    them. create_app() configures logging again: the setting keeps it at DEBUG."""
    from app.core.config import get_settings
    from app.core.logging import build_handler

    monkeypatch.setattr(get_settings(), "log_level", "DEBUG")
    stream = io.StringIO()
    handler = build_handler("json", stream)
    own = logging.getLogger("app")
    level = own.level
    own.setLevel(logging.DEBUG)
    logging.getLogger().addHandler(handler)
    try:
        yield lambda: [json.loads(line) for line in stream.getvalue().splitlines()]
    finally:
        logging.getLogger().removeHandler(handler)
        own.setLevel(level)
