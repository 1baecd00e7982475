"""Named states: each state column is held by the database to the values of its enum, the
check constraint being written from the enum (`check_in`, app/models/base.py)."""

import re
from datetime import UTC, datetime

import pytest
from sqlalchemy import inspect
from sqlalchemy.exc import IntegrityError

from app.models.appointments import AppointmentStatus
from app.models.cases import CaseStatus
from app.models.control import PackStatus
from app.models.deliverables import AcknowledgementMethod, DeliverableStatus, StepStatus
from app.models.nomenclatures import ReferralOutcome, StepOwner
from app.models.outbox import MessageStatus
from app.models.partners import ReferralCreate, ReferralEvent, ReferralStatus
from app.models.triage import TriageStatus
from app.services.referrals.workflow import propose_referral
from tests.factories import make_case, make_operator, make_partner, make_staff

STATE_COLUMNS = [
    ("cases", "status", CaseStatus),
    ("triage_requests", "status", TriageStatus),
    ("appointments", "status", AppointmentStatus),
    ("referrals", "status", ReferralStatus),
    ("referrals", "outcome", ReferralOutcome),
    ("referral_events", "from_status", ReferralStatus),
    ("referral_events", "to_status", ReferralStatus),
    ("outbox_messages", "status", MessageStatus),
    ("control_campaigns", "status", PackStatus),
    ("deliverables", "status", DeliverableStatus),
    ("deliverable_versions", "acknowledgement_method", AcknowledgementMethod),
    ("action_steps", "status", StepStatus),
    ("action_steps", "owner", StepOwner),
]


def _allowed_values(engine, table: str, column: str) -> list[set[str]]:
    """The value lists of the table's check constraints that name `column` (both engines'
    spellings: `status IN ('a', 'b')`, `status::text = ANY (ARRAY['a'::character varying…])`)."""
    found = []
    for constraint in inspect(engine).get_check_constraints(table):
        sql = constraint["sqltext"]
        if re.search(rf"\b{column}\b(::text)? (IN|= ANY) ", sql):
            found.append(set(re.findall(r"'([^']*)'", sql)))
    return found


@pytest.mark.parametrize(("table", "column", "states"), STATE_COLUMNS)
def test_the_database_allows_exactly_the_enum_values(engine, table, column, states):
    assert _allowed_values(engine, table, column) == [{state.value for state in states}]


def test_the_enum_values_are_the_strings_stored():
    # StrEnum members are their value: rows written before the enums read the same.
    assert CaseStatus.OPEN == "open" and f"{AppointmentStatus.NO_SHOW}" == "no_show"
    assert AppointmentStatus("cancelled") is AppointmentStatus.CANCELLED
    assert AppointmentStatus.EXCUSED.label == "Excusé·e"


def test_a_referral_event_to_an_unknown_state_is_refused(session):
    counsellor = make_staff(session, make_operator(session))
    case = make_case(session, counsellor)
    partner = make_partner(session, make_operator(session), name="CIBC Lyon")
    referral = propose_referral(
        session=session,
        actor=counsellor,
        case_id=case.id,
        data=ReferralCreate(partner_id=partner.id, purpose="Bilan de compétences", consent=True),
    )
    event = ReferralEvent(
        operator_id=referral.operator_id,
        referral_id=referral.id,
        from_status=ReferralStatus.PROPOSED,
        to_status="lost",
        at=datetime(2026, 12, 6, tzinfo=UTC),
    )
    savepoint = session.begin_nested()
    session.add(event)
    with pytest.raises(IntegrityError, match="referral_event_to_known"):
        session.flush()
    savepoint.rollback()
