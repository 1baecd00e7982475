"""/healthz (the process answers) and /readyz (database reachable and at the code's migration,
storage writable)."""

import pytest
from alembic import command
from alembic.script import ScriptDirectory

from app.core.config import get_settings
from app.core.db import build_engine
from app.core.storage import get_storage
from app.routes.system.health import health_engine
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
