"""`filrouge serve`: how many web processes it starts."""

import os

import pytest
from typer.testing import CliRunner

from app.cli import cli
from app.core.config import get_settings
from app.core.db import default_web_workers


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
