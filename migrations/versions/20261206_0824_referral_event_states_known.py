"""A referral's history names only known states: `from_status` and `to_status` get the check
constraint `referrals.status` already has (the states of ReferralStatus, app/models/partners.py).
Every event ever written came from that enum, so existing rows pass.

Revision ID: 5399e3984628
Revises: c792948dfcf1
Create Date: 2026-12-06 08:24:07.877373
"""

from collections.abc import Sequence

from alembic import op

revision: str = "5399e3984628"
down_revision: str | None = "c792948dfcf1"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The states as they are at this revision (a later state comes with its own migration).
STATES = "'proposed', 'sent', 'accepted', 'declined', 'in_progress', 'completed', 'abandoned', 'expired'"  # fmt: skip
FROM_KNOWN = "ck_referral_events_referral_event_from_known"
TO_KNOWN = "ck_referral_events_referral_event_to_known"


def upgrade() -> None:
    with op.batch_alter_table("referral_events", schema=None) as batch_op:
        batch_op.create_check_constraint(
            batch_op.f(FROM_KNOWN), f"from_status IS NULL OR from_status IN ({STATES})"
        )
        batch_op.create_check_constraint(batch_op.f(TO_KNOWN), f"to_status IN ({STATES})")


def downgrade() -> None:
    with op.batch_alter_table("referral_events", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f(TO_KNOWN), type_="check")
        batch_op.drop_constraint(batch_op.f(FROM_KNOWN), type_="check")
