"""Each worker's heartbeat (app/models/system.py): written at every pass of the delivery
loop, removed when the worker stops cleanly, so that a row left behind is a worker that died."""

import os
import socket
from datetime import timedelta

from sqlalchemy import delete, update
from sqlalchemy.engine import Engine
from sqlmodel import Session, col

from app.models.base import utcnow
from app.models.system import WorkerHeartbeat

# A row this old is a worker that died long ago: forgotten, so that the table stays small.
FORGOTTEN_AFTER = timedelta(days=1)


def worker_name() -> str:
    """host:pid — which machine and which process."""
    return f"{socket.gethostname()}:{os.getpid()}"[:120]


def beat(engine: Engine, worker: str) -> None:
    """Record that `worker` is alive now (each worker writes only its own row)."""
    now = utcnow()
    with Session(engine) as session, session.begin():
        alive = update(WorkerHeartbeat).where(col(WorkerHeartbeat.worker) == worker)
        if session.exec(alive.values(beaten_at=now)).rowcount == 0:  # type: ignore[call-overload]
            session.add(WorkerHeartbeat(worker=worker, started_at=now, beaten_at=now))
        forgotten = col(WorkerHeartbeat.beaten_at) < now - FORGOTTEN_AFTER
        session.exec(delete(WorkerHeartbeat).where(forgotten))  # type: ignore[call-overload]


def stop_beating(engine: Engine, worker: str) -> None:
    """The worker stops on purpose: its row goes, it is not a worker that died."""
    with Session(engine) as session, session.begin():
        gone = delete(WorkerHeartbeat).where(col(WorkerHeartbeat.worker) == worker)
        session.exec(gone)  # type: ignore[call-overload]
