"""UO4 made visible: the actions an operator funds from UO4 (amount in euros, exact), who
attended a training and for how many hours, and the record of every change to an action.

Revision ID: 764b5eb5967e
Revises: 6274593411d7
Create Date: 2026-12-06 18:07:29.753720+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import app.models.base

revision: str = "764b5eb5967e"
down_revision: str | None = "6274593411d7"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "uo4_actions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("operator_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("starts_on", sa.Date(), nullable=False),
        sa.Column("ends_on", sa.Date(), nullable=True),
        sa.Column("amount", sa.Numeric(precision=12, scale=2), nullable=False),
        sa.Column("site_id", sa.Integer(), nullable=True),
        sa.Column("description", sa.String(length=5000), nullable=False),
        sa.Column("hours", sa.Numeric(precision=6, scale=2), nullable=True),
        sa.Column("participants", sa.Integer(), nullable=True),
        sa.Column("cancelled_at", app.models.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("created_at", app.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "kind IN ('formation', 'communication', 'partenariat', 'site', 'outils', 'autre')",
            name=op.f("ck_uo4_actions_uo4_action_kind_known"),
        ),
        sa.CheckConstraint("amount > 0", name=op.f("ck_uo4_actions_uo4_action_amount_positive")),
        sa.CheckConstraint(
            "ends_on IS NULL OR ends_on >= starts_on",
            name=op.f("ck_uo4_actions_uo4_action_ends_after"),
        ),
        sa.CheckConstraint(
            "hours IS NULL OR hours > 0", name=op.f("ck_uo4_actions_uo4_action_hours_positive")
        ),
        sa.CheckConstraint(
            "participants IS NULL OR participants > 0",
            name=op.f("ck_uo4_actions_uo4_action_participants_positive"),
        ),
        sa.ForeignKeyConstraint(
            ["operator_id"], ["operators.id"], name=op.f("fk_uo4_actions_operator_id_operators")
        ),
        sa.ForeignKeyConstraint(
            ["site_id"], ["sites.id"], name=op.f("fk_uo4_actions_site_id_sites")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_uo4_actions")),
    )
    with op.batch_alter_table("uo4_actions", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_uo4_actions_operator_id"), ["operator_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_uo4_actions_starts_on"), ["starts_on"], unique=False)

    op.create_table(
        "uo4_attendees",
        sa.Column("action_id", sa.Integer(), nullable=False),
        sa.Column("staff_id", sa.Integer(), nullable=False),
        sa.Column("hours", sa.Numeric(precision=6, scale=2), nullable=False),
        sa.CheckConstraint("hours > 0", name=op.f("ck_uo4_attendees_uo4_attendee_hours_positive")),
        sa.ForeignKeyConstraint(
            ["action_id"], ["uo4_actions.id"], name=op.f("fk_uo4_attendees_action_id_uo4_actions")
        ),
        sa.ForeignKeyConstraint(
            ["staff_id"], ["staff_users.id"], name=op.f("fk_uo4_attendees_staff_id_staff_users")
        ),
        sa.PrimaryKeyConstraint("action_id", "staff_id", name=op.f("pk_uo4_attendees")),
    )
    with op.batch_alter_table("uo4_attendees", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_uo4_attendees_staff_id"), ["staff_id"], unique=False)

    op.create_table(
        "uo4_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("operator_id", sa.Integer(), nullable=False),
        sa.Column("action_id", sa.Integer(), nullable=False),
        sa.Column("actor_id", sa.Integer(), nullable=True),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("detail", sa.String(length=4000), nullable=False),
        sa.Column("created_at", app.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "kind IN ('created', 'updated', 'cancelled', 'restored')",
            name=op.f("ck_uo4_events_uo4_event_kind_known"),
        ),
        sa.ForeignKeyConstraint(
            ["action_id"], ["uo4_actions.id"], name=op.f("fk_uo4_events_action_id_uo4_actions")
        ),
        sa.ForeignKeyConstraint(
            ["actor_id"], ["staff_users.id"], name=op.f("fk_uo4_events_actor_id_staff_users")
        ),
        sa.ForeignKeyConstraint(
            ["operator_id"], ["operators.id"], name=op.f("fk_uo4_events_operator_id_operators")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_uo4_events")),
    )
    with op.batch_alter_table("uo4_events", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_uo4_events_action_id"), ["action_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_uo4_events_operator_id"), ["operator_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("uo4_events", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_uo4_events_operator_id"))
        batch_op.drop_index(batch_op.f("ix_uo4_events_action_id"))

    op.drop_table("uo4_events")
    with op.batch_alter_table("uo4_attendees", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_uo4_attendees_staff_id"))

    op.drop_table("uo4_attendees")
    with op.batch_alter_table("uo4_actions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_uo4_actions_starts_on"))
        batch_op.drop_index(batch_op.f("ix_uo4_actions_operator_id"))

    op.drop_table("uo4_actions")
