"""A « STOP » answered to an SMS is a withdrawal of the consent to SMS: a channel of its own.

Revision ID: 5c3e1f0a7b21
Revises: 25fd1392a8e3
Create Date: 2026-12-07 12:40:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "5c3e1f0a7b21"
down_revision: str | None = "25fd1392a8e3"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

CHANNELS = "'online_booking', 'interview', 'phone', 'writing', 'survey_link', 'rights_request'"


def _channels(extra: str) -> None:
    with op.batch_alter_table("consent_records", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("ck_consent_records_consent_channel_known"), type_="check"
        )
        batch_op.create_check_constraint(
            batch_op.f("ck_consent_records_consent_channel_known"),
            f"channel IN ({CHANNELS}{extra}, 'earlier')",
        )


def upgrade() -> None:
    _channels(", 'sms_stop'")


def downgrade() -> None:
    op.execute("DELETE FROM consent_records WHERE channel = 'sms_stop'")
    _channels("")
