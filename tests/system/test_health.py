"""/healthz (the process answers) and /readyz (database reachable and at the code's migration,
storage writable)."""

import threading
import time

import pytest
from alembic import command
from alembic.script import ScriptDirectory
from fastapi.testclient import TestClient
from sqlalchemy import event

from app.core.config import get_settings
from app.core.db import build_engine
from app.core.storage import get_storage
from app.routes.system.health import READINESS_LIMITER, health_engine
from app.services.system.readiness import MIGRATIONS_DIR, script_heads
from tests.conftest import alembic_config, scratch_database


def unreachable_database():
    return build_engine("postgresql://nobody:nothing@127.0.0.1:1/none?connect_timeout=1")


def test_healthz_answers_without_the_database(app, client):
    app.dependency_overrides[health_engine] = unreachable_database
    response = client.get("/healthz")
    assert (response.status_code, response.json()) == (200, {"status": "ok"})


def test_readyz_says_ok_when_database_migrations_and_storage_are(client):
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.json() == {
        "status": "ok",
        "checks": {"database": "ok", "migrations": "ok", "storage": "ok"},
    }


def test_readyz_names_an_unreachable_database(app, client):
    app.dependency_overrides[health_engine] = unreachable_database
    response = client.get("/readyz")
    assert response.status_code == 503
    checks = response.json()["checks"]
    assert checks["database"] == "OperationalError" and checks["storage"] == "ok"
    assert "nobody" not in response.text and "nothing" not in response.text


def test_readyz_names_a_database_behind_the_code(app, client, database_url, tmp_path):
    (head,) = script_heads()
    previous = ScriptDirectory(str(MIGRATIONS_DIR)).get_revision(head).down_revision
    with scratch_database(database_url, "behind", tmp_path) as url:
        engine = build_engine(url)
        try:
            with engine.begin() as conn:
                command.upgrade(alembic_config(conn), previous)
            app.dependency_overrides[health_engine] = lambda: engine
            response = client.get("/readyz")
        finally:
            engine.dispose()
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "indisponible" and body["checks"]["database"] == "ok"
    assert body["checks"]["migrations"] == f"base à {previous}, code à {head}"


def test_readyz_names_a_storage_that_takes_no_write(client, tmp_path, monkeypatch):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a directory")
    monkeypatch.setattr(get_settings(), "storage_dir", blocker / "files")
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json()["checks"] == {
        "database": "ok",
        "migrations": "ok",
        "storage": "NotADirectoryError",
    }


def test_readyz_says_ok_when_the_s3_store_takes_a_write(client, s3_storage):
    response = client.get("/readyz")
    assert (response.status_code, response.json()["checks"]["storage"]) == (200, "ok")
    assert list(s3_storage.keys()) == []  # the probe's object deleted


def test_readyz_names_an_s3_store_away_after_one_attempt(client, s3_outage):
    attempts = []
    probing = get_storage(probe=True).client.meta.events
    probing.register("before-send.s3", lambda **_: attempts.append(1))
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json()["checks"] == {
        "database": "ok",
        "migrations": "ok",
        "storage": "StorageUnavailable",
    }
    assert len(attempts) == 1  # not the app's four, each waiting out its timeouts


@pytest.mark.parametrize("path", ["/healthz", "/readyz"])
def test_probes_set_no_cookie(client, path):
    assert "set-cookie" not in client.get(path).headers


def test_a_readyz_probe_waits_for_the_check_under_way_instead_of_starting_another(
    app, database_url
):
    """A database that hangs: the probes that keep coming wait, none holds a thread of its own."""
    engine = build_engine(database_url)
    entered = threading.Semaphore(0)
    release = threading.Event()

    @event.listens_for(engine, "do_connect")
    def hang(*_):
        entered.release()
        release.wait(timeout=30)

    # Reads that do not wait for SQLite's write lock, as get_health_engine's.
    app.dependency_overrides[health_engine] = lambda: engine.execution_options(
        sqlite_immediate=False
    )
    statuses = []
    with TestClient(app) as client:  # one event loop for both probes, as in a web process
        probes = [
            threading.Thread(target=lambda: statuses.append(client.get("/readyz").status_code))
            for _ in range(2)
        ]
        try:
            for probe in probes:
                probe.start()
            assert entered.acquire(timeout=30)
            for _ in range(300):  # until the second probe waits: 30 s at most
                if READINESS_LIMITER.statistics().tasks_waiting == 1:
                    break
                time.sleep(0.1)
            assert READINESS_LIMITER.statistics().tasks_waiting == 1
            assert not entered.acquire(blocking=False)  # no second connection under way
        finally:
            release.set()
            for probe in probes:
                probe.join(timeout=30)
            engine.dispose()
    assert statuses == [200, 200]
