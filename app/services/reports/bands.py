"""The bands a person's profile is reported in, as ../shared/reference/NOMENCLATURES.md gives
them: written once for the reports, the national view and the data feed."""

from sqlmodel import case

UNKNOWN = "Non renseigné"
# (code, label, oldest age in the band); the last band has no upper bound.
AGE_BANDS = (
    ("moins_26", "Moins de 26 ans", 25),
    ("26_35", "26 à 35 ans", 35),
    ("36_45", "36 à 45 ans", 45),
    ("46_55", "46 à 55 ans", 55),
    ("plus_55", "Plus de 55 ans", None),
)
AGE_UNKNOWN = "nr"


def age_band(birth_year: int | None, year: int) -> str:
    """The band of the age reached during `year` (only the birth year is kept)."""
    if birth_year is None:
        return AGE_UNKNOWN
    age = year - birth_year
    return next(code for code, _, oldest in AGE_BANDS if oldest is None or age <= oldest)


def age_band_column(born, year: int):
    """`age_band` of a birth-year column as an SQL expression, for counting in the database."""
    branches = [(born.is_(None), AGE_UNKNOWN)]
    branches += [(born >= year - oldest, code) for code, _, oldest in AGE_BANDS if oldest]
    return case(*branches, else_=AGE_BANDS[-1][0])


def age_band_rows(counts: dict) -> list[tuple[str, int]]:
    """(label, count) for every band in order, then the unknown ones."""
    rows = [(label, counts.get(code, 0)) for code, label, _ in AGE_BANDS]
    return [*rows, (UNKNOWN, counts.get(AGE_UNKNOWN, 0))]
