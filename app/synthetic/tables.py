"""The tables the generator writes in bulk, with their columns in the order rows give them."""

from app.synthetic.loader import Table

SITES = Table(
    "sites",
    (
        "id", "operator_id", "name", "address", "postcode", "city", "time_zone",
        "accessibility", "opening_hours", "active",
    ),
)  # fmt: skip
STAFF_USERS = Table(
    "staff_users",
    ("id", "operator_id", "email", "full_name", "role", "password_hash", "active", "created_at"),
    stamps=("created_at",),
)
STAFF_SITES = Table("staff_sites", ("staff_id", "site_id"))
PARTNERS = Table(
    "partners",
    (
        "id", "operator_id", "name", "type", "departements", "address", "postcode", "city",
        "contact_name", "email", "phone", "website", "services", "active", "created_at",
        "updated_at",
    ),
    stamps=("created_at", "updated_at"),
)  # fmt: skip
BENEFICIARIES = Table(
    "beneficiaries",
    (
        "id", "operator_id", "first_name", "last_name", "email", "phone", "postcode",
        "consent_at", "sex", "birth_year", "employment_status", "pcs", "naf_section",
        "company_size", "diploma_level", "rqth", "search_text", "created_at", "updated_at",
    ),
    stamps=("consent_at", "created_at", "updated_at"),
)  # fmt: skip
CASES = Table(
    "cases",
    (
        "id", "operator_id", "reference", "beneficiary_id", "site_id", "referent_id", "channel",
        "motive", "request_text", "status", "close_reason", "close_note", "opened_at",
        "closed_at", "last_activity_at", "first_contact_at", "first_appointment_at",
    ),
    stamps=(
        "opened_at", "closed_at", "last_activity_at", "first_contact_at", "first_appointment_at",
    ),
)  # fmt: skip
TRIAGE_REQUESTS = Table(
    "triage_requests",
    (
        "id", "operator_id", "beneficiary_id", "site_id", "assigned_to_id", "received_at",
        "channel", "motive", "request_text", "first_advice", "cep_situation", "status",
        "redirection", "redirect_reason", "case_id", "handled_by_id", "handled_at",
    ),
    stamps=("received_at", "handled_at"),
)  # fmt: skip
EPISODES = Table(
    "episodes",
    ("id", "operator_id", "case_id", "unit_id", "started_at", "ended_at", "outcome",
     "started_by_id"),
    stamps=("started_at", "ended_at"),
)  # fmt: skip
INTERACTIONS = Table(
    "interactions",
    (
        "id", "operator_id", "case_id", "episode_id", "counsellor_id", "occurred_at",
        "duration_minutes", "channel", "summary", "private_notes", "created_at",
    ),
    stamps=("occurred_at", "created_at"),
)  # fmt: skip
APPOINTMENTS = Table(
    "appointments",
    (
        "id", "operator_id", "reference", "appointment_type_id", "counsellor_id", "site_id",
        "mode", "starts_at", "ends_at", "blocks_until", "status", "beneficiary_id",
        "triage_request_id", "case_id", "interaction_id", "booked_via", "booked_by_id",
        "request_text", "idempotency_key", "ics_uid", "ics_sequence", "reminder_sent_at",
        "cancelled_at", "created_at", "updated_at",
    ),
    stamps=("starts_at", "ends_at", "blocks_until", "reminder_sent_at", "cancelled_at",
            "created_at", "updated_at"),
)  # fmt: skip
DELIVERABLES = Table(
    "deliverables",
    (
        "id", "operator_id", "case_id", "kind_id", "episode_id", "title", "sections",
        "includes_action_plan", "status", "version_count", "created_by_id", "created_at",
        "updated_at",
    ),
    stamps=("created_at", "updated_at"),
)  # fmt: skip
DELIVERABLE_VERSIONS = Table(
    "deliverable_versions",
    (
        "id", "operator_id", "deliverable_id", "number", "content", "storage_key", "sha256",
        "size_bytes", "issued_at", "issued_by_id", "shared_at", "shared_message_id",
        "acknowledged_at", "acknowledgement_method", "scan_attachment_id",
    ),
    stamps=("issued_at", "shared_at", "acknowledged_at"),
)  # fmt: skip
REFERRALS = Table(
    "referrals",
    (
        "id", "operator_id", "case_id", "partner_id", "purpose", "shared_information",
        "consent_at", "follow_up_on", "status", "decline_reason", "outcome", "outcome_note",
        "link_nonce", "created_by_id", "created_at", "sent_at", "answered_at", "closed_at",
        "updated_at",
    ),
    stamps=("consent_at", "created_at", "sent_at", "answered_at", "closed_at", "updated_at"),
)  # fmt: skip
REFERRAL_EVENTS = Table(
    "referral_events",
    ("id", "operator_id", "referral_id", "from_status", "to_status", "at", "actor_id", "via",
     "note"),
    stamps=("at",),
)  # fmt: skip

# Parents before children: the order in which each chunk of stories is written.
STORY_TABLES = (
    BENEFICIARIES, CASES, TRIAGE_REQUESTS, EPISODES, INTERACTIONS, APPOINTMENTS, DELIVERABLES,
    DELIVERABLE_VERSIONS, REFERRALS, REFERRAL_EVENTS,
)  # fmt: skip
