"""Routes whose database transaction begins and ends in the thread that runs the endpoint.

FastAPI runs a plain `def` endpoint in the thread pool, each dependency in a thread of its own
and the session's teardown in yet another. A lock taken by the request (SQLite's write lock, a
PostgreSQL advisory lock) must be released by the thread that took it, at once: waiting for
another thread (or, worse, the event loop) to be free while holding it is how a burst of
bookings froze the whole app. So every router uses `UnitOfWorkRoute`: the endpoint commits,
or rolls back, before its thread returns. The session dependency's own commit then has
nothing left to do."""

import functools
import inspect
from collections.abc import Callable

from fastapi import APIRouter, Request
from fastapi.routing import APIRoute, iter_route_contexts
from sqlmodel import Session


def ends_its_transaction(endpoint: Callable) -> Callable:
    """Wrap a plain `def` endpoint so that it commits (or rolls back) its sessions itself."""

    @functools.wraps(endpoint)
    def run(*args, **kwargs):
        sessions = [value for value in kwargs.values() if isinstance(value, Session)]
        try:
            result = endpoint(*args, **kwargs)
        except BaseException:
            for session in sessions:
                session.rollback()
            raise
        for session in sessions:
            session.commit()
        return result

    run.ends_its_transaction = True  # type: ignore[attr-defined]
    return run


class UnitOfWorkRoute(APIRoute):
    def __init__(self, path: str, endpoint: Callable, **kwargs) -> None:
        if not inspect.iscoroutinefunction(endpoint):
            endpoint = ends_its_transaction(endpoint)
        super().__init__(path, endpoint, **kwargs)


def new_router(**kwargs) -> APIRouter:
    """An APIRouter whose routes end their transaction in the endpoint's thread."""
    return APIRouter(route_class=UnitOfWorkRoute, **kwargs)


def allowed_methods(request: Request) -> str:
    """The `Allow` header of a 405: the methods of every route at this address. Starlette names
    only those of the first route it tried, while GET and POST are often two routes here."""
    path = request.scope["path"]
    methods: set[str] = set()
    # The app's routes are its included routers (FastAPI keeps each router whole);
    # iter_route_contexts walks into them, down to each route with its full path.
    for route in iter_route_contexts(request.app.router.routes):
        pattern = getattr(route, "path_regex", None)
        if route.methods and pattern is not None and pattern.match(path):
            methods |= route.methods
    return ", ".join(sorted(methods))
