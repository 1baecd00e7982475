"""Notification digests: who asked for the daily e-mail of unread notifications, and the last
day one was queued (at most one a day). A new table: nothing to migrate.

Revision ID: 8984f7c0f292
Revises: dbf0f955e95f
Create Date: 2026-12-06 13:11:03.112456+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import app.models.base

revision: str = "8984f7c0f292"
down_revision: str | None = "dbf0f955e95f"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "notification_digests",
        sa.Column("staff_id", sa.Integer(), nullable=False),
        sa.Column("operator_id", sa.Integer(), nullable=False),
        sa.Column("subscribed", sa.Boolean(), nullable=False),
        sa.Column("last_day", sa.Date(), nullable=True),
        sa.Column("last_sent_at", app.models.base.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["operator_id"],
            ["operators.id"],
            name=op.f("fk_notification_digests_operator_id_operators"),
        ),
        sa.ForeignKeyConstraint(
            ["staff_id"],
            ["staff_users.id"],
            name=op.f("fk_notification_digests_staff_id_staff_users"),
        ),
        sa.PrimaryKeyConstraint("staff_id", name=op.f("pk_notification_digests")),
    )
    with op.batch_alter_table("notification_digests", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_notification_digests_operator_id"), ["operator_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("notification_digests", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_notification_digests_operator_id"))

    op.drop_table("notification_digests")
