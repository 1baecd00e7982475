"""Nothing blocking runs on the event loop (README, Layout): every route is inspected.

A route that reaches the database is a plain `def` endpoint of a `UnitOfWorkRoute` (run in the
thread pool, its transaction ended in that thread); an `async def` endpoint or dependency
never takes the database session. conftest.py adds the run-time half: a statement executed on
a thread that runs an event loop fails the test that caused it."""

import ast
import inspect
from pathlib import Path

from app.core.db import get_session
from app.main import create_app
from app.web.routing import UnitOfWorkRoute
from tests.app_routes import api_routes, dependants

APP_DIR = Path(__file__).resolve().parent.parent / "app"


def _is_async(call) -> bool:
    return inspect.iscoroutinefunction(call) or inspect.isasyncgenfunction(call)


def _takes_the_session(dependant) -> bool:
    return any(sub.call is get_session for sub in dependant.dependencies)


def test_the_app_has_routes_to_inspect():
    assert len(list(api_routes(create_app()))) > 100


def test_every_route_ends_its_transaction_in_the_endpoint_thread():
    for route in api_routes(create_app()):
        assert isinstance(route, UnitOfWorkRoute), f"{route.path}: use app.web.routing.new_router"


def test_no_async_endpoint_or_dependency_takes_the_database_session():
    app = create_app()
    offenders = set()
    for route in api_routes(app):
        for dependant in dependants(route.dependant):
            if _is_async(dependant.call) and _takes_the_session(dependant):
                offenders.add(f"{route.path}: {dependant.call.__qualname__}")
    assert offenders == set()


def test_no_async_function_of_the_app_names_a_session_or_a_service():
    """The static half: an `async def` in app/ neither uses a session nor calls a service
    (services are blocking by design). The hand-offs that make this hold are explicit."""
    offenders = []
    for path in sorted(APP_DIR.rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        services = {
            alias.asname or alias.name
            for node in ast.walk(tree)
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("app.services")
            for alias in node.names
        }
        for node in ast.walk(tree):
            if not isinstance(node, ast.AsyncFunctionDef):
                continue
            names = {n.id for n in ast.walk(node) if isinstance(n, ast.Name)}
            if "session" in names or names & services:
                offenders.append(f"{path.relative_to(APP_DIR)}:{node.lineno} {node.name}")
    assert offenders == []
