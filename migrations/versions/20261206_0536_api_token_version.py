"""Each staff account has a token version, carried by the API tokens issued to it and compared
on every request: raising it (API logout, deactivation) refuses every token issued before.
Existing accounts start at 0; tokens issued before this revision carry no version and are
refused (they lived an hour at most: their clients ask for a new one).

Revision ID: 7d5b5af421c3
Revises: a7c31f0d9e21
Create Date: 2026-12-06 05:36:08.061086
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "7d5b5af421c3"
down_revision: str | None = "a7c31f0d9e21"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("staff_users", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("token_version", sa.Integer(), server_default="0", nullable=False)
        )


def downgrade() -> None:
    with op.batch_alter_table("staff_users", schema=None) as batch_op:
        batch_op.drop_column("token_version")
