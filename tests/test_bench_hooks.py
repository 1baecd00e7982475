"""The benchmark's hooks (an empty route, the SQL trace) are part of the app only as the
benchmark serves it, `bench.app:app`; never in `app.main:app`."""

import ast
import subprocess
import sys
from pathlib import Path

from fastapi.testclient import TestClient
from sqlalchemy import event
from sqlalchemy.engine import Engine

from app.main import create_app
from bench import sql_trace
from tests.app_routes import api_routes

ROOT = Path(__file__).resolve().parents[1]
APP = ROOT / "app"


def _bench_routes(app) -> list[str]:
    return [route.path for route in api_routes(app) if route.path.startswith("/bench")]


def test_the_app_has_no_benchmark_route():
    assert _bench_routes(create_app()) == []
    assert TestClient(create_app()).get("/bench/empty").status_code == 404


def test_no_module_of_the_app_imports_the_benchmark():
    offenders = []
    for path in APP.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                modules = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                modules = [node.module or ""]
            else:
                continue
            if any(module.split(".")[0] == "bench" for module in modules):
                offenders.append(str(path.relative_to(APP)))
    assert offenders == []


def test_the_benchmark_adds_its_empty_route_and_traces_the_sql_of_a_request(tmp_path, monkeypatch):
    monkeypatch.setenv(sql_trace.FILE_ENV_VAR, str(tmp_path / "trace.json"))
    app = create_app()
    sql_trace.install(app)
    try:
        client = TestClient(app)
        assert client.get("/bench/empty").text == ""
        # /readyz reads the database's migration (/healthz, the process alone, reads nothing).
        client.get("/readyz", headers={"X-Bench-Trace": "1"})
        trace = client.get("/bench/last-trace").json()
    finally:  # the listeners are global: the other tests run without them
        event.remove(Engine, "before_cursor_execute", sql_trace._before_execute)
        event.remove(Engine, "after_cursor_execute", sql_trace._after_execute)
    assert trace["path"] == "/readyz"
    assert any("alembic_version" in statement["sql"] for statement in trace["statements"])


def test_the_benchmark_app_imports_on_its_own_with_its_hooks_and_frozen():
    """`bench.app:app` is what uvicorn imports in a fresh process (bench/server.py)."""
    script = (
        "import gc, bench.app\n"
        "paths = [getattr(route, 'path', '') for route in bench.app.app.routes]\n"
        "print('/bench/empty' in paths, gc.get_freeze_count() > 0)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["True", "True"]
