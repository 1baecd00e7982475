"""The question a motif asks at booking (`appointment_types.booking_question`), and on each
appointment the question as it was asked and the person's answer. Empty for every existing
row: no motif asked anything until now.

On SQLite, dropping a column rebuilds the table, which drops its triggers, among them the
appointments' no-overlap guard (see 20261129_1806_appointments.py): the downgrade reads them
before and writes them back after, as 20261206_1116_appointment_booked_via_known.py does.
Adding a column with a constant default rebuilds nothing.

Revision ID: 6274593411d7
Revises: b3f88cb641b8
Create Date: 2026-12-06 18:07:23.728433+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "6274593411d7"
down_revision: str | None = "b3f88cb641b8"
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
    with op.batch_alter_table("appointment_types", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("booking_question", sa.String(length=300), server_default="", nullable=False)
        )
    with op.batch_alter_table("appointments", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("booking_question", sa.String(length=300), server_default="", nullable=False)
        )
        batch_op.add_column(
            sa.Column("booking_answer", sa.String(length=2000), server_default="", nullable=False)
        )


def downgrade() -> None:
    triggers = _sqlite_triggers()
    with op.batch_alter_table("appointments", schema=None) as batch_op:
        batch_op.drop_column("booking_answer")
        batch_op.drop_column("booking_question")
    for trigger in triggers:
        op.execute(trigger)
    with op.batch_alter_table("appointment_types", schema=None) as batch_op:
        batch_op.drop_column("booking_question")
