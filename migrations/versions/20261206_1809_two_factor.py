"""Two-factor sign-in for staff: each account's authenticator app (TOTP secret, last step
used), its single-use recovery codes and personal API keys (hashed), the logins waiting for
their second factor, the roles each operator requires it of (administrators and managers by
default, existing operators included), and the account history's new kinds of change.

Revision ID: b13fd65905bf
Revises: 764b5eb5967e
Create Date: 2026-12-06 18:09:55.606071+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import app.models.base

revision: str = "b13fd65905bf"
down_revision: str | None = "764b5eb5967e"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "staff_api_keys",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("staff_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=80), nullable=False),
        sa.Column("key_hash", sa.String(length=64), nullable=False),
        sa.Column("hint", sa.String(length=12), nullable=False),
        sa.Column("created_at", app.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("last_used_at", app.models.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("revoked_at", app.models.base.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["staff_id"], ["staff_users.id"], name=op.f("fk_staff_api_keys_staff_id_staff_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_staff_api_keys")),
        sa.UniqueConstraint("key_hash", name=op.f("uq_staff_api_keys_key_hash")),
    )
    with op.batch_alter_table("staff_api_keys", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_staff_api_keys_staff_id"), ["staff_id"], unique=False)

    op.create_table(
        "staff_login_steps",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("staff_id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("purpose", sa.String(length=10), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("created_at", app.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("expires_at", app.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("ended_at", app.models.base.UTCDateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "purpose IN ('code', 'enrolment')",
            name=op.f("ck_staff_login_steps_login_step_purpose_known"),
        ),
        sa.CheckConstraint(
            "failures >= 0", name=op.f("ck_staff_login_steps_login_step_failures_counted")
        ),
        sa.ForeignKeyConstraint(
            ["staff_id"], ["staff_users.id"], name=op.f("fk_staff_login_steps_staff_id_staff_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_staff_login_steps")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_staff_login_steps_token_hash")),
    )
    with op.batch_alter_table("staff_login_steps", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_staff_login_steps_staff_id"), ["staff_id"], unique=False
        )

    op.create_table(
        "staff_recovery_codes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("staff_id", sa.Integer(), nullable=False),
        sa.Column("code_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", app.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("used_at", app.models.base.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["staff_id"],
            ["staff_users.id"],
            name=op.f("fk_staff_recovery_codes_staff_id_staff_users"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_staff_recovery_codes")),
        sa.UniqueConstraint("code_hash", name=op.f("uq_staff_recovery_codes_code_hash")),
    )
    with op.batch_alter_table("staff_recovery_codes", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_staff_recovery_codes_staff_id"), ["staff_id"], unique=False
        )

    op.create_table(
        "staff_totp",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("staff_id", sa.Integer(), nullable=False),
        sa.Column("secret", sa.String(length=64), nullable=False),
        sa.Column("created_at", app.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("confirmed_at", app.models.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("last_counter", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["staff_id"], ["staff_users.id"], name=op.f("fk_staff_totp_staff_id_staff_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_staff_totp")),
        sa.UniqueConstraint("staff_id", name=op.f("uq_staff_totp_staff_id")),
    )
    with op.batch_alter_table("operators", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "two_factor_counsellors", sa.Boolean(), server_default=sa.false(), nullable=False
            )
        )
        batch_op.add_column(
            sa.Column("two_factor_managers", sa.Boolean(), server_default=sa.true(), nullable=False)
        )
        batch_op.add_column(
            sa.Column("two_factor_admins", sa.Boolean(), server_default=sa.true(), nullable=False)
        )

    with op.batch_alter_table("staff_events", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("ck_staff_events_staff_event_kind_known"), type_="check"
        )
        batch_op.create_check_constraint(
            batch_op.f("ck_staff_events_staff_event_kind_known"),
            "kind IN ('created', 'invited', 'invitation_resent', 'password_set', 'reset_requested', 'password_reset', 'role_changed', 'sites_changed', 'deactivated', 'reactivated', 'totp_enrolled', 'totp_disabled', 'totp_reset', 'codes_regenerated', 'recovery_code_used', 'api_key_created', 'api_key_revoked')",
        )


def downgrade() -> None:
    with op.batch_alter_table("staff_events", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("ck_staff_events_staff_event_kind_known"), type_="check"
        )
        batch_op.create_check_constraint(
            batch_op.f("ck_staff_events_staff_event_kind_known"),
            "kind IN ('created', 'invited', 'invitation_resent', 'password_set', 'reset_requested', 'password_reset', 'role_changed', 'sites_changed', 'deactivated', 'reactivated')",
        )

    with op.batch_alter_table("operators", schema=None) as batch_op:
        batch_op.drop_column("two_factor_admins")
        batch_op.drop_column("two_factor_managers")
        batch_op.drop_column("two_factor_counsellors")

    op.drop_table("staff_totp")
    with op.batch_alter_table("staff_recovery_codes", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_staff_recovery_codes_staff_id"))

    op.drop_table("staff_recovery_codes")
    with op.batch_alter_table("staff_login_steps", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_staff_login_steps_staff_id"))

    op.drop_table("staff_login_steps")
    with op.batch_alter_table("staff_api_keys", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_staff_api_keys_staff_id"))

    op.drop_table("staff_api_keys")
