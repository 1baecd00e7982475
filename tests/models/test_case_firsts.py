"""Each case keeps its firsts through every write: its first contact and first appointment
(booking, cancelling, moving, reinstating, triage opening a case, an appointment linked or
moved), and its entry into level 1, reaching level 2 and first level-1 interview (episodes
started, back-dated, cancelled, moved to another case; interactions recorded within a level-1
unit, a level-2 unit or hors UO, moved or deleted)."""

from datetime import UTC, datetime, timedelta

import pytest
from sqlmodel import select

from app.models.appointments import Appointment
from app.models.base import utcnow
from app.models.case_firsts import refresh_case_firsts
from app.models.cases import Case, Episode, EpisodeStart
from app.models.nomenclatures import Channel, Redirection, RequestMotive
from app.models.triage import TriageCreate, TriageOpenCase, TriageRedirect, TriageRequest
from app.services.booking.calendar import book_for_case, mark_attendance
from app.services.booking.changes import cancel_appointment, move_appointment
from app.services.cases.episodes import cancel_episode, start_episode
from app.services.cases.triage import create_request, open_case_from_request, redirect_request
from tests.factories import (
    make_appointment_type,
    make_beneficiary,
    make_case,
    make_episode,
    make_interaction,
    make_openings,
    make_operator,
    make_site,
    make_staff,
    unit_id,
    working_day_at,
)
from tests.old_firsts import firsts_from_rows, levels_from_rows, stored_firsts, stored_levels


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


def assert_levels_kept(session, *cases: Case) -> None:
    """The level columns equal the definition read from the rows, and the loaded cases show
    them."""
    expected, stored = levels_from_rows(session), stored_levels(session)
    for case in cases:
        assert stored[case.id] == expected[case.id]
        assert levels(case) == stored[case.id]


def levels(case: Case) -> tuple:
    return (case.level_1_started_at, case.level_2_started_at, case.level_1_interview_at)


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


# ---- entry into level 1, reaching level 2, first level-1 interview ----------------------------


def started(session, counsellor, case, code: str, days_ago: float):
    """An episode of `code` started `days_ago` days ago (back-dated through the service)."""
    episode, _ = start_episode(
        session=session,
        actor=counsellor,
        case_id=case.id,
        data=EpisodeStart(
            unit_id=unit_id(session, code), started_at=utcnow() - timedelta(days=days_ago)
        ),
    )
    return episode


def seen(session, counsellor, case, days_ago: float, episode=None):
    """An interaction `days_ago` days ago, within `episode` or hors UO."""
    return make_interaction(
        session,
        counsellor,
        case,
        occurred_at=utcnow() - timedelta(days=days_ago),
        episode_id=episode.id if episode else None,
    )


def test_a_new_case_has_not_entered_level_1(session, agenda):
    case = make_case(session, agenda[1])

    assert levels(case) == (None, None, None)
    assert_levels_kept(session, case)


def test_starting_a_level_1_unit_is_the_entry_and_an_earlier_one_replaces_it(session, agenda):
    counsellor = agenda[1]
    case = make_case(session, counsellor)
    later = started(session, counsellor, case, "UO1", 2)
    assert case.level_1_started_at == later.started_at
    assert_levels_kept(session, case)

    earlier = started(session, counsellor, case, "UO1", 5)

    assert levels(case) == (earlier.started_at, None, None)
    assert_levels_kept(session, case)


def test_starting_a_level_2_unit_reaches_level_2_and_not_level_1(session, agenda):
    counsellor = agenda[1]
    case = make_case(session, counsellor)
    uo2_2 = started(session, counsellor, case, "UO2.2", 3)
    uo2_1 = started(session, counsellor, case, "UO2.1", 4)

    assert levels(case) == (None, uo2_1.started_at, None)
    assert uo2_1.started_at < uo2_2.started_at
    assert_levels_kept(session, case)


def test_a_redirected_request_leaves_the_case_outside_level_1(session, agenda):
    counsellor = agenda[1]
    request = phoned_in(session, counsellor, utcnow() - timedelta(days=1))
    case = redirect_request(
        session=session,
        actor=counsellor,
        request_id=request.id,
        data=TriageRedirect(redirection=Redirection.FRANCE_TRAVAIL),
    )

    assert levels(case) == (None, None, None)  # its UO0 episode and contact count for neither
    assert_levels_kept(session, case)


def test_cancelling_a_unit_takes_it_out_of_the_levels(session, agenda):
    counsellor = agenda[1]
    case = make_case(session, counsellor)
    first = started(session, counsellor, case, "UO1", 3)
    second = started(session, counsellor, case, "UO1", 1)
    level_2 = started(session, counsellor, case, "UO2.1", 0.5)

    cancel_episode(session=session, actor=counsellor, episode_id=first.id)
    assert levels(case) == (second.started_at, level_2.started_at, None)
    assert_levels_kept(session, case)

    cancel_episode(session=session, actor=counsellor, episode_id=second.id)
    cancel_episode(session=session, actor=counsellor, episode_id=level_2.id)
    assert levels(case) == (None, None, None)
    assert_levels_kept(session, case)


def test_a_unit_moved_to_another_case_moves_its_levels(session, agenda):
    counsellor = agenda[1]
    case, other = make_case(session, counsellor), make_case(session, counsellor)
    episode = started(session, counsellor, case, "UO1", 2)
    interview = seen(session, counsellor, case, 1, episode)

    episode.case_id = other.id
    interview.case_id = other.id
    session.add_all([episode, interview])
    session.flush()

    assert levels(case) == (None, None, None)
    assert levels(other) == (episode.started_at, None, interview.occurred_at)
    assert_levels_kept(session, case, other)


def test_a_unit_changed_to_level_2_leaves_level_1(session, agenda):
    counsellor = agenda[1]
    case = make_case(session, counsellor)
    episode = started(session, counsellor, case, "UO1", 2)
    seen(session, counsellor, case, 1, episode)

    episode.unit_id = unit_id(session, "UO2.1")
    session.add(episode)
    session.flush()

    assert levels(case) == (None, episode.started_at, None)
    assert_levels_kept(session, case)


def test_only_an_interaction_within_a_level_1_unit_is_the_first_interview(session, agenda):
    counsellor = agenda[1]
    case = make_case(session, counsellor)
    uo1 = started(session, counsellor, case, "UO1", 10)
    uo2 = started(session, counsellor, case, "UO2.1", 9)
    seen(session, counsellor, case, 8)  # hors UO
    seen(session, counsellor, case, 7, uo2)
    assert case.level_1_interview_at is None
    assert_levels_kept(session, case)

    later = seen(session, counsellor, case, 3, uo1)
    assert case.level_1_interview_at == later.occurred_at
    earlier = seen(session, counsellor, case, 6, uo1)

    assert levels(case) == (uo1.started_at, uo2.started_at, earlier.occurred_at)
    assert_levels_kept(session, case)


def test_an_interview_moved_out_of_level_1_or_deleted_no_longer_counts(session, agenda):
    counsellor = agenda[1]
    case = make_case(session, counsellor)
    uo1 = started(session, counsellor, case, "UO1", 10)
    uo2 = started(session, counsellor, case, "UO2.1", 9)
    first, second = seen(session, counsellor, case, 8, uo1), seen(session, counsellor, case, 5, uo1)

    first.episode_id = uo2.id
    session.add(first)
    session.flush()
    assert case.level_1_interview_at == second.occurred_at
    assert_levels_kept(session, case)

    second.episode_id = None  # recorded hors UO after all
    session.add(second)
    session.flush()
    assert case.level_1_interview_at is None
    assert_levels_kept(session, case)

    second.episode_id = uo1.id
    session.add(second)
    session.flush()
    session.delete(second)
    session.flush()
    assert case.level_1_interview_at is None
    assert_levels_kept(session, case)


def test_a_case_opened_from_triage_enters_level_1_with_its_first_unit(session, agenda):
    counsellor = agenda[1]
    request = phoned_in(session, counsellor, utcnow() - timedelta(days=4))
    case = open_case_from_request(
        session=session,
        actor=counsellor,
        request_id=request.id,
        data=TriageOpenCase(referent_id=counsellor.id),
    )
    assert levels(case) == (None, None, None)  # the UO0 episode and the triage contact

    uo1 = make_episode(session, counsellor, case)
    interview = seen(session, counsellor, case, 0.1, uo1)

    assert levels(case) == (uo1.started_at, None, interview.occurred_at)
    assert case.first_contact_at == request.received_at
    assert_levels_kept(session, case)


def test_levels_written_bypassing_the_orm_are_caught_up_by_refreshing(session, agenda):
    counsellor = agenda[1]
    case = make_case(session, counsellor)
    episode = started(session, counsellor, case, "UO1", 2)
    seen(session, counsellor, case, 1, episode)
    session.execute(
        Episode.__table__.update()
        .where(Episode.__table__.c.id == episode.id)
        .values(unit_id=unit_id(session, "UO2.1"))
    )

    refresh_case_firsts(session.connection(), [case.id])

    statement = select(
        Case.level_1_started_at, Case.level_2_started_at, Case.level_1_interview_at
    ).where(Case.id == case.id)
    assert tuple(session.exec(statement).one()) == (None, episode.started_at, None)
