"""Each case keeps when it entered level 1 (its first level-1 episode not cancelled), when it
reached level 2, and its first level-1 interview, so that France compétences' indicators
(entries, reaching level 2, delay to level 1) read one pass over the cases. The ORM keeps them
from now on (app/models/case_firsts.py); existing cases are filled here in one set-based UPDATE.

Revision ID: 3b8e5d2c7a41
Revises: 6cad8b0f1261
Create Date: 2026-12-07 01:30:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import app.models.base

revision: str = "3b8e5d2c7a41"
down_revision: str | None = "6cad8b0f1261"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

COLUMNS = ("level_1_started_at", "level_2_started_at", "level_1_interview_at")
INCLUDED = [
    "operator_id",
    "beneficiary_id",
    "first_contact_at",
    "level_1_interview_at",
    "level_2_started_at",
    "motive",
    "channel",
]
# Every case with a level-1 or level-2 episode written once, from one grouped pass over the
# episodes and one over the interactions of level-1 episodes.
BACKFILL = """
UPDATE cases SET
    level_1_started_at = firsts.level_1,
    level_2_started_at = firsts.level_2,
    level_1_interview_at = firsts.interview
FROM (
    SELECT e.case_id,
        min(CASE WHEN u.level = 1 THEN e.started_at END) AS level_1,
        min(CASE WHEN u.level = 2 THEN e.started_at END) AS level_2,
        min(i.first_interview) AS interview
    FROM episodes AS e
    JOIN service_units AS u ON u.id = e.unit_id
    LEFT JOIN (
        SELECT episode_id, min(occurred_at) AS first_interview
        FROM interactions WHERE episode_id IS NOT NULL GROUP BY episode_id
    ) AS i ON i.episode_id = e.id AND u.level = 1
    WHERE e.cancelled_at IS NULL AND u.level IN (1, 2)
    GROUP BY e.case_id
) AS firsts
WHERE cases.id = firsts.case_id
"""


def upgrade() -> None:
    with op.batch_alter_table("cases", schema=None) as batch_op:
        for name in COLUMNS:
            batch_op.add_column(
                sa.Column(name, app.models.base.UTCDateTime(timezone=True), nullable=True)
            )

    op.execute(BACKFILL)

    op.create_index(
        "ix_cases_level_1_started_at",
        "cases",
        ["level_1_started_at"],
        unique=False,
        postgresql_include=INCLUDED,
    )
    if op.get_bind().dialect.name == "postgresql":
        op.execute("ANALYZE cases")  # the planner's statistics on the new columns


def downgrade() -> None:
    op.drop_index("ix_cases_level_1_started_at", table_name="cases", postgresql_include=INCLUDED)
    with op.batch_alter_table("cases", schema=None) as batch_op:
        for name in reversed(COLUMNS):
            batch_op.drop_column(name)
