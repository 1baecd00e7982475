"""Retention and anonymisation per operator (issue 20, item 2): the operator's « Durée de
conservation » (months after the last contact, 24 by default, 6 to 60) and the day its job last
ran; when a person was anonymised; when an attachment's or an issued PDF's file was deleted
(« supprimé »), the row staying for the counts.

Revision ID: 763ff14e3683
Revises: 5aaf57651cb3
Create Date: 2026-12-07 09:07:20.544603+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import app.models.base

revision: str = "763ff14e3683"
down_revision: str | None = "5aaf57651cb3"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("attachments", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("file_deleted_at", app.models.base.UTCDateTime(timezone=True), nullable=True)
        )

    with op.batch_alter_table("beneficiaries", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("anonymised_at", app.models.base.UTCDateTime(timezone=True), nullable=True)
        )

    with op.batch_alter_table("deliverable_versions", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("file_deleted_at", app.models.base.UTCDateTime(timezone=True), nullable=True)
        )

    with op.batch_alter_table("operators", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("retention_months", sa.Integer(), server_default="24", nullable=False)
        )
        batch_op.add_column(sa.Column("retention_run_on", sa.Date(), nullable=True))
        batch_op.create_check_constraint(
            batch_op.f("ck_operators_operator_retention_range"), "retention_months BETWEEN 6 AND 60"
        )


def downgrade() -> None:
    with op.batch_alter_table("operators", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("ck_operators_operator_retention_range"), type_="check")
        batch_op.drop_column("retention_run_on")
        batch_op.drop_column("retention_months")

    with op.batch_alter_table("deliverable_versions", schema=None) as batch_op:
        batch_op.drop_column("file_deleted_at")

    with op.batch_alter_table("beneficiaries", schema=None) as batch_op:
        batch_op.drop_column("anonymised_at")

    with op.batch_alter_table("attachments", schema=None) as batch_op:
        batch_op.drop_column("file_deleted_at")
