"""Probes for load balancers and orchestrators: /healthz (the process answers) and /readyz
(it can serve: database, migrations, storage). No sign-in, nothing about anyone."""

from typing import Annotated

import anyio
from fastapi import Depends
from fastapi.responses import JSONResponse
from sqlalchemy.engine import Engine

from app.core.db import get_health_engine
from app.services.system.readiness import readiness
from app.web.routing import new_router

router = new_router(tags=["santé"])

# One check at a time per process: while a database or a storage hangs, the probes that keep
# coming wait for the check under way instead of each holding a thread of its own. anyio
# binds it to the running event loop at its first use.
READINESS_LIMITER = anyio.CapacityLimiter(1)


async def health_engine() -> Engine:
    return get_health_engine()


@router.get("/healthz")
async def healthz() -> dict[str, str]:
    """The process is alive and its event loop answers; it touches nothing else, so that a
    database away does not get every app process restarted (that is /readyz's question)."""
    return {"status": "ok"}


def _readiness(engine: Engine) -> tuple[int, dict]:
    """The status and the body of /readyz: blocking, run in a thread."""
    checks = readiness(engine)
    ready = all(check.ok for check in checks)
    body = {
        "status": "ok" if ready else "indisponible",
        "checks": {check.name: "ok" if check.ok else check.detail or "échec" for check in checks},
    }
    return 200 if ready else 503, body


@router.get("/readyz", responses={503: {"description": "Une vérification échoue"}})
async def readyz(engine: Annotated[Engine, Depends(health_engine)]) -> JSONResponse:
    """The database answers and is at the code's migration, the storage takes a write: 200,
    else 503 with the failing checks named. Run in a thread of its own (not one of the pool's,
    which a burst of requests waiting on a lock may all hold), on a connection of its own."""
    status, body = await anyio.to_thread.run_sync(_readiness, engine, limiter=READINESS_LIMITER)
    return JSONResponse(body, status_code=status)
