"""Prometheus metrics (/metrics), for the bearer of FILROUGE_METRICS_TOKEN only; 404 while no
token is set. This process's counters (all the web processes' under `filrouge serve`, see
app/core/metrics.py) and the figures read from the database at the scrape."""

import secrets
from typing import Annotated

import anyio
from fastapi import Depends, HTTPException, Request
from fastapi.responses import Response
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from sqlalchemy.engine import Engine

from app.core.config import get_settings
from app.core.metrics import process_metrics
from app.routes.system.health import health_engine
from app.services.system.figures import DatabaseFigures
from app.web.routing import new_router


def metrics_reader(request: Request) -> None:
    token = get_settings().metrics_token
    if token is None or not token.get_secret_value():
        raise HTTPException(status_code=404)
    expected = f"Bearer {token.get_secret_value()}".encode()
    sent = request.headers.get("authorization", "").encode()
    if not secrets.compare_digest(sent, expected):  # constant time: no guessing byte by byte
        raise HTTPException(status_code=401, headers={"WWW-Authenticate": "Bearer"})


# One scrape at a time per process, like /readyz's checks (app/routes/system/health.py).
SCRAPE_LIMITER = anyio.CapacityLimiter(1)

router = new_router(include_in_schema=False, dependencies=[Depends(metrics_reader)])


def _exposition(engine: Engine) -> bytes:
    figures = CollectorRegistry()
    figures.register(DatabaseFigures(engine))
    return process_metrics() + generate_latest(figures)


@router.get("/metrics")
async def metrics(engine: Annotated[Engine, Depends(health_engine)]) -> Response:
    # Like /readyz: a thread and a connection of its own, answered during a burst too.
    body = await anyio.to_thread.run_sync(_exposition, engine, limiter=SCRAPE_LIMITER)
    return Response(body, media_type=CONTENT_TYPE_LATEST)
