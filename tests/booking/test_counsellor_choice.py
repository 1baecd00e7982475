"""Which free counsellor takes a booking: the one whose day it fragments least, not the first in
id order — which could leave a later slot with nobody free."""

from datetime import time, timedelta

import pytest
from sqlmodel import select

from app.models.appointments import Appointment
from app.services.booking.counsellor_choice import counsellors_by_fit
from app.services.booking.reservations import BookingPerson, SlotTaken, book_appointment
from tests.factories import (
    make_appointment,
    make_appointment_type,
    make_openings,
    make_operator,
    make_site,
    make_staff,
    working_day_at,
)

pytestmark = pytest.mark.usefixtures("clock")


@pytest.fixture
def place(session):
    operator = make_operator(session)
    site = make_site(session, operator)
    kind = make_appointment_type(session, operator, duration_minutes=60)
    return operator, site, kind


def opening(session, operator, site, start: time, end: time):
    """A counsellor who receives at the site every day between two local times."""
    counsellor = make_staff(session, operator)
    make_openings(session, counsellor, site, start_time=start, end_time=end)
    return counsellor


def book(session, kind, site, start, n: int) -> Appointment:
    person = BookingPerson(
        first_name="Personne", last_name=f"N{n}", email=f"p{n}@exemple.fr", consent=True
    )
    return book_appointment(
        session=session,
        appointment_type_id=kind.id,
        site_id=site.id,
        mode="on_site",
        start=start,
        person=person,
        idempotency_key=f"cle-{n}",
    )


def ranked(session, kind, site, start) -> list[int]:
    return counsellors_by_fit(
        session=session, appointment_type=kind, mode="on_site", site_id=site.id, start=start
    )


def test_the_counsellor_whose_opening_the_slot_fills_exactly_takes_it(session, place):
    """A 9:00–11:00 and B 9:30–10:30: 9:30 given to A, by id, would leave no 60-minute slot for
    anyone; given to B, A still receives at 9:00 or 10:00."""
    operator, site, kind = place
    wide = opening(session, operator, site, time(9), time(11))
    narrow = opening(session, operator, site, time(9, 30), time(10, 30))
    assert wide.id < narrow.id
    half_past_nine = working_day_at(site, hour=9) + timedelta(minutes=30)

    first = book(session, kind, site, half_past_nine, 1)

    assert first.counsellor_id == narrow.id
    ten = working_day_at(site, hour=10)
    assert book(session, kind, site, ten, 2).counsellor_id == wide.id


def test_in_id_order_the_same_day_would_have_left_ten_oclock_with_nobody_free(session, place):
    """What the rule avoids, shown with the first counsellor forced on the first booking."""
    operator, site, kind = place
    wide = opening(session, operator, site, time(9), time(11))
    opening(session, operator, site, time(9, 30), time(10, 30))
    half_past_nine = working_day_at(site, hour=9) + timedelta(minutes=30)
    make_appointment(
        session, starts_at=half_past_nine, site=site, counsellor=wide, appointment_type=kind
    )
    with pytest.raises(SlotTaken):
        book(session, kind, site, working_day_at(site, hour=10), 2)


def test_a_slot_touching_an_appointment_is_preferred_to_one_in_the_middle_of_free_time(
    session, place
):
    operator, site, kind = place
    empty = opening(session, operator, site, time(9), time(13))
    busy = opening(session, operator, site, time(9), time(13))
    nine = working_day_at(site, hour=9)
    make_appointment(session, starts_at=nine, site=site, counsellor=busy, appointment_type=kind)
    # 10:00 starts where busy's appointment ends: nothing left between them.
    assert ranked(session, kind, site, nine + timedelta(hours=1)) == [busy.id, empty.id]


def test_a_slot_that_would_leave_a_gap_too_short_for_anyone_comes_last(session, place):
    operator, site, kind = place
    awkward = opening(session, operator, site, time(9), time(13))
    fine = opening(session, operator, site, time(9), time(13))
    nine = working_day_at(site, hour=9)
    # awkward's 9:00–10:00 appointment: a 10:30 booking leaves 30 minutes no one can use.
    make_appointment(session, starts_at=nine, site=site, counsellor=awkward, appointment_type=kind)
    # fine's 12:30 appointment: the same booking leaves an hour before it, enough for one more.
    make_appointment(
        session,
        starts_at=nine + timedelta(hours=3, minutes=30),
        site=site,
        counsellor=fine,
        appointment_type=kind,
    )
    half_past_ten = nine + timedelta(hours=1, minutes=30)
    assert ranked(session, kind, site, half_past_ten) == [fine.id, awkward.id]


def test_between_equal_fits_the_fuller_day_then_the_lower_id_wins(session, place):
    operator, site, kind = place
    first = opening(session, operator, site, time(9), time(17))
    second = opening(session, operator, site, time(9), time(17))
    nine = working_day_at(site, hour=9)
    eleven = nine + timedelta(hours=2)
    assert ranked(session, kind, site, eleven) == [first.id, second.id]
    make_appointment(
        session,
        starts_at=nine + timedelta(hours=6),
        site=site,
        counsellor=second,
        appointment_type=kind,
    )
    assert ranked(session, kind, site, eleven) == [second.id, first.id]


def test_choosing_reads_the_same_few_queries_whatever_the_number_of_counsellors(
    session, place, engine
):
    from sqlalchemy import event

    operator, site, kind = place
    nine = working_day_at(site, hour=9)

    def queries_for(count: int) -> int:
        for _ in range(count):
            opening(session, operator, site, time(9), time(12))
        session.flush()
        statements = []

        def seen(*_args):
            statements.append(1)

        connection = session.connection()
        event.listen(connection, "before_cursor_execute", seen)
        try:
            ranked(session, kind, site, nine)
        finally:
            event.remove(connection, "before_cursor_execute", seen)
        return len(statements)

    assert queries_for(2) == queries_for(10)


def test_booking_picks_from_the_ranking_and_nobody_is_booked_twice(session, place):
    operator, site, kind = place
    a = opening(session, operator, site, time(9), time(10))
    b = opening(session, operator, site, time(9), time(10))
    nine = working_day_at(site, hour=9)
    booked = {book(session, kind, site, nine, n).counsellor_id for n in (1, 2)}
    assert booked == {a.id, b.id}
    with pytest.raises(SlotTaken):
        book(session, kind, site, nine, 3)
    assert len(session.exec(select(Appointment)).all()) == 2
