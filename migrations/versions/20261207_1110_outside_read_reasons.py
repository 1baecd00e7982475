"""Reason for reading a file outside one's own cases (issue 20, item 1): the operator's
setting « Motif demandé pour consulter un dossier hors de son portefeuille », on by default.

Revision ID: 3bd6a8adb659
Revises: 0180f81bf37d
Create Date: 2026-12-07 11:08:29.887903+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "3bd6a8adb659"
down_revision: str | None = "0180f81bf37d"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("operators", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "reason_for_outside_reads", sa.Boolean(), server_default=sa.true(), nullable=False
            )
        )


def downgrade() -> None:
    with op.batch_alter_table("operators", schema=None) as batch_op:
        batch_op.drop_column("reason_for_outside_reads")
