"""Report snapshots: the national view of a year is read from the snapshot of the current month,
taken by its first reader or by the worker on the 1st, so that it never changes from one day to
the next (a new case would show as +1 in its person's age band, sex and operator).

Revision ID: 553545546068
Revises: 5d1f7a9c3e20
Create Date: 2026-12-07 01:05:56.788871+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import app.models.base

revision: str = "553545546068"
down_revision: str | None = "5d1f7a9c3e20"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "report_snapshots",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("month", sa.Date(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("taken_at", app.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_report_snapshots")),
        sa.UniqueConstraint(
            "kind",
            "year",
            "month",
            "version",
            name=op.f("uq_report_snapshots_kind_year_month_version"),
        ),
    )


def downgrade() -> None:
    op.drop_table("report_snapshots")
