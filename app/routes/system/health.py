"""Liveness check used by load balancers and the Dockerfile."""

from typing import Annotated

import anyio
from fastapi import Depends
from sqlalchemy.engine import Engine

from app.core.db import get_health_engine, ping
from app.web.routing import new_router

router = new_router(tags=["santé"])


async def health_engine() -> Engine:
    return get_health_engine()


@router.get("/healthz")
async def healthz(engine: Annotated[Engine, Depends(health_engine)]) -> dict[str, str]:
    """The database answers a query. Checked in a thread of its own (not one of the pool's,
    which a burst of requests waiting on a lock may all hold), on a connection of its own."""
    await anyio.to_thread.run_sync(ping, engine, limiter=anyio.CapacityLimiter(1))
    return {"status": "ok"}
