"""`filrouge serve`: how many web processes it starts, how it hands them to uvicorn, and how a
real server stops on SIGTERM."""

import os
import signal
import subprocess
import sys
import threading
import time
from html import unescape

import httpx
import pytest
from typer.testing import CliRunner

from app.cli import cli
from app.core.config import get_settings
from app.core.db import default_web_workers
from app.core.metrics import MULTIPROCESS_DIR
from tests.conftest import ROOT, scratch_database
from tests.factories import free_port

WAIT = 60  # seconds: every wait of the served test is bounded by this


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


def _hidden(page: str, name: str) -> str:
    return unescape(page.split(f'name="{name}" value="', 1)[1].split('"', 1)[0])


def _wait_for(condition, what: str, log) -> None:
    for _ in range(WAIT * 5):
        if condition():
            return
        time.sleep(0.2)
    pytest.fail(f"{what}:\n{log.read_text()[-3000:]}")


def _answers(base: str) -> bool:
    try:
        return httpx.get(f"{base}/healthz", timeout=2).status_code == 200
    except httpx.TransportError:
        return False


@pytest.mark.parametrize("processes", ["1", "2"])
def test_a_request_under_way_when_sigterm_comes_is_answered_and_the_server_exits_0(
    database_url, tmp_path, processes
):
    """The real server: a login form whose body is still arriving when SIGTERM comes."""
    with scratch_database(database_url, "sigterm", tmp_path) as url:
        port = free_port()
        env = os.environ | {
            "FILROUGE_DATABASE_URL": url,
            "FILROUGE_SECRET_KEY": get_settings().secret_key,
            "FILROUGE_STORAGE_DIR": str(tmp_path / "files"),
        }
        env.pop(MULTIPROCESS_DIR, None)
        log = tmp_path / "server.log"
        with log.open("w") as out:
            process = subprocess.Popen(
                [sys.executable, "-m", "app.cli", "serve", "--no-worker", "--port", str(port),
                 "--workers", processes],
                cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True,
            )  # fmt: skip
        base = f"http://127.0.0.1:{port}"
        try:
            _wait_for(lambda: _answers(base), "the server did not answer /healthz", log)
            outcome = _post_login_across_sigterm(base, process, log)
            assert process.wait(timeout=WAIT) == 0, log.read_text()[-3000:]
        finally:
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()
    assert outcome == 200, log.read_text()[-3000:]


def _post_login_across_sigterm(base: str, process: subprocess.Popen, log) -> int | str:
    """The form's first half, SIGTERM, the server's shutdown under way, the second half."""
    client = httpx.Client(base_url=base, timeout=WAIT)
    token = _hidden(client.get("/login").text, "csrf_token")
    body = f"csrf_token={token}&email=personne%40example.org&password=faux".encode()
    half = len(body) // 2
    sent_half = threading.Event()
    signalled = threading.Event()

    def slowly():
        yield body[:half]
        sent_half.set()
        signalled.wait(timeout=WAIT)
        yield body[half:]

    outcome: list[int | str] = []

    def post() -> None:
        headers = {"Content-Type": "application/x-www-form-urlencoded",
                   "Content-Length": str(len(body))}  # fmt: skip
        try:
            outcome.append(client.post("/login", content=slowly(), headers=headers).status_code)
        except httpx.HTTPError as exc:
            outcome.append(f"{type(exc).__name__}: {exc}")

    poster = threading.Thread(target=post)
    poster.start()
    try:
        assert sent_half.wait(timeout=WAIT)
        process.send_signal(signal.SIGTERM)
        _wait_for(lambda: "Shutting down" in log.read_text(), "no shutdown under way", log)
    finally:
        signalled.set()
        poster.join(timeout=WAIT)
        client.close()
    return outcome[0] if outcome else "no answer"
