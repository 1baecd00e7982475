"""Notifications: what a counsellor is told in the app (a partner's answer, an expired referral,
an appointment booked, moved or cancelled by the person, a document read, a request assigned),
read or not. A new table: nothing to migrate.

Revision ID: dbf0f955e95f
Revises: 7c1e0a5d2b94
Create Date: 2026-12-06 12:32:34.832727+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import app.models.base

revision: str = "dbf0f955e95f"
down_revision: str | None = "7c1e0a5d2b94"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "notifications",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("operator_id", sa.Integer(), nullable=False),
        sa.Column("recipient_id", sa.Integer(), nullable=False),
        sa.Column("kind", sqlmodel.sql.sqltypes.AutoString(length=30), nullable=False),
        sa.Column("text", sqlmodel.sql.sqltypes.AutoString(length=500), nullable=False),
        sa.Column("link", sqlmodel.sql.sqltypes.AutoString(length=300), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=True),
        sa.Column("created_at", app.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("read_at", app.models.base.UTCDateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "kind IN ('referral_answered', 'referral_expired', 'appointment_booked', 'appointment_moved', 'appointment_cancelled', 'document_acknowledged', 'request_assigned')",
            name=op.f("ck_notifications_notification_kind_known"),
        ),
        sa.ForeignKeyConstraint(
            ["case_id"], ["cases.id"], name=op.f("fk_notifications_case_id_cases")
        ),
        sa.ForeignKeyConstraint(
            ["operator_id"], ["operators.id"], name=op.f("fk_notifications_operator_id_operators")
        ),
        sa.ForeignKeyConstraint(
            ["recipient_id"],
            ["staff_users.id"],
            name=op.f("fk_notifications_recipient_id_staff_users"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notifications")),
    )
    with op.batch_alter_table("notifications", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_notifications_case_id"), ["case_id"], unique=False)
        batch_op.create_index(
            "ix_notifications_recipient_created", ["recipient_id", "created_at"], unique=False
        )
        batch_op.create_index(
            "ix_notifications_recipient_read", ["recipient_id", "read_at"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("notifications", schema=None) as batch_op:
        batch_op.drop_index("ix_notifications_recipient_read")
        batch_op.drop_index("ix_notifications_recipient_created")
        batch_op.drop_index(batch_op.f("ix_notifications_case_id"))

    op.drop_table("notifications")
