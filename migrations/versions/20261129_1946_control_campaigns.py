"""Control campaigns: the drawn sample of units and the state of its proof pack.

Revision ID: e4eedbc0156f
Revises: 1120919fc8df
Create Date: 2026-11-29 19:46:43.776253
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import app.models.base

revision: str = "e4eedbc0156f"
down_revision: str | None = "1120919fc8df"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "control_campaigns",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("operator_id", sa.Integer(), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", app.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("period_start", sa.Date(), nullable=False),
        sa.Column("period_end", sa.Date(), nullable=False),
        sa.Column("sample_size", sa.Integer(), nullable=True),
        sa.Column("sample_rate", sa.Float(), nullable=True),
        sa.Column("seed", sa.Integer(), nullable=False),
        sa.Column("pseudonymise", sa.Boolean(), nullable=False),
        sa.Column("population", sa.Integer(), nullable=False),
        sa.Column("drawn", sa.Integer(), nullable=False),
        sa.Column("status", sqlmodel.sql.sqltypes.AutoString(length=10), nullable=False),
        sa.Column("cases_total", sa.Integer(), nullable=False),
        sa.Column("cases_done", sa.Integer(), nullable=False),
        sa.Column("lease_until", app.models.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("pack_key", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=True),
        sa.Column("pack_sha256", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
        sa.Column("pack_size", sa.BigInteger(), nullable=True),
        sa.Column("error", sqlmodel.sql.sqltypes.AutoString(length=1000), nullable=False),
        sa.Column("finished_at", app.models.base.UTCDateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "status IN ('queued', 'building', 'ready', 'failed')",
            name=op.f("ck_control_campaigns_campaign_status_known"),
        ),
        sa.CheckConstraint(
            "(sample_size IS NULL) <> (sample_rate IS NULL)",
            name=op.f("ck_control_campaigns_campaign_size_or_rate"),
        ),
        sa.CheckConstraint(
            "period_end >= period_start", name=op.f("ck_control_campaigns_campaign_period_ordered")
        ),
        sa.ForeignKeyConstraint(
            ["created_by_id"],
            ["staff_users.id"],
            name=op.f("fk_control_campaigns_created_by_id_staff_users"),
        ),
        sa.ForeignKeyConstraint(
            ["operator_id"],
            ["operators.id"],
            name=op.f("fk_control_campaigns_operator_id_operators"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_control_campaigns")),
    )
    with op.batch_alter_table("control_campaigns", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_control_campaigns_operator_id"), ["operator_id"], unique=False
        )

    op.create_table(
        "control_sample_units",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("campaign_id", sa.Integer(), nullable=False),
        sa.Column("episode_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["campaign_id"],
            ["control_campaigns.id"],
            name=op.f("fk_control_sample_units_campaign_id_control_campaigns"),
        ),
        sa.ForeignKeyConstraint(
            ["episode_id"],
            ["episodes.id"],
            name=op.f("fk_control_sample_units_episode_id_episodes"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_control_sample_units")),
        sa.UniqueConstraint(
            "campaign_id", "episode_id", name=op.f("uq_control_sample_units_campaign_id_episode_id")
        ),
    )


def downgrade() -> None:
    op.drop_table("control_sample_units")
    with op.batch_alter_table("control_campaigns", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_control_campaigns_operator_id"))

    op.drop_table("control_campaigns")
