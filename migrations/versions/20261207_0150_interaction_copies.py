"""Each interaction keeps its episode's unit and its case's person (app/models/interaction_copies.py),
so that the reports count a period's people served, units and channels from the interactions'
index alone; existing interactions are filled here in one set-based UPDATE each.

Revision ID: 5d1f7a9c3e20
Revises: 3b8e5d2c7a41
Create Date: 2026-12-07 01:50:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "5d1f7a9c3e20"
down_revision: str | None = "3b8e5d2c7a41"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

INCLUDED = ["operator_id", "unit_id", "beneficiary_id", "channel"]
# One rewrite of every interaction, from one join of the three tables.
BACKFILL = """
UPDATE interactions SET unit_id = copies.unit_id, beneficiary_id = copies.beneficiary_id
FROM (
    SELECT i.id, e.unit_id, c.beneficiary_id
    FROM interactions AS i
    JOIN cases AS c ON c.id = i.case_id
    LEFT JOIN episodes AS e ON e.id = i.episode_id
) AS copies
WHERE interactions.id = copies.id
"""


def upgrade() -> None:
    with op.batch_alter_table("interactions", schema=None) as batch_op:
        batch_op.add_column(sa.Column("unit_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("beneficiary_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_interactions_unit_id_service_units"),
            "service_units",
            ["unit_id"],
            ["id"],
        )
        batch_op.create_foreign_key(
            batch_op.f("fk_interactions_beneficiary_id_beneficiaries"),
            "beneficiaries",
            ["beneficiary_id"],
            ["id"],
        )

    op.execute(BACKFILL)

    op.create_index(
        "ix_interactions_occurred_at",
        "interactions",
        ["occurred_at"],
        unique=False,
        postgresql_include=INCLUDED,
    )
    if op.get_bind().dialect.name == "postgresql":
        op.execute("ANALYZE interactions")


def downgrade() -> None:
    op.drop_index(
        "ix_interactions_occurred_at", table_name="interactions", postgresql_include=INCLUDED
    )
    with op.batch_alter_table("interactions", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("fk_interactions_beneficiary_id_beneficiaries"), type_="foreignkey"
        )
        batch_op.drop_constraint(
            batch_op.f("fk_interactions_unit_id_service_units"), type_="foreignkey"
        )
        batch_op.drop_column("beneficiary_id")
        batch_op.drop_column("unit_id")
