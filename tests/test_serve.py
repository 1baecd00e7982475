"""`filrouge serve`: how many web processes it starts, and how it hands them to uvicorn."""

import os

import pytest
from typer.testing import CliRunner

from app.cli import cli
from app.core.config import get_settings
from app.core.db import default_web_workers
from app.core.metrics import MULTIPROCESS_DIR


def test_one_web_process_per_core_and_one_more_on_postgresql_and_one_on_sqlite():
    assert default_web_workers("sqlite:///var/filrouge.db") == 1
    assert default_web_workers("postgresql://u:p@db/filrouge") == (os.cpu_count() or 1) + 1


@pytest.mark.parametrize(
    ("arguments", "expected"),
    [(["--workers", "3"], 3), (["--reload", "--workers", "3"], 1), ([], "default")],
)
def test_serve_hands_the_number_of_processes_to_uvicorn(monkeypatch, arguments, expected):
    started = {}
    monkeypatch.setattr("app.cli.command.upgrade", lambda *_: None)
    monkeypatch.setattr(
        "app.web.serving.uvicorn.run", lambda target, **options: started.update(options)
    )

    result = CliRunner().invoke(cli, ["serve", "--no-worker", *arguments])

    assert result.exit_code == 0, result.output
    if expected == "default":
        expected = default_web_workers(get_settings().database_url)
    assert started["workers"] == expected


def test_serve_leaves_forwarded_headers_to_the_app(monkeypatch):
    """uvicorn would believe X-Forwarded-For from 127.0.0.1: anyone on loopback could then
    choose their address. The app reads it from FILROUGE_TRUSTED_PROXIES only."""
    started = {}
    monkeypatch.setattr("app.cli.command.upgrade", lambda *_: None)
    monkeypatch.setattr(
        "app.web.serving.uvicorn.run", lambda target, **options: started.update(options)
    )

    result = CliRunner().invoke(cli, ["serve", "--no-worker"])

    assert result.exit_code == 0, result.output
    assert started["proxy_headers"] is False


def test_serve_leaves_the_access_log_and_the_logging_to_the_app(monkeypatch):
    """One line per request, the app's (with its request id), not uvicorn's as well."""
    started = {}
    monkeypatch.setattr("app.cli.command.upgrade", lambda *_: None)
    monkeypatch.setattr(
        "app.web.serving.uvicorn.run", lambda target, **options: started.update(options)
    )

    result = CliRunner().invoke(cli, ["serve", "--no-worker"])

    assert result.exit_code == 0, result.output
    assert started["access_log"] is False and started["log_config"] is None


def test_serve_lets_the_requests_under_way_finish_on_sigterm(monkeypatch):
    started = {}
    monkeypatch.setattr("app.cli.command.upgrade", lambda *_: None)
    monkeypatch.setattr(
        "app.web.serving.uvicorn.run", lambda target, **options: started.update(options)
    )

    result = CliRunner().invoke(cli, ["serve", "--no-worker"])

    assert result.exit_code == 0, result.output
    assert 0 < started["timeout_graceful_shutdown"] <= 30
    # A web process slow to import the app on a busy machine is not killed in a loop.
    assert started["timeout_worker_healthcheck"] >= 30


@pytest.mark.parametrize(("processes", "shared"), [("1", False), ("3", True)])
def test_several_web_processes_share_a_fresh_directory_for_their_metrics(
    monkeypatch, processes, shared
):
    """prometheus_client's multiprocess mode: /metrics adds up every process's counts,
    whichever one answers; the directory goes when the server stops."""
    seen = {}

    def run(target, **options):
        seen["directory"] = os.environ.get(MULTIPROCESS_DIR)
        seen["empty"] = seen["directory"] and not os.listdir(seen["directory"])

    monkeypatch.delenv(MULTIPROCESS_DIR, raising=False)
    monkeypatch.setattr("app.cli.command.upgrade", lambda *_: None)
    monkeypatch.setattr("app.web.serving.uvicorn.run", run)

    result = CliRunner().invoke(cli, ["serve", "--no-worker", "--workers", processes])

    assert result.exit_code == 0, result.output
    assert bool(seen["directory"]) is shared
    if shared:
        assert seen["empty"] and not os.path.exists(seen["directory"])
    assert MULTIPROCESS_DIR not in os.environ
