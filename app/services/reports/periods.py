"""The period a report covers, asked as two days `du`..`au`: its end not before its start and,
for the activity report (one CASE branch per month), at most five years."""

from datetime import date, datetime, time
from zoneinfo import ZoneInfo

from app.core.errors import Invalid

MAX_DAYS = 5 * 366  # one CASE branch per month: keep the month grouping small


def period_refusal(start: date, end: date, *, bounded: bool = False) -> str | None:
    """Why the days `start`..`end` are refused, or None; `bounded` caps them at MAX_DAYS."""
    if end < start:
        return "La fin de la période précède son début"
    if bounded and (end - start).days > MAX_DAYS:
        return "La période ne peut dépasser cinq ans"
    return None


def check_period(start: date, end: date, *, bounded: bool = False) -> None:
    """Raises Invalid, on the `au` field, for a refused period (see period_refusal)."""
    refusal = period_refusal(start, end, bounded=bounded)
    if refusal is not None:
        raise Invalid({"au": refusal})


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
