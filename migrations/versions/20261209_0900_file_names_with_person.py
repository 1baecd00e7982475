"""Person's name in the file names of documents taken out (issue 23, naming): the operator's
setting « Noms des personnes dans les noms de fichiers », off by default.

Revision ID: a23a30265b59
Revises: 738c16d81f28
Create Date: 2026-12-09 09:00:00+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "a23a30265b59"
down_revision: str | None = "738c16d81f28"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("operators", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "person_names_in_file_names",
                sa.Boolean(),
                server_default=sa.false(),
                nullable=False,
            )
        )


def downgrade() -> None:
    with op.batch_alter_table("operators", schema=None) as batch_op:
        batch_op.drop_column("person_names_in_file_names")
