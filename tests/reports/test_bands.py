"""The age bands of the nomenclature, in Python and in SQL, agree at every boundary."""

import pytest
from sqlalchemy import literal
from sqlmodel import select

from app.services.reports.bands import age_band, age_band_column, age_band_rows

YEAR = 2026


@pytest.mark.parametrize(
    ("age", "band"),
    [(18, "moins_26"), (25, "moins_26"), (26, "26_35"), (35, "26_35"), (36, "36_45")]
    + [(45, "36_45"), (46, "46_55"), (55, "46_55"), (56, "plus_55"), (70, "plus_55")],
)
def test_each_age_falls_in_its_band(session, age, band):
    assert age_band(YEAR - age, YEAR) == band
    assert session.exec(select(age_band_column(literal(YEAR - age), YEAR))).one() == band


def test_an_unknown_birth_year_is_its_own_row(session):
    assert age_band(None, YEAR) == "nr"
    assert age_band_rows({"nr": 3, "26_35": 2})[-1] == ("Non renseigné", 3)
    assert [label for label, _ in age_band_rows({})][:5] == [
        "Moins de 26 ans",
        "26 à 35 ans",
        "36 à 45 ans",
        "46 à 55 ans",
        "Plus de 55 ans",
    ]
