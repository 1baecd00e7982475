"""Free slots: openings in the site's time zone, minus holidays, absences and appointments."""

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import holidays
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app.models.appointments import Absence, AppointmentType, OpeningSlot
from app.services.booking.slots import (
    GRID_MINUTES,
    counsellors_free_at,
    free_slots,
    holiday_subdivision,
    slot_times,
)
from tests.factories import (
    make_appointment,
    make_appointment_type,
    make_operator,
    make_site,
    make_staff,
)

NOW = datetime(2026, 11, 29, 18, 0, tzinfo=UTC)
EARLIER = datetime(2026, 1, 5, 12, 0, tzinfo=UTC)


def make_type(session, operator, **overrides) -> AppointmentType:
    """A type bookable at once and far ahead: the dates the tests pick are not refused."""
    return make_appointment_type(
        session, operator, **{"min_notice_hours": 0, "max_horizon_days": 800, **overrides}
    )


def make_opening(session, counsellor, site, weekday, start, end, **overrides) -> OpeningSlot:
    values = {"modes": "on_site phone video", "valid_from": date(2026, 1, 1), **overrides}
    opening = OpeningSlot(
        operator_id=counsellor.operator_id,
        counsellor_id=counsellor.id,
        site_id=site.id if site else None,
        weekday=weekday,
        start_time=start,
        end_time=end,
        **values,
    )
    session.add(opening)
    session.flush()
    return opening


def slots(session, kind, site, day_from, day_to=None, mode="on_site", **kwargs):
    return free_slots(
        session=session,
        appointment_type=kind,
        mode=mode,
        site_id=site.id if site else None,
        start=day_from,
        end=day_to or day_from,
        now=kwargs.pop("now", NOW),
        **kwargs,
    )


def utc(*args) -> datetime:
    return datetime(*args, tzinfo=UTC)


def setup(session, **site_overrides):
    operator = make_operator(session)
    site = make_site(session, operator, **site_overrides)
    return operator, site, make_staff(session, operator)


def test_a_morning_opening_gives_a_start_every_quarter_hour_in_utc(session):
    operator, site, counsellor = setup(session)
    kind = make_type(session, operator)
    make_opening(session, counsellor, site, 0, time(9), time(12))  # Mondays

    found = slots(session, kind, site, date(2027, 1, 4))

    assert [s.start for s in found] == [
        utc(2027, 1, 4, 8, 0) + timedelta(minutes=15 * i) for i in range(9)
    ]
    assert found[-1].end == utc(2027, 1, 4, 11, 0)
    assert {(s.counsellor_id, s.site_id, s.mode) for s in found} == {
        (counsellor.id, site.id, "on_site")
    }


def test_buffer_must_fit_before_the_opening_ends(session):
    operator, site, counsellor = setup(session)
    kind = make_type(session, operator, buffer_minutes=30)
    make_opening(session, counsellor, site, 0, time(9), time(12))

    found = slots(session, kind, site, date(2027, 1, 4))

    assert found[-1].start == utc(2027, 1, 4, 9, 30)  # 10:30 local + 60 + 30 = 12:00


def test_slots_follow_paris_across_the_spring_change(session):
    operator, site, counsellor = setup(session)
    kind = make_type(session, operator)
    make_opening(session, counsellor, site, 4, time(9), time(10))  # Fridays
    make_opening(session, counsellor, site, 0, time(9), time(10))  # Mondays

    found = slots(session, kind, site, date(2026, 3, 27), date(2026, 3, 30), now=EARLIER)

    assert [s.start for s in found] == [utc(2026, 3, 27, 8), utc(2026, 3, 30, 7)]


def test_slots_follow_paris_across_the_autumn_change(session):
    operator, site, counsellor = setup(session)
    kind = make_type(session, operator)
    make_opening(session, counsellor, site, 4, time(9), time(10))
    make_opening(session, counsellor, site, 1, time(9), time(10))  # Tuesdays (1 Nov is closed)

    found = slots(session, kind, site, date(2027, 10, 29), date(2027, 11, 2))

    assert [s.start for s in found] == [utc(2027, 10, 29, 7), utc(2027, 11, 2, 8)]


def test_an_opening_in_the_spring_gap_starts_after_it(session):
    operator, site, counsellor = setup(session)
    kind = make_type(session, operator)
    # 02:00 does not exist on 28 March 2027 in Paris: read as 03:00 CEST (01:00 UTC).
    make_opening(session, counsellor, site, 6, time(2), time(4))

    found = slots(session, kind, site, date(2027, 3, 28))

    assert [s.start for s in found] == [utc(2027, 3, 28, 1)]


def test_an_opening_in_the_autumn_overlap_takes_the_first_occurrence(session):
    operator, site, counsellor = setup(session)
    kind = make_type(session, operator, duration_minutes=30)
    # 02:00–03:00 happens twice on 25 October 2026: the first 02:00 (00:00 UTC) is kept, and
    # 03:00 (after the change, 02:00 UTC) ends the opening: two hours of slots.
    make_opening(session, counsellor, site, 6, time(2), time(3))

    found = slots(session, kind, site, date(2026, 10, 25), now=EARLIER)

    assert found[0].start == utc(2026, 10, 25, 0)
    assert found[-1].end == utc(2026, 10, 25, 2)
    assert len({s.start for s in found}) == len(found)


def test_reunion_has_no_daylight_saving(session):
    operator, site, counsellor = setup(
        session, postcode="97400", city="Saint-Denis", time_zone="Indian/Reunion"
    )
    kind = make_type(session, operator)
    make_opening(session, counsellor, site, 0, time(9), time(10))

    winter = slots(session, kind, site, date(2027, 1, 4))
    summer = slots(session, kind, site, date(2027, 7, 5))

    assert [s.start for s in winter] == [utc(2027, 1, 4, 5)]
    assert [s.start for s in summer] == [utc(2027, 7, 5, 5)]


def test_cayenne_is_three_hours_behind_utc(session):
    operator, site, counsellor = setup(
        session, postcode="97300", city="Cayenne", time_zone="America/Cayenne"
    )
    kind = make_type(session, operator)
    make_opening(session, counsellor, site, 0, time(9), time(10))

    assert [s.start for s in slots(session, kind, site, date(2027, 7, 5))] == [utc(2027, 7, 5, 12)]


def test_good_friday_is_closed_only_in_alsace_moselle(session):
    operator, lyon, counsellor = setup(session)
    strasbourg = make_site(session, operator, name="Strasbourg", postcode="67000", city="S")
    metz = make_site(session, operator, name="Metz", postcode="57000", city="Metz")
    kind = make_type(session, operator)
    for site in (lyon, strasbourg, metz):
        make_opening(session, counsellor, site, 4, time(9), time(10))
    good_friday = date(2027, 3, 26)

    assert slots(session, kind, lyon, good_friday)
    assert not slots(session, kind, strasbourg, good_friday)
    assert not slots(session, kind, metz, good_friday)
    assert slots(session, kind, metz, good_friday + timedelta(days=7))


def test_26_december_is_closed_only_in_alsace_moselle(session):
    operator, lyon, counsellor = setup(session)
    colmar = make_site(session, operator, name="Colmar", postcode="68000", city="Colmar")
    kind = make_type(session, operator)
    for site in (lyon, colmar):
        make_opening(session, counsellor, site, 5, time(9), time(10))  # Saturdays

    assert slots(session, kind, lyon, date(2026, 12, 26))
    assert not slots(session, kind, colmar, date(2026, 12, 26))


def test_reunion_closes_on_its_own_abolition_day(session):
    operator, site, counsellor = setup(
        session, postcode="97400", city="Saint-Denis", time_zone="Indian/Reunion"
    )
    kind = make_type(session, operator)
    make_opening(session, counsellor, site, 0, time(9), time(10))

    assert not slots(session, kind, site, date(2027, 12, 20))  # a Monday
    assert holiday_subdivision(postcode="69003") is None


def test_christmas_is_closed_everywhere(session):
    operator, site, counsellor = setup(session)
    kind = make_type(session, operator)
    make_opening(session, counsellor, site, 4, time(9), time(10))

    assert not slots(session, kind, site, date(2026, 12, 25))


def test_min_notice_and_horizon_bound_the_slots(session):
    operator, site, counsellor = setup(session)
    kind = make_type(session, operator, min_notice_hours=24, max_horizon_days=14)
    for weekday in range(7):
        make_opening(session, counsellor, site, weekday, time(9), time(10))

    found = slots(session, kind, site, date(2026, 11, 29), date(2026, 12, 31))

    assert found[0].start >= NOW + timedelta(hours=24)
    assert found[0].start.date() == date(2026, 12, 1)
    assert found[-1].start <= NOW + timedelta(days=14)
    assert found[-1].start.date() == date(2026, 12, 13)


def test_validity_dates_bound_an_opening(session):
    operator, site, counsellor = setup(session)
    kind = make_type(session, operator)
    make_opening(
        session,
        counsellor,
        site,
        0,
        time(9),
        time(10),
        valid_from=date(2027, 1, 11),
        valid_until=date(2027, 1, 18),
    )

    found = slots(session, kind, site, date(2027, 1, 1), date(2027, 1, 31))

    assert sorted({s.start.date() for s in found}) == [date(2027, 1, 11), date(2027, 1, 18)]


def test_absences_and_active_appointments_block_but_cancelled_ones_do_not(session):
    operator, site, counsellor = setup(session)
    kind = make_type(session, operator, buffer_minutes=15)
    make_opening(session, counsellor, site, 0, time(9), time(13))
    make_appointment(
        session,
        counsellor=counsellor,
        appointment_type=kind,
        starts_at=utc(2027, 1, 4, 8),
        mode="phone",
    )  # 9:00–10:15
    make_appointment(
        session,
        counsellor=counsellor,
        appointment_type=kind,
        starts_at=utc(2027, 1, 4, 10),
        mode="phone",
        status="cancelled",
    )
    session.add(
        Absence(
            operator_id=operator.id,
            counsellor_id=counsellor.id,
            starts_at=utc(2027, 1, 4, 11),
            ends_at=utc(2027, 1, 4, 12),
        )
    )
    session.flush()

    starts = [s.start for s in slots(session, kind, site, date(2027, 1, 4))]

    # 10:15 local is the first start after the first appointment's buffer; a slot must end
    # (with its buffer) by the absence at 12:00 local.
    assert starts == [utc(2027, 1, 4, 9, 15), utc(2027, 1, 4, 9, 30), utc(2027, 1, 4, 9, 45)]


def test_phone_slots_come_from_remote_and_site_openings_and_name_no_site(session):
    operator, site, counsellor = setup(session)
    other = make_staff(session, operator)
    kind = make_type(session, operator)
    make_opening(session, counsellor, None, 0, time(9), time(10), modes="phone video")
    make_opening(session, other, site, 0, time(9), time(10), modes="on_site phone")
    make_opening(session, other, site, 1, time(9), time(10), modes="on_site")

    found = slots(session, kind, None, date(2027, 1, 4), date(2027, 1, 5), mode="phone")

    assert found == sorted(found, key=lambda s: (s.start, s.counsellor_id))
    assert {(s.counsellor_id, s.site_id, s.start) for s in found} == {
        (counsellor.id, None, utc(2027, 1, 4, 8)),
        (other.id, None, utc(2027, 1, 4, 8)),
    }
    assert slot_times(found) == [(utc(2027, 1, 4, 8), utc(2027, 1, 4, 9), 2)]
    assert counsellors_free_at(
        session=session,
        appointment_type=kind,
        mode="phone",
        site_id=None,
        start=utc(2027, 1, 4, 8),
        now=NOW,
    ) == sorted([counsellor.id, other.id])


def test_on_site_needs_the_site_and_a_mode_of_the_type(session):
    operator, site, counsellor = setup(session)
    kind = make_type(session, operator, modes="phone")
    make_opening(session, counsellor, site, 0, time(9), time(10))

    assert not slots(session, kind, site, date(2027, 1, 4))
    assert not slots(session, kind, None, date(2027, 1, 4))
    assert slots(session, kind, None, date(2027, 1, 4), mode="phone")


def test_an_inactive_type_or_counsellor_offers_nothing(session):
    operator, site, counsellor = setup(session)
    kind = make_type(session, operator)
    make_opening(session, counsellor, site, 0, time(9), time(10))
    assert slots(session, kind, site, date(2027, 1, 4))

    kind.active = False
    assert not slots(session, kind, site, date(2027, 1, 4))
    kind.active = True
    counsellor.active = False
    session.flush()
    assert not slots(session, kind, site, date(2027, 1, 4))


def test_counsellor_filter_and_counsellors_free_at(session):
    operator, site, counsellor = setup(session)
    other = make_staff(session, operator)
    kind = make_type(session, operator)
    make_opening(session, counsellor, site, 0, time(9), time(10))
    make_opening(session, other, site, 0, time(9), time(10))
    make_appointment(
        session, counsellor=other, appointment_type=kind, starts_at=utc(2027, 1, 4, 8), mode="phone"
    )

    mine = slots(session, kind, site, date(2027, 1, 4), counsellor_id=other.id)
    free = counsellors_free_at(
        session=session,
        appointment_type=kind,
        mode="on_site",
        site_id=site.id,
        start=utc(2027, 1, 4, 8),
        now=NOW,
    )

    assert mine == []
    assert free == [counsellor.id]


# --- Properties ------------------------------------------------------------------------------

ZONES = {"Europe/Paris": "69003", "Indian/Reunion": "97400", "America/Cayenne": "97300"}
# DST weeks in Paris (the Monday before the last Sunday of March / October), and a quiet one.
WEEKS = [date(2026, 3, 23), date(2026, 10, 19), date(2027, 3, 22), date(2027, 10, 25)]
WEEKS += [date(2027, 1, 11)]

openings_strategy = st.lists(
    st.tuples(
        st.integers(0, 6),  # weekday
        st.integers(0, 22 * 4),  # start, in quarter hours
        st.integers(1, 8 * 4),  # length, in quarter hours
    ),
    min_size=1,
    max_size=4,
)
busy_strategy = st.lists(
    st.tuples(
        st.booleans(),  # absence or appointment
        st.integers(0, 36 * 60),  # gap in minutes after the previous one
        st.integers(5, 240),  # length in minutes
    ),
    max_size=6,
)


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    zone_name=st.sampled_from(sorted(ZONES)),
    week=st.sampled_from(WEEKS),
    duration=st.sampled_from([15, 30, 45, 60, 90]),
    buffer=st.sampled_from([0, 5, 10, 15, 30]),
    notice_hours=st.integers(0, 72),
    opening_specs=openings_strategy,
    busy_specs=busy_strategy,
)
def test_every_slot_is_inside_an_opening_on_the_grid_and_free(
    session, zone_name, week, duration, buffer, notice_hours, opening_specs, busy_specs
):
    savepoint = session.begin_nested()
    try:
        operator, site, counsellor = setup(session, postcode=ZONES[zone_name], time_zone=zone_name)
        kind = make_type(
            session,
            operator,
            duration_minutes=duration,
            buffer_minutes=buffer,
            min_notice_hours=notice_hours,
        )
        zone = ZoneInfo(zone_name)
        now = datetime.combine(week, time(12), tzinfo=zone).astimezone(UTC)
        bounds = []
        for weekday, start_q, length_q in opening_specs:
            start = time(start_q // 4, start_q % 4 * 15)
            end_minutes = min(start_q * 15 + length_q * 15, 23 * 60 + 59)
            end = time(end_minutes // 60, end_minutes % 60)
            make_opening(session, counsellor, site, weekday, start, end)
            bounds.append((weekday, start, end))
        cursor = datetime.combine(week, time(0), tzinfo=zone).astimezone(UTC)
        busy = []
        for is_absence, gap, length in busy_specs:
            cursor += timedelta(minutes=gap)
            if is_absence:
                until = cursor + timedelta(minutes=length)
                session.add(
                    Absence(
                        operator_id=operator.id,
                        counsellor_id=counsellor.id,
                        starts_at=cursor,
                        ends_at=until,
                    )
                )
            else:
                other = make_type(
                    session, operator, duration_minutes=max(length, 5), buffer_minutes=buffer
                )
                appointment = make_appointment(
                    session,
                    counsellor=counsellor,
                    appointment_type=other,
                    starts_at=cursor,
                    mode="phone",
                )
                until = appointment.blocks_until
            busy.append((cursor, until))
            cursor = until
        session.flush()

        found = slots(session, kind, site, week, week + timedelta(days=6), now=now)

        blocked = timedelta(minutes=duration + buffer)
        subdiv = {"97400": "974", "97300": "973"}.get(ZONES[zone_name])
        closed = holidays.France(subdiv=subdiv, years=week.year)
        expected = set()
        for offset in range(7):
            day = week + timedelta(days=offset)
            for weekday, start, end in bounds:
                if day.weekday() != weekday or day in closed:
                    continue
                begin = datetime.combine(day, start, tzinfo=zone).astimezone(UTC)
                close = datetime.combine(day, end, tzinfo=zone).astimezone(UTC)
                at = begin
                while at + blocked <= close:
                    if at >= now + timedelta(hours=notice_hours) and not any(
                        b < at + blocked and at < e for b, e in busy
                    ):
                        expected.add(at)
                    at += timedelta(minutes=GRID_MINUTES)
        for slot in found:
            assert slot.end - slot.start == timedelta(minutes=duration)
            assert slot.start >= now + timedelta(hours=notice_hours)
            assert not any(b < slot.start + blocked and slot.start < e for b, e in busy)
            day = slot.start.astimezone(zone).date()
            assert any(
                day.weekday() == weekday
                and (begin := datetime.combine(day, start, tzinfo=zone).astimezone(UTC))
                <= slot.start
                and slot.start + blocked <= datetime.combine(day, end, tzinfo=zone).astimezone(UTC)
                and (slot.start - begin) % timedelta(minutes=GRID_MINUTES) == timedelta(0)
                for weekday, start, end in bounds
            )
        assert {s.start for s in found} == expected
        assert [s.start for s in found] == sorted(s.start for s in found)
        # A booking checks one start: the same answer as the whole grid, on or off the grid.
        for at in [*sorted(expected)[:3], now + timedelta(hours=notice_hours, minutes=7)]:
            only = slots(session, kind, site, week, week + timedelta(days=6), now=now, only_at=at)
            assert only == [slot for slot in found if slot.start == at]
    finally:
        savepoint.rollback()


def test_the_demo_offers_slots_on_site_remote_and_late(session):
    from app.demo.availability import seed_availability

    operator = make_operator(session)
    sites = [make_site(session, operator), make_site(session, operator, name="Grenoble")]
    counsellors = [make_staff(session, operator) for _ in range(3)]
    types = seed_availability(
        session=session,
        operator=operator,
        sites=sites,
        counsellors=counsellors,
        today=date(2027, 1, 4),
    )
    first, _advice, check_in = types
    now = utc(2027, 1, 4, 6)
    week = (date(2027, 1, 11), date(2027, 1, 17))

    on_site = slots(session, first, sites[0], *week, now=now)
    remote = slots(session, check_in, None, *week, mode="phone", now=now)

    assert [t.name for t in types] == [
        "Premier rendez-vous CEP",
        "Entretien de conseil",
        "Point d'étape",
    ]
    assert on_site and remote
    assert not slots(session, check_in, sites[0], *week, now=now)  # remote only
    latest = max(s.end.astimezone(ZoneInfo("Europe/Paris")).time() for s in on_site)
    assert latest == time(19, 15)  # the 19:30 opening minus the 15-minute buffer


def test_a_month_for_many_counsellors_takes_a_constant_number_of_queries(session):
    from sqlalchemy import event

    operator, site, counsellor = setup(session)
    kind = make_type(session, operator)
    for _ in range(5):
        staff = make_staff(session, operator)
        for weekday in range(5):
            make_opening(session, staff, site, weekday, time(9), time(17))
            make_opening(session, staff, None, weekday, time(18), time(19), modes="phone")
        make_appointment(
            session,
            counsellor=staff,
            appointment_type=kind,
            starts_at=utc(2027, 1, 5, 9),
            mode="phone",
        )
    statements = []
    listener = lambda *args: statements.append(args[2])  # noqa: E731
    event.listen(session.connection(), "before_cursor_execute", listener)
    try:
        found = slots(session, kind, site, date(2027, 1, 1), date(2027, 1, 31))
    finally:
        event.remove(session.connection(), "before_cursor_execute", listener)

    assert len(found) > 1000
    assert len(statements) <= 4
