"""Each case keeps its firsts: the first contact (its opening, or the triage request received
before it) and the first appointment not cancelled, so that the activity report reads them in
one pass over the cases instead of two look-ups per case. The ORM keeps them from now on
(app/models/case_firsts.py); existing cases are filled here in one set-based UPDATE.

Revision ID: a7c31f0d9e21
Revises: 4e390ccc8d7d
Create Date: 2026-11-29 22:30:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import app.models.base

revision: str = "a7c31f0d9e21"
down_revision: str | None = "4e390ccc8d7d"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

INCLUDED = ["operator_id", "first_contact_at", "first_appointment_at"]
# Every case written once (both columns in one UPDATE: a second one would rewrite each row
# again), from one grouped pass over the triage requests and one over the appointments.
BACKFILL = """
UPDATE cases SET
    first_contact_at = CASE
        WHEN firsts.request < cases.opened_at THEN firsts.request ELSE cases.opened_at
    END,
    first_appointment_at = firsts.visit
FROM (
    SELECT c.id AS case_id, r.request, a.visit
    FROM cases AS c
    LEFT JOIN (
        SELECT case_id, min(received_at) AS request
        FROM triage_requests WHERE case_id IS NOT NULL GROUP BY case_id
    ) AS r ON r.case_id = c.id
    LEFT JOIN (
        SELECT case_id, min(starts_at) AS visit
        FROM appointments WHERE case_id IS NOT NULL AND status <> 'cancelled' GROUP BY case_id
    ) AS a ON a.case_id = c.id
) AS firsts
WHERE cases.id = firsts.case_id
"""


def upgrade() -> None:
    with op.batch_alter_table("cases", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("first_contact_at", app.models.base.UTCDateTime(timezone=True), nullable=True)
        )
        batch_op.add_column(
            sa.Column(
                "first_appointment_at", app.models.base.UTCDateTime(timezone=True), nullable=True
            )
        )

    postgresql = op.get_bind().dialect.name == "postgresql"
    if postgresql:
        # Rebuilt after the backfill rather than kept up to date through it.
        op.drop_index("ix_cases_opened_at", table_name="cases")

    op.execute(BACKFILL)

    if postgresql:
        # The report reads this index alone (no visit to the table) once VACUUM has marked
        # the pages visible: autovacuum does, after this rewrite of every row.
        op.create_index(
            "ix_cases_opened_at", "cases", ["opened_at"], unique=False, postgresql_include=INCLUDED
        )
        op.execute("ANALYZE cases")  # the planner's statistics on the new columns


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.drop_index("ix_cases_opened_at", table_name="cases", postgresql_include=INCLUDED)
        op.create_index("ix_cases_opened_at", "cases", ["opened_at"], unique=False)

    with op.batch_alter_table("cases", schema=None) as batch_op:
        batch_op.drop_column("first_appointment_at")
        batch_op.drop_column("first_contact_at")
