"""Where a French postcode roughly is, from data shipped with the app (app/data), never online."""

import csv
import math
from functools import lru_cache
from pathlib import Path

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
