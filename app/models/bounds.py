"""Bounded numbers, days and moments: every integer, date and datetime that comes in — path,
query string, form or JSON body — has one of these types, so that none reaches the database or
date arithmetic outside the range they can hold.

Unbounded, they answered 500: an id of 2**63 overflows PostgreSQL's integer column, a week
after 9999-12-31 overflows Python's date, 0001-01-01 in Paris is before year 1 in UTC."""

from datetime import UTC, date, datetime, timedelta
from typing import Annotated

from pydantic import AfterValidator, AwareDatetime, BeforeValidator, Field, WithJsonSchema

from app.models.fields import BlankIsNone, WholeNumber, blank_to_none

# Ids, version numbers and counts are INTEGER columns (32-bit) on PostgreSQL: a larger number
# names no row, and PostgreSQL refuses the whole statement that sends it.
MAX_INT_COLUMN = 2**31 - 1
MAX_ROW_ID = MAX_INT_COLUMN
# Days and moments: nothing the CEP records or plans is before 2000 (it dates from 2014; the
# oldest data imported is from the early 2000s) nor after 2100. Years of margin on both sides
# keep every computation on them — a week or a month either way, five years ahead, a time
# zone — within what Python's dates (years 1 to 9999) and the database hold.
FIRST_DAY = date(2000, 1, 1)
LAST_DAY = date(2100, 12, 31)
_EARLIEST = datetime.combine(FIRST_DAY, datetime.min.time(), tzinfo=UTC)


def _read_day(value):
    """A date input sends ISO text (2026-07-01); blank means none, anything else is refused."""
    if not isinstance(value, str):
        return value
    if not value.strip():
        return None
    try:
        return date.fromisoformat(value.strip())
    except ValueError:
        raise ValueError("Date invalide") from None


def _check_year(year: int) -> None:
    if year < FIRST_DAY.year:
        raise ValueError(f"Date trop ancienne (avant {FIRST_DAY.year})")
    if year > LAST_DAY.year:
        raise ValueError(f"Date trop lointaine (après {LAST_DAY.year})")


def _day_in_range(value: date) -> date:
    _check_year(value.year)
    return value


def _moment_in_range(value: datetime) -> datetime:
    # The year as written, before any conversion: 9999-12-31T23:00-05:00 has no UTC value.
    _check_year(value.year)
    return value


def _text_not_number(value):
    """JSON numbers are not days nor moments, though pydantic would read them as timestamps."""
    if isinstance(value, int | float):
        raise ValueError("Date invalide")
    return value


# The document's patterns for the years in range (the format says the rest).
_YEARS = "^(?:20[0-9]{2}|2100)-"


def _dated(format: str, description: str) -> WithJsonSchema:
    schema = {"type": "string", "format": format, "pattern": _YEARS, "description": description}
    return WithJsonSchema(schema, mode="validation")


def _check_past(value: datetime) -> datetime:
    if value < _EARLIEST:  # 2000-01-01T00:30+01:00 is still 1999 in UTC
        raise ValueError(f"Date trop ancienne (avant {FIRST_DAY.year})")
    if value > datetime.now(UTC) + timedelta(minutes=5):  # a few minutes of clock difference
        raise ValueError("La date ne peut pas être dans le futur")
    return value


# ---- numbers ----------------------------------------------------------------------------------

RowId = Annotated[int, Field(ge=1, le=MAX_ROW_ID), WholeNumber]
OptionalRowId = Annotated[RowId | None, blank_to_none]
# The number of an issued version of a deliverable: 1, 2, 3…
VersionNumber = Annotated[int, Field(ge=1, le=MAX_INT_COLUMN), WholeNumber]
# A page of a long list, and the rows skipped or counted in one.
PageNumber = Annotated[int, Field(ge=1, le=100_000), WholeNumber]
Offset = Annotated[int, Field(ge=0, le=1_000_000), WholeNumber]
Limit = Annotated[int, Field(ge=1, le=200), WholeNumber]
Count = Annotated[int, Field(ge=0, le=1_000_000), WholeNumber]
# The length of an interaction.
Minutes = Annotated[int, Field(ge=1, le=600), WholeNumber]
Year = Annotated[int, Field(ge=FIRST_DAY.year, le=LAST_DAY.year), WholeNumber]
OptionalYear = Annotated[Year | None, blank_to_none]

# ---- days and moments -------------------------------------------------------------------------

Day = Annotated[
    date,
    BeforeValidator(_text_not_number),
    AfterValidator(_day_in_range),
    _dated("date", f"Un jour de {FIRST_DAY.year} à {LAST_DAY.year} (AAAA-MM-JJ)"),
]
OptionalDay = Annotated[Day | None, BlankIsNone(_read_day)]
# A point in time with its offset (a slot, an absence): what was chosen, wherever it was.
Moment = Annotated[
    AwareDatetime,
    BeforeValidator(_text_not_number),
    AfterValidator(_moment_in_range),
    _dated("date-time", f"ISO 8601 avec son décalage, de {FIRST_DAY.year} à {LAST_DAY.year}"),
]
OptionalMoment = Annotated[Moment | None, blank_to_none]
# A moment a counsellor records: it has happened already.
PastDatetime = Annotated[
    Moment,
    AfterValidator(_check_past),
    _dated("date-time", f"ISO 8601 avec son décalage, depuis {FIRST_DAY.year}, pas dans le futur"),
]
OptionalPastDatetime = Annotated[PastDatetime | None, blank_to_none]
