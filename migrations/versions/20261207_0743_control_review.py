"""The controller reviews each sampled unit, the operator answers a finding once, the controller
closes the campaign (issue 19, items 3 and 4): a table of findings, three more kinds of history
event, a « closed » phase with its time and author.

On SQLite, altering the events' check constraint copies the table, which drops its triggers:
they are created again, so that the history stays write-once on both engines.

Revision ID: 891decf33eb6
Revises: d8ec206ca60e
Create Date: 2026-12-07 07:43:47.872542+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import app.models.base

revision: str = "891decf33eb6"
down_revision: str | None = "d8ec206ca60e"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "control_findings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("campaign_id", sa.Integer(), nullable=False),
        sa.Column("episode_id", sa.Integer(), nullable=False),
        sa.Column("verdict", sa.String(length=12), nullable=False),
        sa.Column("reason", sa.String(length=16), nullable=True),
        sa.Column("reason_text", sa.String(length=1000), nullable=False),
        sa.Column("comment", sa.String(length=1000), nullable=False),
        sa.Column("amount", sa.Numeric(precision=12, scale=2), nullable=True),
        sa.Column("reviewed_at", app.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("reviewed_by_id", sa.Integer(), nullable=False),
        sa.Column("answer", sa.Text(), nullable=True),
        sa.Column("answered_at", app.models.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("answered_by_id", sa.Integer(), nullable=True),
        sa.CheckConstraint(
            "(verdict = 'non_conform') = (reason IS NOT NULL)",
            name=op.f("ck_control_findings_finding_reason_when"),
        ),
        sa.CheckConstraint(
            "answer IS NULL OR verdict = 'non_conform'",
            name=op.f("ck_control_findings_finding_answer_non_conform"),
        ),
        sa.CheckConstraint(
            "reason IS NULL OR reason <> 'other' OR reason_text <> ''",
            name=op.f("ck_control_findings_finding_other_said"),
        ),
        sa.CheckConstraint(
            "reason IS NULL OR reason IN ('missing_proof', 'late_proof', 'not_delivered', 'duplicate', 'other')",
            name=op.f("ck_control_findings_finding_reason_known"),
        ),
        sa.CheckConstraint(
            "verdict IN ('conform', 'non_conform')",
            name=op.f("ck_control_findings_finding_verdict_known"),
        ),
        sa.CheckConstraint(
            "(answer IS NULL) = (answered_at IS NULL)",
            name=op.f("ck_control_findings_finding_answered_when"),
        ),
        sa.ForeignKeyConstraint(
            ["answered_by_id"],
            ["staff_users.id"],
            name=op.f("fk_control_findings_answered_by_id_staff_users"),
        ),
        sa.ForeignKeyConstraint(
            ["campaign_id"],
            ["control_campaigns.id"],
            name=op.f("fk_control_findings_campaign_id_control_campaigns"),
        ),
        sa.ForeignKeyConstraint(
            ["episode_id"], ["episodes.id"], name=op.f("fk_control_findings_episode_id_episodes")
        ),
        sa.ForeignKeyConstraint(
            ["reviewed_by_id"],
            ["staff_users.id"],
            name=op.f("fk_control_findings_reviewed_by_id_staff_users"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_control_findings")),
        sa.UniqueConstraint(
            "campaign_id", "episode_id", name=op.f("uq_control_findings_campaign_id_episode_id")
        ),
    )
    with op.batch_alter_table("control_findings", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_control_findings_episode_id"), ["episode_id"], unique=False
        )

    with op.batch_alter_table("control_campaign_events", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("ck_control_campaign_events_campaign_event_kind_known"), type_="check"
        )
        batch_op.create_check_constraint(
            batch_op.f("ck_control_campaign_events_campaign_event_kind_known"),
            "kind IN ('opened', 'drawn', 'proof_added', 'submitted', 'reviewed', 'answered', 'closed')",
        )
    _refuse_changes_again()

    with op.batch_alter_table("control_campaigns", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("closed_at", app.models.base.UTCDateTime(timezone=True), nullable=True)
        )
        batch_op.add_column(sa.Column("closed_by_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_control_campaigns_closed_by_id_staff_users"),
            "staff_users",
            ["closed_by_id"],
            ["id"],
        )
        batch_op.create_check_constraint(
            batch_op.f("ck_control_campaigns_campaign_closed_when"),
            "(phase = 'closed') = (closed_at IS NOT NULL)",
        )
        batch_op.drop_constraint(
            batch_op.f("ck_control_campaigns_campaign_submitted_when"), type_="check"
        )
        batch_op.create_check_constraint(
            batch_op.f("ck_control_campaigns_campaign_submitted_when"),
            "phase = 'closed' OR (phase = 'submitted') = (submitted_at IS NOT NULL)",
        )
        batch_op.drop_constraint(
            batch_op.f("ck_control_campaigns_campaign_phase_known"), type_="check"
        )
        batch_op.create_check_constraint(
            batch_op.f("ck_control_campaigns_campaign_phase_known"),
            "phase IN ('open', 'submitted', 'closed')",
        )


_REFUSE = "control_campaign_events are written once, never changed"


def _refuse_changes_again() -> None:
    """SQLite's triggers of the events, lost with the copied table (PostgreSQL keeps its own)."""
    if op.get_bind().dialect.name == "postgresql":
        return
    for action in ("UPDATE", "DELETE"):
        op.execute(
            f"CREATE TRIGGER control_campaign_events_no_{action.lower()} BEFORE {action} "
            f"ON control_campaign_events BEGIN SELECT RAISE(ABORT, '{_REFUSE}'); END"
        )


def downgrade() -> None:
    # A campaign closed, and every finding, is lost: a downgrade is for a deployment that
    # failed, before any campaign was reviewed under this schema.
    with op.batch_alter_table("control_campaigns", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("ck_control_campaigns_campaign_phase_known"), type_="check"
        )
        batch_op.create_check_constraint(
            batch_op.f("ck_control_campaigns_campaign_phase_known"),
            "phase IN ('open', 'submitted')",
        )
        batch_op.drop_constraint(
            batch_op.f("ck_control_campaigns_campaign_submitted_when"), type_="check"
        )
        batch_op.create_check_constraint(
            batch_op.f("ck_control_campaigns_campaign_submitted_when"),
            "(phase = 'submitted') = (submitted_at IS NOT NULL)",
        )
        batch_op.drop_constraint(
            batch_op.f("ck_control_campaigns_campaign_closed_when"), type_="check"
        )
        batch_op.drop_constraint(
            batch_op.f("fk_control_campaigns_closed_by_id_staff_users"), type_="foreignkey"
        )
        batch_op.drop_column("closed_by_id")
        batch_op.drop_column("closed_at")

    with op.batch_alter_table("control_campaign_events", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("ck_control_campaign_events_campaign_event_kind_known"), type_="check"
        )
        batch_op.create_check_constraint(
            batch_op.f("ck_control_campaign_events_campaign_event_kind_known"),
            "kind IN ('opened', 'drawn', 'proof_added', 'submitted')",
        )
    _refuse_changes_again()

    with op.batch_alter_table("control_findings", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_control_findings_episode_id"))

    op.drop_table("control_findings")
