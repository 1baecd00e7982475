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
