"""« Archive des livrables » (issue 23): a period's deliverables packed by the worker into one
ZIP, downloadable for a while; the requester is notified when it is ready.

Revision ID: 3f0c2a9d7b61
Revises: a23a30265b59
Create Date: 2026-12-09 09:02:00.000000+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import app.models.base

revision: str = "3f0c2a9d7b61"
down_revision: str | None = "a23a30265b59"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

NOTIFICATION_KINDS = (
    "'referral_answered', 'referral_expired', 'appointment_booked', 'appointment_moved', "
    "'appointment_cancelled', 'document_acknowledged', 'request_assigned'{}"
)


def _notification_kinds(*, with_archive: bool) -> None:
    kinds = NOTIFICATION_KINDS.format(", 'archive_ready'" if with_archive else "")
    with op.batch_alter_table("notifications", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("ck_notifications_notification_kind_known"), type_="check"
        )
        batch_op.create_check_constraint(
            batch_op.f("ck_notifications_notification_kind_known"), f"kind IN ({kinds})"
        )


def upgrade() -> None:
    op.create_table(
        "deliverable_archives",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("operator_id", sa.Integer(), nullable=False),
        sa.Column("requested_by_id", sa.Integer(), nullable=False),
        sa.Column("filters", sa.JSON(), nullable=False),
        sa.Column("status", sqlmodel.sql.sqltypes.AutoString(length=10), nullable=False),
        sa.Column("lease_until", app.models.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("documents_done", sa.Integer(), nullable=False),
        sa.Column("documents_total", sa.Integer(), nullable=False),
        sa.Column("storage_key", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=True),
        sa.Column("sha256", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
        sa.Column("size_bytes", sa.BigInteger(), nullable=True),
        sa.Column("error", sqlmodel.sql.sqltypes.AutoString(length=1000), nullable=False),
        sa.Column("created_at", app.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("started_at", app.models.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("finished_at", app.models.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("cancelled_at", app.models.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("expires_at", app.models.base.UTCDateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "status IN ('requested', 'building', 'ready', 'failed', 'cancelled', 'expired')",
            name=op.f("ck_deliverable_archives_deliverable_archive_status_known"),
        ),
        sa.ForeignKeyConstraint(
            ["operator_id"],
            ["operators.id"],
            name=op.f("fk_deliverable_archives_operator_id_operators"),
        ),
        sa.ForeignKeyConstraint(
            ["requested_by_id"],
            ["staff_users.id"],
            name=op.f("fk_deliverable_archives_requested_by_id_staff_users"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_deliverable_archives")),
    )
    with op.batch_alter_table("deliverable_archives", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_deliverable_archives_operator_id"), ["operator_id"], unique=False
        )
    _notification_kinds(with_archive=True)


def downgrade() -> None:
    op.execute("DELETE FROM notifications WHERE kind = 'archive_ready'")
    _notification_kinds(with_archive=False)
    with op.batch_alter_table("deliverable_archives", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_deliverable_archives_operator_id"))
    op.drop_table("deliverable_archives")
