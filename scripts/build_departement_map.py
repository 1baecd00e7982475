"""Build app/data/departements.json: the départements' names, their outlines as SVG paths ready to
draw (overseas ones and the Paris area in insets), and the postcodes whose département is not the
one their first digits say — so that the reports draw a map without any tile server.

Inputs, both from package registries (nothing is fetched at run time):
- outlines: PyPI `apache-superset` (Apache-2.0), whose country-map assets include France's
  départements derived from Natural Earth (public domain), overseas ones moved near Europe;
- names, codes and communes' postcodes: npm `@etalab/decoupage-administratif` (MIT).

    pip download --no-deps apache-superset==6.1.0
    npm pack @etalab/decoupage-administratif@6.0.0 && tar xzf etalab-*.tgz
    python scripts/build_departement_map.py apache_superset-6.1.0-py3-none-any.whl \\
        package/data app/data/departements.json

Projection: equirectangular with longitudes scaled by cos 46° (the middle of metropolitan France),
good enough at this size; each overseas département is drawn at its own latitude's scale.
"""

import collections
import json
import math
import sys
import zipfile

HEIGHT = 1000  # metropolitan France's height in map units (integers keep the paths short)
MARGIN = 10
# Superset files the overseas départements under ISO letters and has moved and rescaled them
# (uniformly, so only the x scale of their own latitude is needed to undo the distortion).
OVERSEAS = {
    "GP": ("971", 16.2),
    "MQ": ("972", 14.6),
    "GF": ("973", 4.0),
    "RE": ("974", -21.1),
    "YT": ("976", -12.8),
}
PARIS_AREA = ("75", "92", "93", "94")
ZOOM_CORNER = (-4.9, 45.9)  # longitude, latitude of its top-left corner: open sea
ZOOM_SIZE = 180
INSET_SIZE = 160
INSET_GAP = 14
LABEL = 38  # room under an inset for its name
TOLERANCE = 0.8  # map units dropped by simplification: under a pixel at the sizes pages use


def superset_france(wheel_path: str) -> list[dict]:
    """The départements of France (not the one that adds the other overseas collectivities)."""
    with zipfile.ZipFile(wheel_path) as wheel:
        for name in wheel.namelist():
            if not (name.startswith("superset/static/assets/") and name.endswith(".geojson")):
                continue
            features = json.loads(wheel.read(name))["features"]
            codes = {f["properties"].get("ISO") for f in features}
            if {"FR-2A", "FR-GP"} <= codes and "FR-NC" not in codes:
                return features
    raise SystemExit("no France départements map in this wheel")


def rings(geometry: dict) -> list[list[tuple[float, float]]]:
    polygons = (
        geometry["coordinates"] if geometry["type"] == "MultiPolygon" else [geometry["coordinates"]]
    )
    return [[(x, y) for x, y in ring] for polygon in polygons for ring in polygon]


def simplify(points: list, tolerance: float) -> list:
    """Douglas–Peucker on one ring (its first and last points are kept)."""
    if len(points) < 3:
        return points
    (ax, ay), (bx, by) = points[0], points[-1]
    length = math.hypot(bx - ax, by - ay)
    farthest, index = 0.0, 0
    for i, (px, py) in enumerate(points[1:-1], 1):
        if length:
            distance = abs((bx - ax) * (ay - py) - (ax - px) * (by - ay)) / length
        else:
            distance = math.hypot(px - ax, py - ay)
        if distance > farthest:
            farthest, index = distance, i
    if farthest <= tolerance:
        return [points[0], points[-1]]
    return simplify(points[: index + 1], tolerance)[:-1] + simplify(points[index:], tolerance)


def path(shape_rings: list[list[tuple[float, float]]]) -> str:
    """Rings as an SVG path: absolute start, then relative integer steps (short to write)."""
    parts = []
    for ring in shape_rings:
        ring = simplify(ring, TOLERANCE)
        steps, previous = [], None
        for x, y in ring:
            point = (round(x), round(y))
            if point != previous:
                steps.append(point)
                previous = point
        if len(steps) > 1 and steps[0] == steps[-1]:
            steps.pop()
        if len(steps) < 3:
            continue
        moves = " ".join(
            f"{x1 - x0} {y1 - y0}" for (x0, y0), (x1, y1) in zip(steps, steps[1:], strict=False)
        )
        parts.append(f"M{steps[0][0]} {steps[0][1]}l{moves}z")
    return "".join(parts).replace(" -", "-")


def projected(shape_rings, x_scale: float) -> list[list[tuple[float, float]]]:
    return [[(x * x_scale, -y) for x, y in ring] for ring in shape_rings]


def fitted(shape_rings, box: tuple[float, float, float, float]) -> list[list[tuple[float, float]]]:
    """Rings scaled and centred to fill a (x, y, width, height) box, keeping their proportions."""
    xs = [x for ring in shape_rings for x, _ in ring]
    ys = [y for ring in shape_rings for _, y in ring]
    left, top, width, height = box
    scale = min(width / (max(xs) - min(xs)), height / (max(ys) - min(ys)))
    dx = left + (width - (max(xs) - min(xs)) * scale) / 2 - min(xs) * scale
    dy = top + (height - (max(ys) - min(ys)) * scale) / 2 - min(ys) * scale
    return [[(x * scale + dx, y * scale + dy) for x, y in ring] for ring in shape_rings]


def bounds(shapes: dict) -> tuple[float, float, float, float]:
    xs = [x for shape in shapes.values() for ring in shape for x, _ in ring]
    ys = [y for shape in shapes.values() for ring in shape for _, y in ring]
    return min(xs), min(ys), max(xs), max(ys)


def inner(box: tuple[int, int, int, int], padding: int = 8) -> tuple[int, int, int, int]:
    x, y, width, height = box
    return x + padding, y + padding, width - 2 * padding, height - 2 * padding


def frame(code: str, box: tuple[int, int, int, int]) -> dict:
    return {"code": code, "x": box[0], "y": box[1], "width": box[2], "height": box[3]}


def overseas_insets(overseas: dict, shapes: dict, frames: list) -> None:
    """Overseas départements in a column of boxes on the left, each filling its box."""
    for i, code in enumerate(sorted(overseas)):
        box = (MARGIN, MARGIN + i * (INSET_SIZE + LABEL + INSET_GAP), INSET_SIZE, INSET_SIZE)
        shapes[code] = fitted(overseas[code], inner(box))
        frames.append(frame(code, box))


def paris_zoom(shapes: dict, box: tuple[int, int, int, int]) -> dict:
    """The Paris area, a few pixels wide on the map, repeated and enlarged in `box`."""
    zoom = fitted([ring for code in PARIS_AREA for ring in shapes[code]], inner(box))
    zoomed, start = {}, 0
    for code in PARIS_AREA:
        zoomed[code] = zoom[start : start + len(shapes[code])]
        start += len(shapes[code])
    return zoomed


def layout(features: list[dict]) -> tuple[dict, list[dict], dict, tuple[int, int]]:
    """(paths by code, inset frames, Paris-area zoom paths by code, (width, height))."""
    x_scale = math.cos(math.radians(46))
    metropolitan, overseas = {}, {}
    for feature in features:
        code = feature["properties"]["ISO"].removeprefix("FR-")
        if code in OVERSEAS:
            code, latitude = OVERSEAS[code]
            overseas[code] = projected(rings(feature["geometry"]), math.cos(math.radians(latitude)))
        else:
            metropolitan[code] = projected(rings(feature["geometry"]), x_scale)
    left, top, right, bottom = bounds(metropolitan)
    scale = HEIGHT / (bottom - top)
    offset_x = MARGIN + INSET_SIZE + 3 * INSET_GAP  # right of the overseas column

    def place(x: float, y: float) -> tuple[float, float]:
        return (x - left) * scale + offset_x, (y - top) * scale + MARGIN

    shapes = {
        code: [[place(x, y) for x, y in ring] for ring in shape]
        for code, shape in metropolitan.items()
    }
    frames = []
    overseas_insets(overseas, shapes, frames)
    corner = place(ZOOM_CORNER[0] * x_scale, -ZOOM_CORNER[1])
    zoom_box = (round(corner[0]), round(corner[1]), ZOOM_SIZE, ZOOM_SIZE)
    zoomed = paris_zoom(shapes, zoom_box)
    frames.append(frame("paris", zoom_box))
    width = round(offset_x + (right - left) * scale + MARGIN)
    height = round(max(HEIGHT + 2 * MARGIN, frames[-2]["y"] + INSET_SIZE + LABEL + MARGIN))
    return shapes, frames, zoomed, (width, height)


def postcodes_outside_prefix(communes: list[dict], prefix_rule) -> dict[str, str]:
    """Postcodes whose communes lie (mostly, by population) in another département than the rule says."""
    populations = collections.defaultdict(collections.Counter)
    for commune in communes:
        if commune.get("type") != "commune-actuelle":
            continue
        for postcode in commune.get("codesPostaux", []):
            populations[postcode][commune["departement"]] += max(commune.get("population") or 0, 1)
    exceptions = {}
    for postcode, counts in sorted(populations.items()):
        main = counts.most_common(1)[0][0]
        if main != prefix_rule(postcode):
            exceptions[postcode] = main
    return exceptions


def prefix_rule(postcode: str) -> str:
    if postcode.startswith(("97", "98")):
        return postcode[:3]
    if postcode.startswith("20"):
        return "2A" if postcode[2] in "01" else "2B"
    return postcode[:2]


def main(wheel_path: str, etalab_data: str, out_path: str) -> None:
    names = {
        d["code"]: d["nom"]
        for d in json.load(open(f"{etalab_data}/departements.json", encoding="utf-8"))
    }
    communes = json.load(open(f"{etalab_data}/communes.json", encoding="utf-8"))
    shapes, frames, zoomed, (width, height) = layout(superset_france(wheel_path))
    missing = [code for code in shapes if code not in names]
    if missing:
        raise SystemExit(f"outlines without a name: {missing}")
    document = {
        "width": width,
        "height": height,
        "names": names,
        "shapes": [{"code": code, "d": path(shapes[code])} for code in sorted(shapes)],
        "zoom": [{"code": code, "d": path(rings)} for code, rings in zoomed.items()],
        "insets": frames,
        "postcodes_outside_prefix": postcodes_outside_prefix(communes, prefix_rule),
    }
    with open(out_path, "w", encoding="utf-8") as out:
        json.dump(document, out, ensure_ascii=False, separators=(",", ":"))
        out.write("\n")
    print(f"{len(document['shapes'])} départements written to {out_path}")


if __name__ == "__main__":
    main(*sys.argv[1:4])
