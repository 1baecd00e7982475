import random
from datetime import date

from app.synthetic.calendar import SLOTS, Calendar, LocalClock


def test_a_calendar_never_gives_the_same_slot_twice():
    clock = LocalClock("Europe/Paris", date(2025, 1, 1), 40)
    calendar = Calendar(clock)
    rng = random.Random(3)
    booked = [calendar.book(rng, 0) for _ in range(60)]
    assert None not in booked
    assert len(set(booked)) == 60
    assert all(clock.workday[day] for day, _minute in booked)


def test_a_full_calendar_gives_nothing_within_the_window():
    clock = LocalClock("Europe/Paris", date(2025, 1, 6), 7)  # Monday to Sunday
    calendar = Calendar(clock)
    rng = random.Random(3)
    for _ in range(5 * SLOTS):
        assert calendar.book(rng, 0, within=7) is not None
    assert calendar.book(rng, 0, within=7) is None


def test_overseas_moments_follow_the_operator_time_zone():
    reunion = LocalClock("Indian/Reunion", date(2025, 7, 1), 1)
    paris = LocalClock("Europe/Paris", date(2025, 7, 1), 1)
    assert reunion.moment(0, 9 * 60).hour == 5  # UTC+4
    assert paris.moment(0, 9 * 60).hour == 7  # UTC+2 in summer
