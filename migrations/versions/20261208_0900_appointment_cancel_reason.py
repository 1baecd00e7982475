"""Appointments: the reason the beneficiary gave when cancelling from their link (optional,
empty for appointments cancelled before, or by staff).

On SQLite, dropping a column rebuilds the table, which drops its triggers, among them the
appointments' no-overlap guard (see 20261129_1806_appointments.py): the downgrade reads them
before and writes them back after, as 20261207_1241_appointment_video_url.py does. Adding a
column with a constant default rebuilds nothing.

Revision ID: 3b7d2c9e4f10
Revises: 0324151aaff3
Create Date: 2026-12-08 09:00:00.000000+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "3b7d2c9e4f10"
down_revision: str | None = "0324151aaff3"
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
            sa.Column("cancel_reason", sa.String(length=500), server_default="", nullable=False)
        )


def downgrade() -> None:
    triggers = _sqlite_triggers()
    with op.batch_alter_table("appointments", schema=None) as batch_op:
        batch_op.drop_column("cancel_reason")
    for trigger in triggers:
        op.execute(trigger)
