"""The action plan's objective: one row per case that has written one (`action_plans`), read
by the drafts of the documents that print the plan. No existing case has one yet.

Revision ID: c1b32fb671f4
Revises: 93b07cfb449c
Create Date: 2026-12-06 11:46:50.793587+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import app.models.base

revision: str = "c1b32fb671f4"
down_revision: str | None = "93b07cfb449c"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "action_plans",
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("operator_id", sa.Integer(), nullable=False),
        sa.Column("objective", sa.String(length=1000), nullable=False),
        sa.Column("updated_at", app.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["case_id"], ["cases.id"], name=op.f("fk_action_plans_case_id_cases")
        ),  # fmt: skip
        sa.ForeignKeyConstraint(
            ["operator_id"], ["operators.id"], name=op.f("fk_action_plans_operator_id_operators")
        ),  # fmt: skip
        sa.PrimaryKeyConstraint("case_id", name=op.f("pk_action_plans")),
    )
    with op.batch_alter_table("action_plans", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_action_plans_operator_id"), ["operator_id"], unique=False)  # fmt: skip


def downgrade() -> None:
    with op.batch_alter_table("action_plans", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_action_plans_operator_id"))
    op.drop_table("action_plans")
