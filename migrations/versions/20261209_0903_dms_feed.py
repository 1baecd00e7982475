"""The document systems' feed (issue 23): each issued version's place in its operator's issue
order (`feed_seq`, numbered for the versions already issued in (issued_at, id) order), and
the operators' API clients.

Revision ID: b099d232a5e5
Revises: 3f0c2a9d7b61
Create Date: 2026-12-07 22:20:00+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import app.models.base

revision: str = "b099d232a5e5"
down_revision: str | None = "3f0c2a9d7b61"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

FEED_UNIQUE = "uq_deliverable_versions_operator_id_feed_seq"
# Each operator's versions numbered 1, 2, 3… in the order they were issued.
BACKFILL = """
UPDATE deliverable_versions SET feed_seq = numbered.n
FROM (
    SELECT id, ROW_NUMBER() OVER (PARTITION BY operator_id ORDER BY issued_at, id) AS n
    FROM deliverable_versions
) AS numbered
WHERE deliverable_versions.id = numbered.id
"""


def upgrade() -> None:
    with op.batch_alter_table("deliverable_versions", schema=None) as batch_op:
        batch_op.add_column(sa.Column("feed_seq", sa.Integer(), nullable=True))
    op.execute(BACKFILL)
    with op.batch_alter_table("deliverable_versions", schema=None) as batch_op:
        batch_op.alter_column("feed_seq", existing_type=sa.Integer(), nullable=False)
        batch_op.create_unique_constraint(FEED_UNIQUE, ["operator_id", "feed_seq"])

    op.create_table(
        "api_clients",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("operator_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=80), nullable=False),
        sa.Column("scope", sa.String(length=40), nullable=False),
        sa.Column("client_id", sa.String(length=40), nullable=False),
        sa.Column("secret_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", app.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("last_used_at", app.models.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("revoked_at", app.models.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("revoked_by_id", sa.Integer(), nullable=True),
        sa.CheckConstraint(
            "scope IN ('documents:read')", name=op.f("ck_api_clients_api_client_scope_known")
        ),
        sa.ForeignKeyConstraint(
            ["created_by_id"],
            ["staff_users.id"],
            name=op.f("fk_api_clients_created_by_id_staff_users"),
        ),
        sa.ForeignKeyConstraint(
            ["operator_id"], ["operators.id"], name=op.f("fk_api_clients_operator_id_operators")
        ),
        sa.ForeignKeyConstraint(
            ["revoked_by_id"],
            ["staff_users.id"],
            name=op.f("fk_api_clients_revoked_by_id_staff_users"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_api_clients")),
        sa.UniqueConstraint("client_id", name=op.f("uq_api_clients_client_id")),
    )
    with op.batch_alter_table("api_clients", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_api_clients_operator_id"), ["operator_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("api_clients", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_api_clients_operator_id"))
    op.drop_table("api_clients")
    with op.batch_alter_table("deliverable_versions", schema=None) as batch_op:
        batch_op.drop_constraint(FEED_UNIQUE, type_="unique")
        batch_op.drop_column("feed_seq")
