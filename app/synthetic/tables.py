"""The tables the generator writes in bulk: their columns as the models declare them, in the
order rows give them."""

from app.synthetic.loader import Table

SITES = Table.of("sites")
STAFF_USERS = Table.of("staff_users")
STAFF_SITES = Table.of("staff_sites")
PARTNERS = Table.of("partners")
BENEFICIARIES = Table.of("beneficiaries")
CASES = Table.of("cases")
TRIAGE_REQUESTS = Table.of("triage_requests")
EPISODES = Table.of("episodes")
INTERACTIONS = Table.of("interactions")
APPOINTMENTS = Table.of("appointments")
DELIVERABLES = Table.of("deliverables")
DELIVERABLE_VERSIONS = Table.of("deliverable_versions")
REFERRALS = Table.of("referrals")
REFERRAL_EVENTS = Table.of("referral_events")
SURVEY_INVITATIONS = Table.of("survey_invitations")
SURVEY_RESPONSES = Table.of("survey_responses")
CONSENT_RECORDS = Table.of("consent_records")

# Parents before children: the order in which each chunk of stories is written.
STORY_TABLES = (
    BENEFICIARIES, CASES, TRIAGE_REQUESTS, EPISODES, INTERACTIONS, APPOINTMENTS, DELIVERABLES,
    DELIVERABLE_VERSIONS, REFERRALS, REFERRAL_EVENTS, SURVEY_INVITATIONS, SURVEY_RESPONSES,
    CONSENT_RECORDS,
)  # fmt: skip
