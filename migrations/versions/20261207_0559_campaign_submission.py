"""Official campaigns get a deadline, a submission and an immutable history (issue 19, items 2
and 5). An official campaign opened before gets the default deadline, 30 days after its
opening; its history starts empty (nothing is written after the fact: the page says so).
Triggers refuse any UPDATE or DELETE of a history event, on both engines.

Revision ID: d8ec206ca60e
Revises: 21d426f11697
Create Date: 2026-12-07 05:59:00.162657+00:00
"""

from collections.abc import Sequence
from datetime import timedelta

import sqlalchemy as sa
from alembic import op

import app.models.base

revision: str = "d8ec206ca60e"
down_revision: str | None = "21d426f11697"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_REFUSE = "control_campaign_events are written once, never changed"


def upgrade() -> None:
    op.create_table(
        "control_campaign_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("campaign_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("at", app.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("author_id", sa.Integer(), nullable=True),
        sa.Column("episode_id", sa.Integer(), nullable=True),
        sa.Column("deliverable_kind_id", sa.Integer(), nullable=True),
        sa.Column("detail", sa.String(length=300), nullable=False),
        sa.CheckConstraint(
            "kind IN ('opened', 'drawn', 'proof_added', 'submitted')",
            name=op.f("ck_control_campaign_events_campaign_event_kind_known"),
        ),
        sa.ForeignKeyConstraint(
            ["author_id"],
            ["staff_users.id"],
            name=op.f("fk_control_campaign_events_author_id_staff_users"),
        ),
        sa.ForeignKeyConstraint(
            ["campaign_id"],
            ["control_campaigns.id"],
            name=op.f("fk_control_campaign_events_campaign_id_control_campaigns"),
        ),
        sa.ForeignKeyConstraint(
            ["deliverable_kind_id"],
            ["deliverable_kinds.id"],
            name=op.f("fk_control_campaign_events_deliverable_kind_id_deliverable_kinds"),
        ),
        sa.ForeignKeyConstraint(
            ["episode_id"],
            ["episodes.id"],
            name=op.f("fk_control_campaign_events_episode_id_episodes"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_control_campaign_events")),
        sa.UniqueConstraint(
            "campaign_id",
            "episode_id",
            "deliverable_kind_id",
            name=op.f("uq_control_campaign_events_campaign_id_episode_id_deliverable_kind_id"),
        ),
    )
    _refuse_changes()
    with op.batch_alter_table("control_campaigns", schema=None) as batch_op:
        batch_op.add_column(sa.Column("deadline", sa.Date(), nullable=True))
        batch_op.add_column(
            sa.Column("phase", sa.String(length=10), server_default="open", nullable=False)
        )
        batch_op.add_column(
            sa.Column("submitted_at", app.models.base.UTCDateTime(timezone=True), nullable=True)
        )
        batch_op.add_column(sa.Column("submitted_by_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_control_campaigns_submitted_by_id_staff_users"),
            "staff_users",
            ["submitted_by_id"],
            ["id"],
        )
    _default_deadlines()
    with op.batch_alter_table("control_campaigns", schema=None) as batch_op:
        batch_op.create_check_constraint(
            batch_op.f("ck_control_campaigns_campaign_deadline"),
            "kind <> 'official' OR deadline IS NOT NULL",
        )
        batch_op.create_check_constraint(
            batch_op.f("ck_control_campaigns_campaign_phase_known"),
            "phase IN ('open', 'submitted')",
        )
        batch_op.create_check_constraint(
            batch_op.f("ck_control_campaigns_campaign_submitted_when"),
            "(phase = 'submitted') = (submitted_at IS NOT NULL)",
        )


def _default_deadlines() -> None:
    """30 days after the opening's day (UTC: close enough for campaigns opened before)."""
    campaigns = sa.table(
        "control_campaigns",
        sa.column("id", sa.Integer),
        sa.column("kind", sa.String),
        sa.column("created_at", app.models.base.UTCDateTime(timezone=True)),
        sa.column("deadline", sa.Date),
    )
    connection = op.get_bind()
    official = connection.execute(
        sa.select(campaigns.c.id, campaigns.c.created_at).where(campaigns.c.kind == "official")
    ).all()
    for campaign_id, created_at in official:
        connection.execute(
            campaigns.update()
            .where(campaigns.c.id == campaign_id)
            .values(deadline=created_at.date() + timedelta(days=30))
        )


def _refuse_changes() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            "CREATE FUNCTION control_campaign_events_immutable() RETURNS trigger "
            f"LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION '{_REFUSE}'; END; $$"
        )
        op.execute(
            "CREATE TRIGGER control_campaign_events_immutable BEFORE UPDATE OR DELETE "
            "ON control_campaign_events FOR EACH ROW "
            "EXECUTE FUNCTION control_campaign_events_immutable()"
        )
        return
    for action in ("UPDATE", "DELETE"):
        op.execute(
            f"CREATE TRIGGER control_campaign_events_no_{action.lower()} BEFORE {action} "
            f"ON control_campaign_events BEGIN SELECT RAISE(ABORT, '{_REFUSE}'); END"
        )


def downgrade() -> None:
    # The history and the submissions are dropped with their columns: a downgrade is for a
    # deployment that failed, before any control was submitted under this schema.
    with op.batch_alter_table("control_campaigns", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("ck_control_campaigns_campaign_submitted_when"), type_="check"
        )
        batch_op.drop_constraint(
            batch_op.f("ck_control_campaigns_campaign_phase_known"), type_="check"
        )
        batch_op.drop_constraint(
            batch_op.f("ck_control_campaigns_campaign_deadline"), type_="check"
        )
        batch_op.drop_constraint(
            batch_op.f("fk_control_campaigns_submitted_by_id_staff_users"), type_="foreignkey"
        )
        batch_op.drop_column("submitted_by_id")
        batch_op.drop_column("submitted_at")
        batch_op.drop_column("phase")
        batch_op.drop_column("deadline")
    op.drop_table("control_campaign_events")
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP FUNCTION control_campaign_events_immutable()")
