"""Survey invitations keep their answer's figure (satisfied at the end of a level, useful six
months later), filled from the answers already submitted, with an index covering what the
national results count in a period: a national year then reads one index, not two tables.

Revision ID: 6cad8b0f1261
Revises: 9f3f63989f9a
Create Date: 2026-12-06 23:27:59.411952+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "6cad8b0f1261"
down_revision: str | None = "9f3f63989f9a"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("survey_invitations", schema=None) as batch_op:
        batch_op.add_column(sa.Column("positive", sa.Boolean(), nullable=True))
    op.execute(
        "UPDATE survey_invitations SET positive = ("
        " SELECT CASE WHEN survey_invitations.kind = 'utilite_6_mois'"
        " THEN r.useful ELSE r.satisfied END"
        " FROM survey_responses r"
        " WHERE r.invitation_id = survey_invitations.id AND r.submitted_at IS NOT NULL)"
    )
    with op.batch_alter_table("survey_invitations", schema=None) as batch_op:
        batch_op.create_index(
            "ix_survey_invitations_sent_counted",
            ["sent_at", "kind", "level", "status", "answered_at", "positive"],
            unique=False,
        )


def downgrade() -> None:
    with op.batch_alter_table("survey_invitations", schema=None) as batch_op:
        batch_op.drop_index("ix_survey_invitations_sent_counted")
        batch_op.drop_column("positive")
