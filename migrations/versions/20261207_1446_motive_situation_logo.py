"""A motif's usual motive (`appointment_types.motive`, pre-selected on the booking form's « Ce
qui vous amène ») and the operator's logo shown on its public pages (`operators.logo_key`, a
storage key). Both empty for existing rows: nothing was chosen nor uploaded until now.

Revision ID: 0324151aaff3
Revises: 664039d75f82
Create Date: 2026-12-07 14:46:37.444827+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0324151aaff3"
down_revision: str | None = "664039d75f82"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("appointment_types", schema=None) as batch_op:
        batch_op.add_column(sa.Column("motive", sa.String(length=30), nullable=True))
    with op.batch_alter_table("operators", schema=None) as batch_op:
        batch_op.add_column(sa.Column("logo_key", sa.String(length=64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("operators", schema=None) as batch_op:
        batch_op.drop_column("logo_key")
    with op.batch_alter_table("appointment_types", schema=None) as batch_op:
        batch_op.drop_column("motive")
