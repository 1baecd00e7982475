"""Dates shown in French, in the site's time zone (they are stored in UTC)."""

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

from app.core.config import get_settings

WEEKDAYS = ("lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche")
_MONTHS = (
    "janvier février mars avril mai juin juillet août septembre octobre novembre décembre".split()
)


def day_of_month(day: int) -> str:
    """« 1er » for the first of the month (as French writes it), the bare number otherwise."""
    return "1er" if day == 1 else str(day)


def to_local(value: datetime, time_zone: str | None = None) -> datetime:
    return value.astimezone(ZoneInfo(time_zone or get_settings().default_time_zone))


def local_today(time_zone: str, *, now: datetime | None = None) -> date:
    """Today's date where the clock reads `time_zone` (`now` by default the current time)."""
    return to_local(now or datetime.now(UTC), time_zone).date()


def format_datetime(value: datetime | None, time_zone: str | None = None) -> str:
    """29 novembre 2026 à 14 h 05, in the site's time zone (« 1er décembre » on the first)."""
    if value is None:
        return ""
    local = to_local(value, time_zone)
    return f"{day_of_month(local.day)} {_MONTHS[local.month - 1]} {local.year} à {local:%H} h {local:%M}"


def format_date(value: datetime | None, time_zone: str | None = None) -> str:
    """29 novembre 2026, or 1er décembre 2026, in the site's time zone."""
    if value is None:
        return ""
    local = to_local(value, time_zone)
    return f"{day_of_month(local.day)} {_MONTHS[local.month - 1]} {local.year}"


def input_datetime(value: datetime | None, time_zone: str | None = None) -> str:
    """The value a datetime-local input expects."""
    return to_local(value, time_zone).strftime("%Y-%m-%dT%H:%M") if value else ""


def format_day(value: date | str | None) -> str:
    """A calendar date (no time zone involved), e.g. a due date: « 15 janvier 2027 »."""
    if not value:
        return ""
    day = date.fromisoformat(value) if isinstance(value, str) else value
    return f"{day_of_month(day.day)} {_MONTHS[day.month - 1]} {day.year}"


def format_period(start: date, end: date) -> str:
    """Calendar days from start to end, both included: « du 1er janvier 2026 au 31 décembre
    2026 », or « le 5 mars 2026 » for a single day."""
    if start == end:
        return f"le {format_day(start)}"
    return f"du {format_day(start)} au {format_day(end)}"


def format_recent_day(value: date | datetime, time_zone: str | None = None) -> str:
    """« 25 novembre », « 1er décembre »: a day of this year, where a list is short of room;
    a day of another year keeps its year (« 30 décembre 2025 »)."""
    local = to_local(value, time_zone) if isinstance(value, datetime) else value
    today = local_today(time_zone or get_settings().default_time_zone)
    label = f"{day_of_month(local.day)} {_MONTHS[local.month - 1]}"
    return label if local.year == today.year else f"{label} {local.year}"


def format_month(day: date) -> str:
    """The calendar month of `day`: « novembre 2026 »."""
    return f"{_MONTHS[day.month - 1]} {day.year}"


def format_long_day(day: date) -> str:
    """A calendar date with its weekday: « lundi 30 novembre 2026 »."""
    return f"{WEEKDAYS[day.weekday()]} {format_day(day)}"


def format_weekday(day: date, *, year: bool = False) -> str:
    """A day of the coming weeks, as a heading: « mercredi 2 décembre », « mardi 1er décembre »
    (« mardi 1er décembre 2026 » with the year)."""
    label = f"{WEEKDAYS[day.weekday()]} {day_of_month(day.day)} {_MONTHS[day.month - 1]}"
    return f"{label} {day.year}" if year else label
