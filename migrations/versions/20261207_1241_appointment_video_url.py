"""Appointments: the video room of a video appointment (empty for other modes, for those
booked before, or when no FILROUGE_VIDEO_BASE_URL is set).

On SQLite, dropping a column rebuilds the table, which drops its triggers, among them the
appointments' no-overlap guard (see 20261129_1806_appointments.py): the downgrade reads them
before and writes them back after, as 20261206_1807_booking_question.py does. Adding a column
with a constant default rebuilds nothing.

Revision ID: 664039d75f82
Revises: 5c3e1f0a7b21
Create Date: 2026-12-07 11:15:51.166459+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "664039d75f82"
down_revision: str | None = "5c3e1f0a7b21"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _sqlite_triggers() -> list[str]:
    """The statements creating the appointments table's triggers (none off SQLite, where
    nothing is rebuilt)."""
    bind = op.get_bind()
    if bind.dialect.name != "sqlite":
        return []
    found = bind.execute(
        sa.text(
            "SELECT sql FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'appointments'"
            " ORDER BY name"
        )
    )
    return list(found.scalars())


def upgrade() -> None:
    with op.batch_alter_table("appointments", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("video_url", sa.String(length=300), server_default="", nullable=False)
        )


def downgrade() -> None:
    triggers = _sqlite_triggers()
    with op.batch_alter_table("appointments", schema=None) as batch_op:
        batch_op.drop_column("video_url")
    for trigger in triggers:
        op.execute(trigger)
