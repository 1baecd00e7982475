"""Report indexes: one operator's report reads its own rows from operator-led indexes (entries,
cases opened, interactions), and the national one reads appointments and triage requests of a
period from date-led indexes, each from the index alone on PostgreSQL.
The interactions' index on the operator alone is dropped: the new one begins with it.

Revision ID: 458dc1ff0f41
Revises: 553545546068
Create Date: 2026-12-07 04:40:00.607809+00:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "458dc1ff0f41"
down_revision: str | None = "553545546068"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ENTRY_COLUMNS = [
    "beneficiary_id",
    "first_contact_at",
    "level_1_interview_at",
    "level_2_started_at",
    "motive",
    "channel",
]


def upgrade() -> None:
    op.create_index(
        "ix_appointments_starts_at",
        "appointments",
        ["starts_at"],
        postgresql_include=["operator_id", "status"],
    )
    op.create_index(
        "ix_cases_operator_level_1",
        "cases",
        ["operator_id", "level_1_started_at"],
        postgresql_include=ENTRY_COLUMNS,
    )
    op.create_index(
        "ix_cases_operator_opened",
        "cases",
        ["operator_id", "opened_at"],
        postgresql_include=["first_contact_at", "first_appointment_at"],
    )
    op.create_index(
        "ix_interactions_operator_occurred",
        "interactions",
        ["operator_id", "occurred_at"],
        postgresql_include=["unit_id", "beneficiary_id", "channel"],
    )
    op.drop_index("ix_interactions_operator_id", table_name="interactions")
    op.create_index(
        "ix_triage_received_at",
        "triage_requests",
        ["received_at"],
        postgresql_include=["operator_id", "status", "redirection"],
    )


def downgrade() -> None:
    op.drop_index("ix_triage_received_at", table_name="triage_requests")
    op.create_index("ix_interactions_operator_id", "interactions", ["operator_id"])
    op.drop_index("ix_interactions_operator_occurred", table_name="interactions")
    op.drop_index("ix_cases_operator_opened", table_name="cases")
    op.drop_index("ix_cases_operator_level_1", table_name="cases")
    op.drop_index("ix_appointments_starts_at", table_name="appointments")
