"""Sites and permanences in the browser: a site's phone and the moment it closed, the
permanences a site holds in partners' premises (and who holds them), and the record of every
change made to a site.

Revision ID: 2816f8758071
Revises: c11d7bb5eb61
Create Date: 2026-12-06 18:05:24.970212+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import app.models.base

revision: str = "2816f8758071"
down_revision: str | None = "c11d7bb5eb61"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "site_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("operator_id", sa.Integer(), nullable=False),
        sa.Column("site_id", sa.Integer(), nullable=False),
        sa.Column("actor_id", sa.Integer(), nullable=True),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("detail", sa.String(length=2000), nullable=False),
        sa.Column("created_at", app.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "kind IN ('created', 'edited', 'closed', 'staff_attached', 'staff_detached', 'permanence_added', 'permanence_edited', 'permanence_ended')",
            name=op.f("ck_site_events_site_event_kind_known"),
        ),
        sa.ForeignKeyConstraint(
            ["actor_id"], ["staff_users.id"], name=op.f("fk_site_events_actor_id_staff_users")
        ),
        sa.ForeignKeyConstraint(
            ["operator_id"], ["operators.id"], name=op.f("fk_site_events_operator_id_operators")
        ),
        sa.ForeignKeyConstraint(
            ["site_id"], ["sites.id"], name=op.f("fk_site_events_site_id_sites")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_site_events")),
    )
    with op.batch_alter_table("site_events", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_site_events_operator_id"), ["operator_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_site_events_site_id"), ["site_id"], unique=False)

    op.create_table(
        "site_permanences",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("operator_id", sa.Integer(), nullable=False),
        sa.Column("site_id", sa.Integer(), nullable=False),
        sa.Column("venue", sa.String(length=120), nullable=False),
        sa.Column("address", sa.String(length=200), nullable=False),
        sa.Column("postcode", sa.String(length=5), nullable=False),
        sa.Column("city", sa.String(length=80), nullable=False),
        sa.Column("weekdays", sa.String(length=7), nullable=False),
        sa.Column("start_time", sa.Time(), nullable=False),
        sa.Column("end_time", sa.Time(), nullable=False),
        sa.Column("starts_on", sa.Date(), nullable=False),
        sa.Column("ends_on", sa.Date(), nullable=True),
        sa.Column("ended_at", app.models.base.UTCDateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "end_time > start_time", name=op.f("ck_site_permanences_permanence_ends_after_start")
        ),
        sa.CheckConstraint(
            "ends_on IS NULL OR ends_on >= starts_on",
            name=op.f("ck_site_permanences_permanence_dates_in_order"),
        ),
        sa.ForeignKeyConstraint(
            ["operator_id"],
            ["operators.id"],
            name=op.f("fk_site_permanences_operator_id_operators"),
        ),
        sa.ForeignKeyConstraint(
            ["site_id"], ["sites.id"], name=op.f("fk_site_permanences_site_id_sites")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_site_permanences")),
    )
    with op.batch_alter_table("site_permanences", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_site_permanences_operator_id"), ["operator_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_site_permanences_site_id"), ["site_id"], unique=False)

    op.create_table(
        "site_permanence_staff",
        sa.Column("permanence_id", sa.Integer(), nullable=False),
        sa.Column("staff_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["permanence_id"],
            ["site_permanences.id"],
            name=op.f("fk_site_permanence_staff_permanence_id_site_permanences"),
        ),
        sa.ForeignKeyConstraint(
            ["staff_id"],
            ["staff_users.id"],
            name=op.f("fk_site_permanence_staff_staff_id_staff_users"),
        ),
        sa.PrimaryKeyConstraint("permanence_id", "staff_id", name=op.f("pk_site_permanence_staff")),
    )
    with op.batch_alter_table("sites", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("phone", sa.String(length=20), server_default="", nullable=False)
        )
        batch_op.add_column(
            sa.Column("closed_at", app.models.base.UTCDateTime(timezone=True), nullable=True)
        )


def downgrade() -> None:
    with op.batch_alter_table("sites", schema=None) as batch_op:
        batch_op.drop_column("closed_at")
        batch_op.drop_column("phone")

    op.drop_table("site_permanence_staff")
    with op.batch_alter_table("site_permanences", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_site_permanences_site_id"))
        batch_op.drop_index(batch_op.f("ix_site_permanences_operator_id"))

    op.drop_table("site_permanences")
    with op.batch_alter_table("site_events", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_site_events_site_id"))
        batch_op.drop_index(batch_op.f("ix_site_events_operator_id"))

    op.drop_table("site_events")
