"""Dates written as French writes them, once (app/core/dates.py): « 1er décembre », then
« 2 décembre », with the weekday where a day is offered."""

from datetime import UTC, date, datetime

from app.core.dates import (
    day_of_month,
    format_date,
    format_datetime,
    format_day,
    format_long_day,
    format_period,
    format_recent_day,
)


def test_the_first_of_the_month_is_an_ordinal():
    assert (day_of_month(1), day_of_month(2), day_of_month(21)) == ("1er", "2", "21")


def test_a_calendar_date_on_the_first_reads_1er():
    assert format_day(date(2026, 12, 1)) == "1er décembre 2026"
    assert format_day("2027-01-02") == "2 janvier 2027"


def test_a_period_reads_from_day_to_day_or_as_one_day():
    assert format_period(date(2026, 1, 1), date(2026, 12, 31)) == (
        "du 1er janvier 2026 au 31 décembre 2026"
    )
    assert format_period(date(2026, 3, 5), date(2026, 3, 5)) == "le 5 mars 2026"


def test_a_day_reads_with_its_weekday_and_month_in_french():
    assert format_long_day(date(2026, 11, 30)) == "lundi 30 novembre 2026"
    assert format_long_day(date(2027, 8, 1)) == "dimanche 1er août 2027"
    assert format_day(date(2027, 1, 15)) == "15 janvier 2027"


def test_a_moment_on_the_first_reads_1er_in_the_site_time_zone():
    # 23:30 UTC on 30 November is already 1 December in Paris, not yet in Guadeloupe.
    moment = datetime(2026, 11, 30, 23, 30, tzinfo=UTC)
    assert format_date(moment, "Europe/Paris") == "1er décembre 2026"
    assert format_datetime(moment, "Europe/Paris") == "1er décembre 2026 à 00 h 30"
    assert format_date(moment, "America/Guadeloupe") == "30 novembre 2026"
    assert format_datetime(datetime(2026, 12, 31, 23, 30, tzinfo=UTC), "Europe/Paris") == (
        "1er janvier 2027 à 00 h 30"
    )


def test_a_recent_day_drops_the_year_of_this_year_only(clock):
    # The clock is at 2 December 2026.
    assert format_recent_day(date(2026, 12, 1)) == "1er décembre"
    assert format_recent_day(datetime(2026, 11, 30, 23, 30, tzinfo=UTC), "Europe/Paris") == (
        "1er décembre"
    )
    assert format_recent_day(date(2025, 12, 30)) == "30 décembre 2025"
