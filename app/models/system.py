"""What the platform records about itself: each worker's heartbeat."""

from datetime import datetime

from sqlmodel import Column, Field, SQLModel

from app.models.base import UTCDateTime, utcnow


class WorkerHeartbeat(SQLModel, table=True):
    """One row per running worker (`filrouge worker`, or the one `filrouge serve` runs in a
    thread), written at each pass: /metrics reports how long ago the freshest one beat, so
    that a stalled or dead delivery loop is seen before the messages pile up."""

    __tablename__ = "worker_heartbeats"

    # host:pid — which machine and process, nothing about anyone.
    worker: str = Field(primary_key=True, max_length=120)
    started_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(UTCDateTime, nullable=False)
    )
    beaten_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(UTCDateTime, nullable=False)
    )
