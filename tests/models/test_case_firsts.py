"""Each case keeps its first contact and first appointment through every write: booking,
cancelling, moving, reinstating, triage opening a case, an appointment linked or moved."""

from datetime import UTC, datetime, timedelta

import pytest
from sqlmodel import select

from app.models.appointments import Appointment
from app.models.base import utcnow
from app.models.case_firsts import refresh_case_firsts
from app.models.cases import Case
from app.models.nomenclatures import Channel, RequestMotive
from app.models.triage import TriageCreate, TriageOpenCase, TriageRequest
from app.services.booking.calendar import book_for_case, mark_attendance
from app.services.booking.changes import cancel_appointment, move_appointment
from app.services.cases.triage import create_request, open_case_from_request
from tests.factories import (
    make_appointment_type,
    make_beneficiary,
    make_case,
    make_openings,
    make_operator,
    make_site,
    make_staff,
    working_day_at,
)
from tests.old_firsts import firsts_from_rows, stored_firsts


@pytest.fixture
def agenda(session):
    """A counsellor receiving at a site every morning, and a motif bookable by staff."""
    operator = make_operator(session)
    site = make_site(session, operator)
    counsellor = make_staff(session, operator)
    make_openings(session, counsellor, site)
    kind = make_appointment_type(session, operator)
    return site, counsellor, kind


def book(session, agenda, case, days_ahead: int, hour: int = 9) -> Appointment:
    site, counsellor, kind = agenda
    return book_for_case(
        session=session,
        actor=counsellor,
        case_id=case.id,
        appointment_type_id=kind.id,
        mode="on_site",
        site_id=site.id,
        start=working_day_at(site, days_ahead, hour),
    )


def assert_kept(session, *cases: Case) -> None:
    """The columns equal the definition read from the rows, and the loaded cases show them."""
    expected, stored = firsts_from_rows(session), stored_firsts(session)
    for case in cases:
        assert stored[case.id] == expected[case.id]
        assert (case.first_contact_at, case.first_appointment_at) == stored[case.id]


def test_a_case_opened_directly_was_first_contacted_at_its_opening(session, agenda):
    case = make_case(session, agenda[1])

    assert case.first_contact_at == case.opened_at
    assert case.first_appointment_at is None
    assert_kept(session, case)


def test_booking_for_a_case_sets_its_first_appointment(session, agenda):
    case = make_case(session, agenda[1])
    later = book(session, agenda, case, 12)
    earlier = book(session, agenda, case, 5)

    assert case.first_appointment_at == earlier.starts_at != later.starts_at
    assert_kept(session, case)


def test_cancelling_the_first_appointment_leaves_the_next_one_first(session, agenda):
    case = make_case(session, agenda[1])
    first, second = book(session, agenda, case, 5), book(session, agenda, case, 12)

    cancel_appointment(session=session, appointment_id=first.id, by="staff")
    assert case.first_appointment_at == second.starts_at
    assert_kept(session, case)

    cancel_appointment(session=session, appointment_id=second.id, by="staff")
    assert case.first_appointment_at is None
    assert_kept(session, case)


def test_reinstating_a_cancelled_appointment_counts_it_again(session, agenda):
    case = make_case(session, agenda[1])
    appointment = book(session, agenda, case, 5)
    cancel_appointment(session=session, appointment_id=appointment.id, by="staff")

    appointment.status = "booked"
    session.add(appointment)
    session.flush()

    assert case.first_appointment_at == appointment.starts_at
    assert_kept(session, case)


def test_moving_an_appointment_moves_the_first_appointment(session, agenda):
    site = agenda[0]
    case = make_case(session, agenda[1])
    appointment = book(session, agenda, case, 12)

    start = working_day_at(site, 4, 10)
    moved = move_appointment(
        session=session, appointment_id=appointment.id, start=start, by="staff"
    )

    assert case.first_appointment_at == moved.starts_at == start
    assert_kept(session, case)


def test_an_appointment_given_to_another_case_leaves_the_first(session, agenda):
    case, other = make_case(session, agenda[1]), make_case(session, agenda[1])
    appointment = book(session, agenda, case, 5)

    appointment.case_id = other.id
    session.add(appointment)
    session.flush()

    assert case.first_appointment_at is None
    assert other.first_appointment_at == appointment.starts_at
    assert_kept(session, case, other)


def test_a_deleted_appointment_no_longer_counts(session, agenda):
    case = make_case(session, agenda[1])
    session.delete(book(session, agenda, case, 5))
    session.flush()

    assert case.first_appointment_at is None
    assert_kept(session, case)


def phoned_in(session, counsellor, received_at):
    """A new person's request, received by phone at `received_at`, in the triage queue."""
    return create_request(
        session=session,
        actor=counsellor,
        data=TriageCreate(
            beneficiary_id=make_beneficiary(session, counsellor).id,
            channel=Channel.PHONE,
            motive=RequestMotive.RETRAIN,
            received_at=received_at,
        ),
    )


def test_a_triage_request_received_before_the_opening_is_the_first_contact(session, agenda):
    counsellor = agenda[1]
    case = make_case(session, counsellor)
    received_at = case.opened_at - timedelta(days=3)
    session.add(
        TriageRequest(
            operator_id=counsellor.operator_id,
            beneficiary_id=case.beneficiary_id,
            received_at=received_at,
            channel="telephone",
            motive="reconversion",
            cep_situation="actif_prive",
            status="case_opened",
            case_id=case.id,
        )
    )
    session.flush()

    assert case.first_contact_at == received_at
    assert_kept(session, case)


def test_a_case_opened_from_triage_was_first_contacted_when_the_request_came(session, agenda):
    _site, counsellor, _kind = agenda
    received_at = utcnow() - timedelta(days=2)
    request = phoned_in(session, counsellor, received_at)
    case = open_case_from_request(
        session=session,
        actor=counsellor,
        request_id=request.id,
        data=TriageOpenCase(referent_id=counsellor.id),
    )
    book(session, agenda, case, 5)

    assert case.first_contact_at == received_at
    assert_kept(session, case)


def test_an_appointment_of_the_request_joins_the_case_when_honoured(session, agenda):
    site, counsellor, kind = agenda
    now = datetime.now(UTC).replace(microsecond=0)
    request = phoned_in(session, counsellor, now - timedelta(days=3))
    starts_at = now - timedelta(hours=2)
    appointment = Appointment(
        operator_id=counsellor.operator_id,
        reference="RDV-TRIAGE-1",
        appointment_type_id=kind.id,
        counsellor_id=counsellor.id,
        site_id=site.id,
        mode="on_site",
        starts_at=starts_at,
        ends_at=starts_at + timedelta(hours=1),
        blocks_until=starts_at + timedelta(hours=1),
        beneficiary_id=request.beneficiary_id,
        triage_request_id=request.id,
        ics_uid="triage-1@filrouge",
    )
    session.add(appointment)
    case = open_case_from_request(
        session=session,
        actor=counsellor,
        request_id=request.id,
        data=TriageOpenCase(referent_id=counsellor.id),
    )
    assert case.first_appointment_at is None  # booked with the request, not yet the case's

    mark_attendance(
        session=session, actor=counsellor, appointment_id=appointment.id, status="honoured", now=now
    )

    assert appointment.case_id == case.id
    assert case.first_appointment_at == starts_at
    assert_kept(session, case)


def test_a_write_bypassing_the_orm_is_caught_up_by_refreshing(session, agenda):
    case = make_case(session, agenda[1])
    appointment = book(session, agenda, case, 5)
    session.execute(
        Appointment.__table__.update()
        .where(Appointment.__table__.c.id == appointment.id)
        .values(status="cancelled")
    )

    refresh_case_firsts(session.connection(), [case.id])

    stored = session.exec(select(Case.first_appointment_at).where(Case.id == case.id)).one()
    assert stored is None
