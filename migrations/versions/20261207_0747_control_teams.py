"""Controllers work in control teams (issue 19: « the controller sees only the campaigns it
opened, or its team's »). A controller belongs to exactly one team, named on its account;
other roles to none (a check constraint). Each controller already there gets a team of its
own, named after its e-mail, so that nobody reads a campaign it could not read before; the
system administrator then gathers them into real teams from « Équipe ».

Revision ID: 5aaf57651cb3
Revises: 891decf33eb6
Create Date: 2026-12-07 07:47:41.295518+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "5aaf57651cb3"
down_revision: str | None = "891decf33eb6"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

EVENT_KINDS = (
    "'created', 'invited', 'invitation_resent', 'password_set', 'reset_requested', "
    "'password_reset', 'role_changed', {}'sites_changed', 'deactivated', 'reactivated', "
    "'totp_enrolled', 'totp_disabled', 'totp_reset', 'codes_regenerated', "
    "'recovery_code_used', 'api_key_created', 'api_key_revoked'"
)


def _event_kinds(batch_op, *, with_team_change: bool) -> None:
    batch_op.drop_constraint(batch_op.f("ck_staff_events_staff_event_kind_known"), type_="check")
    kinds = EVENT_KINDS.format("'control_team_changed', " if with_team_change else "")
    batch_op.create_check_constraint(
        batch_op.f("ck_staff_events_staff_event_kind_known"), f"kind IN ({kinds})"
    )


def upgrade() -> None:
    with op.batch_alter_table("staff_events", schema=None) as batch_op:
        _event_kinds(batch_op, with_team_change=True)

    with op.batch_alter_table("staff_users", schema=None) as batch_op:
        batch_op.add_column(sa.Column("control_team", sa.String(length=80), nullable=True))
    op.execute(
        "UPDATE staff_users SET control_team = substr('Équipe de ' || email, 1, 80)"
        " WHERE role = 'controller'"
    )
    with op.batch_alter_table("staff_users", schema=None) as batch_op:
        batch_op.create_check_constraint(
            batch_op.f("ck_staff_users_control_team_for_controllers"),
            "(role = 'controller' AND control_team IS NOT NULL AND control_team <> '')"
            " OR (role <> 'controller' AND control_team IS NULL)",
        )


def downgrade() -> None:
    with op.batch_alter_table("staff_users", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("ck_staff_users_control_team_for_controllers"), type_="check"
        )
        batch_op.drop_column("control_team")

    op.execute("DELETE FROM staff_events WHERE kind = 'control_team_changed'")
    with op.batch_alter_table("staff_events", schema=None) as batch_op:
        _event_kinds(batch_op, with_team_change=False)
