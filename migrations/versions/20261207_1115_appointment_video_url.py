"""Appointments: the video room of a video appointment (empty for other modes, or when no
FILROUGE_VIDEO_BASE_URL is set).

Revision ID: 664039d75f82
Revises: 6a2c414ba8ba
Create Date: 2026-12-07 11:15:51.166459+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "664039d75f82"
down_revision: str | None = "6a2c414ba8ba"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("appointments", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("video_url", sa.String(length=300), server_default="", nullable=False)
        )


def downgrade() -> None:
    with op.batch_alter_table("appointments", schema=None) as batch_op:
        batch_op.drop_column("video_url")
