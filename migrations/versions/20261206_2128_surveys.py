"""Satisfaction and utility surveys: each operator's questionnaire versions, the invitations
(one per episode and kind, scheduled, sent, answered or not contactable) and their answers;
the beneficiary's agreement to be asked, and when they opted out.

Revision ID: 9f3f63989f9a
Revises: b13fd65905bf
Create Date: 2026-12-06 21:28:31.400863+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import app.models.base

revision: str = "9f3f63989f9a"
down_revision: str | None = "b13fd65905bf"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "survey_questionnaires",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("operator_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("intro", sa.String(length=2000), nullable=False),
        sa.Column("questions", sa.JSON(), nullable=False),
        sa.Column("created_at", app.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.CheckConstraint(
            "kind IN ('fin_niveau_1', 'fin_niveau_2', 'utilite_6_mois')",
            name=op.f("ck_survey_questionnaires_survey_questionnaire_kind_known"),
        ),
        sa.ForeignKeyConstraint(
            ["created_by_id"],
            ["staff_users.id"],
            name=op.f("fk_survey_questionnaires_created_by_id_staff_users"),
        ),
        sa.ForeignKeyConstraint(
            ["operator_id"],
            ["operators.id"],
            name=op.f("fk_survey_questionnaires_operator_id_operators"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_survey_questionnaires")),
        sa.UniqueConstraint(
            "operator_id",
            "kind",
            "version",
            name=op.f("uq_survey_questionnaires_operator_id_kind_version"),
        ),
    )
    with op.batch_alter_table("survey_questionnaires", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_survey_questionnaires_operator_id"), ["operator_id"], unique=False
        )

    op.create_table(
        "survey_invitations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("operator_id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("beneficiary_id", sa.Integer(), nullable=False),
        sa.Column("episode_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("level", sa.Integer(), nullable=False),
        sa.Column("site_id", sa.Integer(), nullable=True),
        sa.Column("counsellor_id", sa.Integer(), nullable=True),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("due_at", app.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("channel", sa.String(length=10), nullable=False),
        sa.Column("questionnaire_id", sa.Integer(), nullable=True),
        sa.Column("sent_at", app.models.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("reminded_at", app.models.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("answered_at", app.models.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("link_nonce", sa.String(length=64), nullable=True),
        sa.Column("created_at", app.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "kind IN ('fin_niveau_1', 'fin_niveau_2', 'utilite_6_mois')",
            name=op.f("ck_survey_invitations_survey_invitation_kind_known"),
        ),
        sa.CheckConstraint(
            "status IN ('programmee', 'envoyee', 'repondue', 'non_contactable', 'desinscrite', 'annulee')",
            name=op.f("ck_survey_invitations_survey_invitation_status_known"),
        ),
        sa.ForeignKeyConstraint(
            ["beneficiary_id"],
            ["beneficiaries.id"],
            name=op.f("fk_survey_invitations_beneficiary_id_beneficiaries"),
        ),
        sa.ForeignKeyConstraint(
            ["case_id"], ["cases.id"], name=op.f("fk_survey_invitations_case_id_cases")
        ),
        sa.ForeignKeyConstraint(
            ["counsellor_id"],
            ["staff_users.id"],
            name=op.f("fk_survey_invitations_counsellor_id_staff_users"),
        ),
        sa.ForeignKeyConstraint(
            ["episode_id"], ["episodes.id"], name=op.f("fk_survey_invitations_episode_id_episodes")
        ),
        sa.ForeignKeyConstraint(
            ["operator_id"],
            ["operators.id"],
            name=op.f("fk_survey_invitations_operator_id_operators"),
        ),
        sa.ForeignKeyConstraint(
            ["questionnaire_id"],
            ["survey_questionnaires.id"],
            name=op.f("fk_survey_invitations_questionnaire_id_survey_questionnaires"),
        ),
        sa.ForeignKeyConstraint(
            ["site_id"], ["sites.id"], name=op.f("fk_survey_invitations_site_id_sites")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_survey_invitations")),
        sa.UniqueConstraint(
            "kind", "episode_id", name=op.f("uq_survey_invitations_kind_episode_id")
        ),
    )
    with op.batch_alter_table("survey_invitations", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_survey_invitations_beneficiary_id"), ["beneficiary_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_survey_invitations_case_id"), ["case_id"], unique=False
        )
        batch_op.create_index(
            "ix_survey_invitations_operator_sent_at", ["operator_id", "sent_at"], unique=False
        )
        batch_op.create_index(
            "ix_survey_invitations_status_due_at", ["status", "due_at"], unique=False
        )

    op.create_table(
        "survey_responses",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("operator_id", sa.Integer(), nullable=False),
        sa.Column("invitation_id", sa.Integer(), nullable=False),
        sa.Column("questionnaire_id", sa.Integer(), nullable=False),
        sa.Column("answers", sa.JSON(), nullable=False),
        sa.Column("comment", sa.Text(), nullable=False),
        sa.Column("satisfied", sa.Boolean(), nullable=True),
        sa.Column("useful", sa.Boolean(), nullable=True),
        sa.Column("started_at", app.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", app.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("submitted_at", app.models.base.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["invitation_id"],
            ["survey_invitations.id"],
            name=op.f("fk_survey_responses_invitation_id_survey_invitations"),
        ),
        sa.ForeignKeyConstraint(
            ["operator_id"],
            ["operators.id"],
            name=op.f("fk_survey_responses_operator_id_operators"),
        ),
        sa.ForeignKeyConstraint(
            ["questionnaire_id"],
            ["survey_questionnaires.id"],
            name=op.f("fk_survey_responses_questionnaire_id_survey_questionnaires"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_survey_responses")),
        sa.UniqueConstraint("invitation_id", name=op.f("uq_survey_responses_invitation_id")),
    )
    with op.batch_alter_table("survey_responses", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_survey_responses_operator_id"), ["operator_id"], unique=False
        )
        batch_op.create_index(
            "ix_survey_responses_invitation_counted",
            ["invitation_id", "submitted_at", "satisfied", "useful"],
            unique=False,
        )

    with op.batch_alter_table("beneficiaries", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "survey_consent_at", app.models.base.UTCDateTime(timezone=True), nullable=True
            )
        )
        batch_op.add_column(
            sa.Column(
                "survey_opt_out_at", app.models.base.UTCDateTime(timezone=True), nullable=True
            )
        )


def downgrade() -> None:
    with op.batch_alter_table("beneficiaries", schema=None) as batch_op:
        batch_op.drop_column("survey_opt_out_at")
        batch_op.drop_column("survey_consent_at")

    with op.batch_alter_table("survey_responses", schema=None) as batch_op:
        batch_op.drop_index("ix_survey_responses_invitation_counted")
        batch_op.drop_index(batch_op.f("ix_survey_responses_operator_id"))

    op.drop_table("survey_responses")
    with op.batch_alter_table("survey_invitations", schema=None) as batch_op:
        batch_op.drop_index("ix_survey_invitations_status_due_at")
        batch_op.drop_index("ix_survey_invitations_operator_sent_at")
        batch_op.drop_index(batch_op.f("ix_survey_invitations_case_id"))
        batch_op.drop_index(batch_op.f("ix_survey_invitations_beneficiary_id"))

    op.drop_table("survey_invitations")
    with op.batch_alter_table("survey_questionnaires", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_survey_questionnaires_operator_id"))

    op.drop_table("survey_questionnaires")
