"""The bounded types every number, day and moment comes in through: their edges and messages."""

from datetime import UTC, date, datetime, timedelta, timezone

import pytest

from app.core.errors import Invalid
from app.models.bounds import (
    MAX_ROW_ID,
    Day,
    Moment,
    OptionalDay,
    OptionalRowId,
    PastDatetime,
    RowId,
    VersionNumber,
)
from app.web.forms import parse_value

PARIS_WINTER = timezone(timedelta(hours=1))


def message(kind, value) -> str:
    with pytest.raises(Invalid) as refused:
        parse_value(kind, value, name="champ")
    return refused.value.fields["champ"]


@pytest.mark.parametrize("value", ["1", str(MAX_ROW_ID), 1, MAX_ROW_ID])
def test_a_row_id_is_a_positive_32_bit_integer(value):
    assert parse_value(RowId, value, name="id") == int(value)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("0", "Doit être au moins 1"),
        ("-1", "Doit être au moins 1"),
        (str(MAX_ROW_ID + 1), "Doit être au plus 2147483647"),
        (str(2**63), "Doit être au plus 2147483647"),
        ("99999999999999999999", "Doit être au plus 2147483647"),
        ("douze", "Nombre entier attendu"),
        ("1e309", "Nombre entier attendu"),
    ],
)
def test_a_row_id_out_of_range_is_refused_in_french(value, expected):
    assert message(RowId, value) == expected


def test_a_version_number_fits_the_integer_column():
    assert message(VersionNumber, str(2**63)) == "Doit être au plus 2147483647"


def test_an_optional_row_id_reads_blank_as_none():
    assert parse_value(OptionalRowId, "", name="lieu") is None
    assert parse_value(OptionalRowId, "  ", name="lieu") is None


@pytest.mark.parametrize("value", ["2000-01-01", "2026-07-01", "2100-12-31"])
def test_days_from_2000_to_2100_are_accepted(value):
    assert parse_value(Day, value, name="jour") == date.fromisoformat(value)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("0001-01-01", "Date trop ancienne (avant 2000)"),
        ("1999-12-31", "Date trop ancienne (avant 2000)"),
        ("2101-01-01", "Date trop lointaine (après 2100)"),
        ("9999-12-31", "Date trop lointaine (après 2100)"),
        ("2026-02-30", "Date invalide"),
    ],
)
def test_days_out_of_range_are_refused_in_french(value, expected):
    assert message(Day, value) == expected
    assert message(OptionalDay, value) == expected


def test_an_optional_day_reads_blank_as_none():
    assert parse_value(OptionalDay, "", name="du") is None


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("9999-12-31T09:00:00+01:00", "Date trop lointaine (après 2100)"),
        ("9999-12-31T23:59:59-12:00", "Date trop lointaine (après 2100)"),  # no UTC value
        ("0001-01-01T00:00:00+01:00", "Date trop ancienne (avant 2000)"),  # no UTC value
        ("2026-12-01T09:00:00", "Date invalide : fuseau horaire manquant"),
        ("demain", "Date et heure invalides"),
    ],
)
def test_moments_out_of_range_or_without_offset_are_refused_in_french(value, expected):
    assert message(Moment, value) == expected


def test_a_moment_keeps_its_offset():
    start = parse_value(Moment, "2026-12-01T09:00:00+01:00", name="debut")
    assert start == datetime(2026, 12, 1, 9, tzinfo=PARIS_WINTER)
    assert start.utcoffset() == timedelta(hours=1)


def test_a_past_moment_is_neither_before_2000_in_utc_nor_in_the_future():
    assert message(PastDatetime, "2000-01-01T00:30:00+01:00") == "Date trop ancienne (avant 2000)"
    tomorrow = (datetime.now(UTC) + timedelta(days=1)).isoformat()
    assert message(PastDatetime, tomorrow) == "La date ne peut pas être dans le futur"
    assert parse_value(PastDatetime, "2025-01-05T10:00:00+01:00", name="le")
