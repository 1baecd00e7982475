"""The period a report covers, asked as two days `du`..`au`: its end not before its start and,
for the activity report (one CASE branch per month), at most five years; for the figures and
the feed sent to France compétences, at most three years, none before 2020."""

from datetime import date, datetime, time
from zoneinfo import ZoneInfo

from app.core.errors import Invalid

MAX_DAYS = 5 * 366  # one CASE branch per month: keep the month grouping small
# What France compétences is sent (the data feed, its indicators): the CEP market it counts
# began in 2020, and three years are the most one request reads.
FIRST_NATIONAL_DAY = date(2020, 1, 1)
NATIONAL_YEARS = 3
TOO_EARLY = "La période ne peut commencer avant le 1er janvier 2020"


def period_refusal(
    start: date, end: date, *, bounded: bool = False, national: bool = False
) -> str | None:
    """Why the days `start`..`end` are refused, or None; `bounded` caps them at MAX_DAYS,
    `national` at NATIONAL_YEARS (calendar years: 1 January 2021 to 31 December 2023 at most)
    from FIRST_NATIONAL_DAY on."""
    if end < start:
        return "La fin de la période précède son début"
    if bounded and (end - start).days > MAX_DAYS:
        return "La période ne peut dépasser cinq ans"
    if national and start < FIRST_NATIONAL_DAY:
        return TOO_EARLY
    if national and end >= _years_later(start, NATIONAL_YEARS):
        return "La période ne peut dépasser trois ans"
    return None


def _years_later(day: date, years: int) -> date:
    """The same day `years` later; 1 March for a 29 February that year lacks."""
    try:
        return day.replace(year=day.year + years)
    except ValueError:
        return date(day.year + years, 3, 1)


def check_period(start: date, end: date, *, bounded: bool = False, national: bool = False) -> None:
    """Raises Invalid, on the `au` field (`du` for a start too early), for a refused period
    (see period_refusal)."""
    refusal = period_refusal(start, end, bounded=bounded, national=national)
    if refusal is not None:
        raise Invalid({"du" if refusal == TOO_EARLY else "au": refusal})


def checked_end(start: date | None, end: date | None) -> date | None:
    """A filter form's `au` validator: when both days are given, an end before the start is
    the field's message (ValueError); either left out takes its default later."""
    if start and end:
        refusal = period_refusal(start, end)
        if refusal is not None:
            raise ValueError(refusal)
    return end


def local_midnight(day: date, time_zone: str) -> datetime:
    """The moment a local day starts: a period's days are bounded by these in the database."""
    return datetime.combine(day, time(), ZoneInfo(time_zone))


def months_between(start: date, end: date) -> list[date]:
    """The first day of each calendar month that `start`..`end` touches."""
    first, months = date(start.year, start.month, 1), []
    while first <= end:
        months.append(first)
        first = date(first.year + first.month // 12, first.month % 12 + 1, 1)
    return months
