"""A document link can be revoked: each shared version keeps the nonce its link carries
(emptied on revocation, renewed when the version is shared again) and its last revocation
(when, by whom). Versions shared before keep no nonce: their links, which carry none, stay
valid until revoked or expired.

Revision ID: e1a8965dc426
Revises: 7d5b5af421c3
Create Date: 2026-12-06 05:41:32.323906
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import app.models.base

revision: str = "e1a8965dc426"
down_revision: str | None = "7d5b5af421c3"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

REVOKED_BY_FK = "fk_deliverable_versions_link_revoked_by_id_staff_users"


def upgrade() -> None:
    with op.batch_alter_table("deliverable_versions", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("link_nonce", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=True)
        )
        batch_op.add_column(
            sa.Column("link_revoked_at", app.models.base.UTCDateTime(timezone=True), nullable=True)
        )
        batch_op.add_column(sa.Column("link_revoked_by_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f(REVOKED_BY_FK), "staff_users", ["link_revoked_by_id"], ["id"]
        )


def downgrade() -> None:
    with op.batch_alter_table("deliverable_versions", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f(REVOKED_BY_FK), type_="foreignkey")
        batch_op.drop_column("link_revoked_by_id")
        batch_op.drop_column("link_revoked_at")
        batch_op.drop_column("link_nonce")
