"""Official control campaigns (issue 19): a campaign is France compétences' official control or
an operator's self-check (« auto-contrôle »); every existing campaign was drawn by its operator,
so it becomes a self-check. An official campaign keeps the public value its seed is derived
from; every new campaign keeps the ids of the units it was drawn from, for a third party to
draw it again. The campaigns a controller opened are read by their author.

Revision ID: 21d426f11697
Revises: 458dc1ff0f41
Create Date: 2026-12-07 05:20:07.376799+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "21d426f11697"
down_revision: str | None = "458dc1ff0f41"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("control_campaigns", schema=None) as batch_op:
        # The server default makes every existing campaign a self-check.
        batch_op.add_column(
            sa.Column("kind", sa.String(length=12), server_default="self_check", nullable=False)
        )
        batch_op.add_column(sa.Column("public_value", sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column("population_ids", sa.Text(), nullable=True))
        batch_op.create_index(
            batch_op.f("ix_control_campaigns_created_by_id"), ["created_by_id"], unique=False
        )
        batch_op.create_check_constraint(
            batch_op.f("ck_control_campaigns_campaign_kind_known"),
            "kind IN ('official', 'self_check')",
        )
        batch_op.create_check_constraint(
            batch_op.f("ck_control_campaigns_campaign_official_seeded"),
            "kind <> 'official' OR public_value IS NOT NULL",
        )


def downgrade() -> None:
    # Official campaigns stay, read as self-checks from then on: a control's record and its
    # proof pack are evidence, never dropped by a schema change.
    with op.batch_alter_table("control_campaigns", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("ck_control_campaigns_campaign_official_seeded"), type_="check"
        )
        batch_op.drop_constraint(
            batch_op.f("ck_control_campaigns_campaign_kind_known"), type_="check"
        )
        batch_op.drop_index(batch_op.f("ix_control_campaigns_created_by_id"))
        batch_op.drop_column("population_ids")
        batch_op.drop_column("public_value")
        batch_op.drop_column("kind")
