"""Where a French postcode roughly is, and the communes a name may mean, from data shipped with
the app (app/data), never online."""

import csv
import math
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from app.models.fields import search_key

POSITIONS = Path(__file__).resolve().parents[2] / "data" / "postcode_positions.csv"
EARTH_RADIUS_KM = 6371.0


@lru_cache(maxsize=1)
def _positions() -> dict[str, tuple[float, float]]:
    with POSITIONS.open(encoding="utf-8") as handle:
        return {
            row["postcode"]: (float(row["latitude"]), float(row["longitude"]))
            for row in csv.DictReader(handle)
        }


def postcode_position(postcode: str | None) -> tuple[float, float] | None:
    return _positions().get((postcode or "").strip())


def distance_km(a: tuple[float, float], b: tuple[float, float]) -> float:
    """Great-circle distance (haversine)."""
    lat1, lon1, lat2, lon2 = map(math.radians, (*a, *b))
    h = (
        math.sin((lat2 - lat1) / 2) ** 2
        + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2
    )
    return 2 * EARTH_RADIUS_KM * math.asin(math.sqrt(h))


# The legal time of each territory outside metropolitan France and Corsica (Europe/Paris), by
# the postcode's first digits; the longest prefix wins (Saint-Barthélemy and Saint-Martin have
# postcodes of Guadeloupe's series).
_OVERSEAS_TIME_ZONES = {
    "971": "America/Guadeloupe",
    "97133": "America/St_Barthelemy",
    "97150": "America/Marigot",
    "972": "America/Martinique",
    "973": "America/Cayenne",
    "974": "Indian/Reunion",
    "975": "America/Miquelon",
    "976": "Indian/Mayotte",
    "986": "Pacific/Wallis",
    "987": "Pacific/Tahiti",
    "988": "Pacific/Noumea",
}
METROPOLITAN_TIME_ZONE = "Europe/Paris"


def postcode_time_zone(postcode: str) -> str:
    """The time zone of the territory a postcode belongs to."""
    for length in (5, 3):
        if postcode[:length] in _OVERSEAS_TIME_ZONES:
            return _OVERSEAS_TIME_ZONES[postcode[:length]]
    return METROPOLITAN_TIME_ZONE


# ---- communes, by name (app/data/communes.csv, built by scripts/build_communes.py) --------

COMMUNES = Path(__file__).resolve().parents[2] / "data" / "communes.csv"


@dataclass(frozen=True)
class Commune:
    name: str
    departement: str
    postcodes: tuple[str, ...]


@lru_cache(maxsize=1)
def _communes_by_key() -> dict[str, list[Commune]]:
    found: dict[str, list[Commune]] = {}
    with COMMUNES.open(encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            commune = Commune(row["name"], row["departement"], tuple(row["postcodes"].split()))
            found.setdefault(_commune_key(commune.name), []).append(commune)
    return found


def _commune_key(name: str) -> str:
    # « Saint-Étienne », « saint etienne » and « St Etienne » are one name.
    words = search_key(name.replace("-", " ").replace("'", " ").replace("’", " ")).split()
    return " ".join({"st": "saint", "ste": "sainte"}.get(word, word) for word in words)


@lru_cache(maxsize=1)
def _communes_by_postcode() -> dict[str, list[Commune]]:
    found: dict[str, list[Commune]] = {}
    for communes in _communes_by_key().values():
        for commune in communes:
            for postcode in commune.postcodes:
                found.setdefault(postcode, []).append(commune)
    return found


def communes_of_postcode(postcode: str) -> list[Commune]:
    """The communes a postcode serves (none: no such postcode)."""
    return _communes_by_postcode().get(postcode, [])


def communes_named(name: str, *, limit: int = 8) -> list[Commune]:
    """The communes called `name` (case, accents and hyphens ignored); failing that, those
    whose name starts with it; most postcodes first (the larger towns), then by name."""
    key = _commune_key(name)
    if len(key) < 2:
        return []
    table = _communes_by_key()
    found = table.get(key) or [
        commune
        for other, communes in table.items()
        if other.startswith(key)
        for commune in communes
    ]
    found = sorted(found, key=lambda c: (-len(c.postcodes), search_key(c.name), c.departement))
    return found[:limit]
