"""Indexes the national-scale benchmark asked for: a case's appointments and triage request
by case (the case page, the report's first contact and first appointment), cases by opening
date, a counsellor's open cases in activity order; and on PostgreSQL, trigram indexes for the
searches that look for a word anywhere in a name or a case reference (LIKE '%…%').

Revision ID: 4e390ccc8d7d
Revises: e4eedbc0156f
Create Date: 2026-11-29 20:53:47.500557
"""

from collections.abc import Sequence

from alembic import op

revision: str = "4e390ccc8d7d"
down_revision: str | None = "e4eedbc0156f"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("appointments", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_appointments_case_id"))
        batch_op.create_index(
            "ix_appointments_case_starts",
            ["case_id", "starts_at"],
            unique=False,
            postgresql_include=["status"],
        )
        batch_op.create_index(
            batch_op.f("ix_appointments_triage_request_id"), ["triage_request_id"], unique=False
        )

    with op.batch_alter_table("cases", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_cases_operator_referent_status"))
        batch_op.create_index(
            "ix_cases_operator_referent_status",
            ["operator_id", "referent_id", "status", "last_activity_at"],
            unique=False,
        )
        batch_op.create_index("ix_cases_opened_at", ["opened_at"], unique=False)

    with op.batch_alter_table("triage_requests", schema=None) as batch_op:
        batch_op.create_index("ix_triage_case_received", ["case_id", "received_at"], unique=False)

    if op.get_bind().dialect.name == "postgresql":
        op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")  # trusted: the owner may create it
        op.execute(
            "CREATE INDEX ix_beneficiaries_search_trgm ON beneficiaries"
            " USING gin (search_text gin_trgm_ops)"
        )
        op.execute(
            "CREATE INDEX ix_cases_reference_trgm ON cases USING gin (reference gin_trgm_ops)"
        )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP INDEX ix_cases_reference_trgm")
        op.execute("DROP INDEX ix_beneficiaries_search_trgm")

    with op.batch_alter_table("triage_requests", schema=None) as batch_op:
        batch_op.drop_index("ix_triage_case_received")

    with op.batch_alter_table("cases", schema=None) as batch_op:
        batch_op.drop_index("ix_cases_opened_at")
        batch_op.drop_index("ix_cases_operator_referent_status")
        batch_op.create_index(
            batch_op.f("ix_cases_operator_referent_status"),
            ["operator_id", "referent_id", "status"],
            unique=False,
        )

    with op.batch_alter_table("appointments", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_appointments_triage_request_id"))
        batch_op.drop_index("ix_appointments_case_starts", postgresql_include=["status"])
        batch_op.create_index(batch_op.f("ix_appointments_case_id"), ["case_id"], unique=False)
