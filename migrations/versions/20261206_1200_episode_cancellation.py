"""Episodes started by mistake can be cancelled: `cancelled_at` and `cancelled_by_id`, both set
or both empty. Existing episodes are all in force (both empty).

Revision ID: 7c1e0a5d2b94
Revises: c1b32fb671f4
Create Date: 2026-12-06 12:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import app.models.base

revision: str = "7c1e0a5d2b94"
down_revision: str | None = "c1b32fb671f4"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

CANCELLED_BY_WHOM = "ck_episodes_episode_cancelled_by_whom"
CANCELLED_BY_FK = "fk_episodes_cancelled_by_id_staff_users"


def upgrade() -> None:
    with op.batch_alter_table("episodes", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("cancelled_at", app.models.base.UTCDateTime(timezone=True), nullable=True)
        )
        batch_op.add_column(sa.Column("cancelled_by_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f(CANCELLED_BY_FK), "staff_users", ["cancelled_by_id"], ["id"]
        )
        batch_op.create_check_constraint(
            batch_op.f(CANCELLED_BY_WHOM), "(cancelled_at IS NULL) = (cancelled_by_id IS NULL)"
        )


def downgrade() -> None:
    with op.batch_alter_table("episodes", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f(CANCELLED_BY_WHOM), type_="check")
        batch_op.drop_constraint(batch_op.f(CANCELLED_BY_FK), type_="foreignkey")
        batch_op.drop_column("cancelled_by_id")
        batch_op.drop_column("cancelled_at")
