"""Staff accounts in the browser (« Équipe »): the e-mailed links that set a password
(invitations and resets, each used once), the record of every change to an account, and when
its password was last chosen. Existing accounts chose theirs when they were created.

Revision ID: c11d7bb5eb61
Revises: 8984f7c0f292
Create Date: 2026-12-06 15:05:30.285081+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import app.models.base

revision: str = "c11d7bb5eb61"
down_revision: str | None = "8984f7c0f292"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "staff_account_links",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("staff_id", sa.Integer(), nullable=False),
        sa.Column("purpose", sa.String(length=12), nullable=False),
        sa.Column("nonce_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", app.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("expires_at", app.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("used_at", app.models.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("revoked_at", app.models.base.UTCDateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "purpose IN ('invitation', 'reset')",
            name=op.f("ck_staff_account_links_account_link_purpose_known"),
        ),
        sa.CheckConstraint(
            "used_at IS NULL OR revoked_at IS NULL",
            name=op.f("ck_staff_account_links_account_link_one_end"),
        ),
        sa.ForeignKeyConstraint(
            ["staff_id"],
            ["staff_users.id"],
            name=op.f("fk_staff_account_links_staff_id_staff_users"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_staff_account_links")),
        sa.UniqueConstraint("nonce_hash", name=op.f("uq_staff_account_links_nonce_hash")),
    )
    with op.batch_alter_table("staff_account_links", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_staff_account_links_staff_id"), ["staff_id"], unique=False
        )

    op.create_table(
        "staff_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("operator_id", sa.Integer(), nullable=True),
        sa.Column("staff_id", sa.Integer(), nullable=False),
        sa.Column("actor_id", sa.Integer(), nullable=True),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("detail", sa.String(length=1000), nullable=False),
        sa.Column("created_at", app.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "kind IN ('created', 'invited', 'invitation_resent', 'password_set', 'reset_requested', 'password_reset', 'role_changed', 'sites_changed', 'deactivated', 'reactivated')",
            name=op.f("ck_staff_events_staff_event_kind_known"),
        ),
        sa.ForeignKeyConstraint(
            ["actor_id"], ["staff_users.id"], name=op.f("fk_staff_events_actor_id_staff_users")
        ),
        sa.ForeignKeyConstraint(
            ["operator_id"], ["operators.id"], name=op.f("fk_staff_events_operator_id_operators")
        ),
        sa.ForeignKeyConstraint(
            ["staff_id"], ["staff_users.id"], name=op.f("fk_staff_events_staff_id_staff_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_staff_events")),
    )
    with op.batch_alter_table("staff_events", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_staff_events_operator_id"), ["operator_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_staff_events_staff_id"), ["staff_id"], unique=False)

    with op.batch_alter_table("staff_users", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("password_set_at", app.models.base.UTCDateTime(timezone=True), nullable=True)
        )
    op.execute("UPDATE staff_users SET password_set_at = created_at")


def downgrade() -> None:
    with op.batch_alter_table("staff_users", schema=None) as batch_op:
        batch_op.drop_column("password_set_at")

    with op.batch_alter_table("staff_events", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_staff_events_staff_id"))
        batch_op.drop_index(batch_op.f("ix_staff_events_operator_id"))

    op.drop_table("staff_events")
    with op.batch_alter_table("staff_account_links", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_staff_account_links_staff_id"))

    op.drop_table("staff_account_links")
