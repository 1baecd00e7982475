"""The app's routes as the tests that inspect every one of them walk them."""

from collections.abc import Iterator

from fastapi import FastAPI
from fastapi.routing import APIRoute


def api_routes(app: FastAPI) -> Iterator[APIRoute]:
    """Every FastAPI route, through the routers included in others."""

    def walk(routes):
        for route in routes:
            included = getattr(route, "original_router", None)
            if included is not None:
                yield from walk(included.routes)
            elif isinstance(route, APIRoute):
                yield route

    yield from walk(app.router.routes)


def dependants(dependant) -> Iterator:
    """A route's dependant and, depth first, every dependency under it."""
    yield dependant
    for sub in dependant.dependencies:
        yield from dependants(sub)
