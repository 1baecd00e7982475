"""The person's rights (issue 20, item 3): the queue of requests (kind, received on, due one
month later, status, outcome, who handled it) and the access archive the worker builds for an
access request (status, lease, progress, stored file, expiry).

Revision ID: 0180f81bf37d
Revises: d6b960784414
Create Date: 2026-12-07 11:08:33.962101+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import app.models.base

revision: str = "0180f81bf37d"
down_revision: str | None = "d6b960784414"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "rights_requests",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("operator_id", sa.Integer(), nullable=False),
        sa.Column("beneficiary_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("received_on", sa.Date(), nullable=False),
        sa.Column("received_via", sa.String(length=20), nullable=False),
        sa.Column("due_on", sa.Date(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("outcome", sa.String(length=1000), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", app.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("handled_by_id", sa.Integer(), nullable=True),
        sa.Column("handled_at", app.models.base.UTCDateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "kind IN ('access', 'rectification', 'erasure', 'restriction', 'objection')",
            name=op.f("ck_rights_requests_rights_request_kind_known"),
        ),
        sa.CheckConstraint(
            "received_via IN ('letter', 'email', 'in_person', 'phone', 'other')",
            name=op.f("ck_rights_requests_rights_request_via_known"),
        ),
        sa.CheckConstraint(
            "status IN ('received', 'in_progress', 'done', 'refused')",
            name=op.f("ck_rights_requests_rights_request_status_known"),
        ),
        sa.ForeignKeyConstraint(
            ["beneficiary_id"],
            ["beneficiaries.id"],
            name=op.f("fk_rights_requests_beneficiary_id_beneficiaries"),
        ),
        sa.ForeignKeyConstraint(
            ["created_by_id"],
            ["staff_users.id"],
            name=op.f("fk_rights_requests_created_by_id_staff_users"),
        ),
        sa.ForeignKeyConstraint(
            ["handled_by_id"],
            ["staff_users.id"],
            name=op.f("fk_rights_requests_handled_by_id_staff_users"),
        ),
        sa.ForeignKeyConstraint(
            ["operator_id"], ["operators.id"], name=op.f("fk_rights_requests_operator_id_operators")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_rights_requests")),
    )
    with op.batch_alter_table("rights_requests", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_rights_requests_beneficiary_id"), ["beneficiary_id"], unique=False
        )
        batch_op.create_index(
            "ix_rights_requests_operator_status_due",
            ["operator_id", "status", "due_on"],
            unique=False,
        )

    op.create_table(
        "access_archives",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("operator_id", sa.Integer(), nullable=False),
        sa.Column("request_id", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("lease_until", app.models.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("steps_done", sa.Integer(), nullable=False),
        sa.Column("steps_total", sa.Integer(), nullable=False),
        sa.Column("error", sa.String(length=1000), nullable=False),
        sa.Column("archive_key", sa.String(length=100), nullable=True),
        sa.Column("archive_size", sa.BigInteger(), nullable=True),
        sa.Column("created_at", app.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("finished_at", app.models.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("expires_at", app.models.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("deleted_at", app.models.base.UTCDateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "status IN ('queued', 'building', 'ready', 'failed')",
            name=op.f("ck_access_archives_access_archive_status_known"),
        ),
        sa.ForeignKeyConstraint(
            ["operator_id"], ["operators.id"], name=op.f("fk_access_archives_operator_id_operators")
        ),
        sa.ForeignKeyConstraint(
            ["request_id"],
            ["rights_requests.id"],
            name=op.f("fk_access_archives_request_id_rights_requests"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_access_archives")),
    )
    with op.batch_alter_table("access_archives", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_access_archives_request_id"), ["request_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("access_archives", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_access_archives_request_id"))

    op.drop_table("access_archives")
    with op.batch_alter_table("rights_requests", schema=None) as batch_op:
        batch_op.drop_index("ix_rights_requests_operator_status_due")
        batch_op.drop_index(batch_op.f("ix_rights_requests_beneficiary_id"))

    op.drop_table("rights_requests")
