"""Each worker's heartbeat, written at every pass, so that /metrics tells how long ago the
freshest worker ran (a stalled delivery loop is seen before the messages pile up).

Revision ID: 738c16d81f28
Revises: 89940a31c6b7
Create Date: 2026-12-07 18:40:55.227549+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import app.models.base

revision: str = "738c16d81f28"
down_revision: str | None = "89940a31c6b7"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "worker_heartbeats",
        sa.Column("worker", sa.String(length=120), nullable=False),
        sa.Column("started_at", app.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("beaten_at", app.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("worker", name=op.f("pk_worker_heartbeats")),
    )


def downgrade() -> None:
    op.drop_table("worker_heartbeats")
