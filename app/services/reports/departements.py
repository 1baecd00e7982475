"""Départements: the one a postcode lies in, their names, and their outlines for the coverage map
(app/data/departements.json, built by scripts/build_departement_map.py, read once)."""

import json
import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from app.core.typography import french_percent

MAP_FILE = Path(__file__).resolve().parents[2] / "data" / "departements.json"
POSTCODE = re.compile(r"\d{5}")


@cache
def map_shapes() -> dict:
    """The shipped file: `width`, `height`, `names`, `shapes` and `zoom` ({code, d}), `insets`."""
    return json.loads(MAP_FILE.read_text(encoding="utf-8"))


DEPARTEMENT_NAMES: dict[str, str] = map_shapes()["names"]


def departement_of(postcode: str | None) -> str | None:
    """The département code of a French postcode ("2A", "974"…), None when it is not one."""
    postcode = (postcode or "").strip()
    if not POSTCODE.fullmatch(postcode):
        return None
    # A handful of postcodes cross a border (Orly's 94390 serves an Essonne commune; 97133 and
    # 97150 left Guadeloupe with Saint-Barthélemy and Saint-Martin): the build lists them.
    exception = map_shapes()["postcodes_outside_prefix"].get(postcode)
    if exception:
        return exception
    if postcode.startswith(("97", "98")):
        code = postcode[:3]
    elif postcode.startswith("20"):
        # Corse-du-Sud's postcodes start 200 or 201, Haute-Corse's 202 to 206.
        code = "2A" if postcode[2] in "01" else "2B"
    else:
        code = postcode[:2]
    return code if code in DEPARTEMENT_NAMES else None


# ---- the shaded map -----------------------------------------------------------------------

STEP_WIDTH = 20  # five colour steps over 0–100 %: few enough to tell apart at a glance
LEGEND_STEPS = (
    f"moins de {french_percent(20)}",
    f"de 20 à {french_percent(40)}",
    f"de 40 à {french_percent(60)}",
    f"de 60 à {french_percent(80)}",
    f"{french_percent(80)} et plus",
)
ZOOM_LABEL = ("Paris et", "petite couronne")  # two lines: one is wider than its box


@dataclass(frozen=True)
class MapArea:
    code: str
    name: str
    d: str
    value: float | None
    state: str  # "step-1" … "step-5", "secret", "none" (no figure at all): the CSS class

    def reading(self, hidden: str) -> str:
        if self.state == "none":
            return "aucune donnée"
        return hidden if self.value is None else shown(self.value)


@dataclass(frozen=True)
class MapInset:
    label: tuple[str, ...]  # its lines
    x: int
    y: int
    width: int
    height: int


@dataclass(frozen=True)
class ShadedMap:
    width: int
    height: int
    areas: list[MapArea]
    insets: list[MapInset]
    legend: tuple[str, ...] = LEGEND_STEPS

    def summary(self, hidden: str) -> str:
        """What the map says, for those who cannot see it (its table follows it on the page)."""
        known = sorted((a for a in self.departements if a.value is not None), key=lambda a: a.value)
        secret = sum(1 for a in self.departements if a.state == "secret")
        missing = sum(1 for a in self.departements if a.state == "none")
        parts = [f"{len(known)} départements renseignés"]
        if known:
            low, high = known[0], known[-1]
            parts[0] += f", de {shown(low.value)} ({low.name}) à {shown(high.value)} ({high.name})"
        if secret:
            parts.append(f"{secret} {hidden}")
        if missing:
            parts.append(f"{missing} sans donnée")
        return " ; ".join(parts) + ". Les chiffres figurent dans le tableau."

    @property
    def departements(self) -> list[MapArea]:
        """Each département once (the Paris-area zoom repeats four of them)."""
        return list({area.code: area for area in self.areas}.values())


def shown(value: float) -> str:
    rounded = round(float(value), 1)
    return french_percent(int(rounded) if rounded.is_integer() else rounded)


def state_of(code: str, shares: dict) -> str:
    if code not in shares:
        return "none"
    if shares[code] is None:
        return "secret"
    # Binned as shown (one decimal), so that « 80 % » is never drawn in the 60–80 step.
    step = int(round(float(shares[code]), 1) // STEP_WIDTH)
    return f"step-{min(step, len(LEGEND_STEPS) - 1) + 1}"


def shaded_map(shares: dict[str, float | None]) -> ShadedMap:
    """The départements shaded by a percentage each: None is a secret cell, absent is no data."""
    shapes = map_shapes()

    def area(shape: dict) -> MapArea:
        code = shape["code"]
        name = DEPARTEMENT_NAMES[code]
        return MapArea(code, name, shape["d"], shares.get(code), state_of(code, shares))

    insets = [
        MapInset(
            ZOOM_LABEL if frame["code"] == "paris" else (DEPARTEMENT_NAMES[frame["code"]],),
            frame["x"],
            frame["y"],
            frame["width"],
            frame["height"],
        )
        for frame in shapes["insets"]
    ]
    areas = [area(shape) for shape in shapes["shapes"] + shapes["zoom"]]
    return ShadedMap(shapes["width"], shapes["height"], areas, insets)
