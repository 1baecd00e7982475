"""The personal space (/mon-espace): its links (the token's hash, bound to one person, expiring,
revocable), and the person acting there themselves, as a consent channel and as the way a
rights request arrived.

Revision ID: 89940a31c6b7
Revises: 5d0d5c034b4e
Create Date: 2026-12-07 14:46:32.661452+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import app.models.base

revision: str = "89940a31c6b7"
down_revision: str | None = "5d0d5c034b4e"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

CHANNELS = "'online_booking', 'interview', 'phone', 'writing', 'survey_link', 'sms_stop', "
CHANNELS += "'rights_request'"
VIAS = "'letter', 'email', 'in_person', 'phone'"


def _allowed(channel: str, via: str) -> None:
    with op.batch_alter_table("consent_records", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("ck_consent_records_consent_channel_known"), type_="check"
        )
        batch_op.create_check_constraint(
            batch_op.f("ck_consent_records_consent_channel_known"),
            f"channel IN ({CHANNELS}{channel}, 'earlier')",
        )
    with op.batch_alter_table("rights_requests", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("ck_rights_requests_rights_request_via_known"), type_="check"
        )
        batch_op.create_check_constraint(
            batch_op.f("ck_rights_requests_rights_request_via_known"),
            f"received_via IN ({VIAS}{via}, 'other')",
        )


def upgrade() -> None:
    op.create_table(
        "personal_space_links",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("operator_id", sa.Integer(), nullable=False),
        sa.Column("beneficiary_id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("purpose", sa.String(length=20), nullable=False),
        sa.Column("created_at", app.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("expires_at", app.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", app.models.base.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["beneficiary_id"],
            ["beneficiaries.id"],
            name=op.f("fk_personal_space_links_beneficiary_id_beneficiaries"),
        ),
        sa.ForeignKeyConstraint(
            ["operator_id"],
            ["operators.id"],
            name=op.f("fk_personal_space_links_operator_id_operators"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_personal_space_links")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_personal_space_links_token_hash")),
    )
    with op.batch_alter_table("personal_space_links", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_personal_space_links_beneficiary_id"), ["beneficiary_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_personal_space_links_operator_id"), ["operator_id"], unique=False
        )
    _allowed(", 'personal_space'", ", 'personal_space'")


def downgrade() -> None:
    op.execute("DELETE FROM consent_records WHERE channel = 'personal_space'")
    op.execute(
        "UPDATE rights_requests SET received_via = 'other' WHERE received_via = 'personal_space'"
    )
    _allowed("", "")
    with op.batch_alter_table("personal_space_links", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_personal_space_links_operator_id"))
        batch_op.drop_index(batch_op.f("ix_personal_space_links_beneficiary_id"))
    op.drop_table("personal_space_links")
