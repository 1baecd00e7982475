"""Départements: a postcode's département, the shipped outlines, and the map drawn from them."""

import xml.etree.ElementTree as ET

import pytest

from app.core.typography import NARROW_NBSP
from app.services.reports.departements import (
    DEPARTEMENT_NAMES,
    MAP_FILE,
    departement_of,
    map_shapes,
)
from app.web.rendering import templates

METROPOLITAN = {f"{n:02d}" for n in range(1, 96) if n != 20} | {"2A", "2B"}
OVERSEAS = {"971", "972", "973", "974", "976"}
SVG = "{http://www.w3.org/2000/svg}"
PERCENT = f"{NARROW_NBSP}%"


def drawn(shares: dict, hidden: str = "secret") -> ET.Element:
    source = '{% import "reports/_partials/map.html" as m %}{{ m.departement_map(shares, "Couverture", hidden) }}'
    html = templates.env.from_string(source).render(shares=shares, hidden=hidden)
    # The macro writes well-formed markup: parsed as XML, with the SVG namespace declared for it.
    return ET.fromstring(html.replace("<svg ", f'<svg xmlns="{SVG[1:-1]}" ', 1))


def titles(figure: ET.Element) -> dict[str, str]:
    """Each area's tooltip by département code, and the class of its path."""
    found = {}
    for path in figure.iter(f"{SVG}path"):
        text = path.find(f"{SVG}title").text
        code = text.split("(")[1].split(")")[0]
        found[code] = (text, path.get("class"))
    return found


@pytest.mark.parametrize(
    ("postcode", "expected"),
    [
        ("75011", "75"),
        ("01000", "01"),
        ("13001", "13"),
        ("59000", "59"),
        (" 69003 ", "69"),
        ("95000", "95"),
    ],
)
def test_metropolitan_postcode_gives_its_first_two_digits(postcode, expected):
    assert departement_of(postcode) == expected


@pytest.mark.parametrize(
    ("postcode", "expected"),
    [
        ("20000", "2A"),
        ("20090", "2A"),
        ("20167", "2A"),
        ("20200", "2B"),
        ("20250", "2B"),
        ("20600", "2B"),
    ],
)
def test_corsican_postcode_gives_corse_du_sud_or_haute_corse(postcode, expected):
    assert departement_of(postcode) == expected


@pytest.mark.parametrize(
    ("postcode", "expected"),
    [("97100", "971"), ("97200", "972"), ("97300", "973"), ("97400", "974"), ("97600", "976")],
)
def test_overseas_postcode_gives_three_digits(postcode, expected):
    assert departement_of(postcode) == expected


def test_postcodes_that_cross_a_border_follow_their_communes():
    assert departement_of("94390") == "91"  # Paray-Vieille-Poste, Essonne
    assert departement_of("97133") == "977"  # Saint-Barthélemy, no longer in Guadeloupe
    assert departement_of("97150") == "978"  # Saint-Martin


@pytest.mark.parametrize(
    "postcode", [None, "", "7501", "750011", "75 01", "ABCDE", "00100", "96000", "98000"]
)
def test_what_is_not_a_french_postcode_has_no_departement(postcode):
    assert departement_of(postcode) is None


def test_shipped_file_draws_every_departement_once():
    shapes = map_shapes()["shapes"]
    codes = [shape["code"] for shape in shapes]
    assert sorted(codes) == sorted(METROPOLITAN | OVERSEAS)
    assert all(shape["d"].startswith("M") and shape["d"].endswith("z") for shape in shapes)
    assert MAP_FILE.stat().st_size < 150_000


def test_names_are_the_french_ones():
    assert DEPARTEMENT_NAMES["2A"] == "Corse-du-Sud"
    assert DEPARTEMENT_NAMES["974"] == "La Réunion"
    assert DEPARTEMENT_NAMES["77"] == "Seine-et-Marne"
    assert set(DEPARTEMENT_NAMES) >= METROPOLITAN | OVERSEAS


def test_map_has_an_svg_image_with_a_title_per_departement():
    figure = drawn({"29": 85.0, "48": 12.5})
    svg = figure.find(f"{SVG}svg")
    assert svg.get("role") == "img"
    found = titles(figure)
    assert set(found) == METROPOLITAN | OVERSEAS
    assert found["29"] == (f"Finistère (29) : 85{PERCENT}", "map-area map-step-5")
    assert found["48"] == (f"Lozère (48) : 12,5{PERCENT}", "map-area map-step-1")
    assert found["33"] == ("Gironde (33) : aucune donnée", "map-area map-none")


def test_aria_label_sums_the_map_up():
    label = drawn({"29": 85.0, "48": 12.5, "15": None}).find(f"{SVG}svg").get("aria-label")
    assert label.startswith("Couverture : 2 départements renseignés, de 12,5")
    assert "(Lozère) à 85" in label
    assert "1 secret ; 98 sans donnée." in label


def test_secret_departement_is_hatched_and_says_so():
    figure = drawn({"15": None, "16": 40.0}, hidden="secret")
    path = next(
        p for p in figure.iter(f"{SVG}path") if p.find(f"{SVG}title").text.startswith("Cantal")
    )
    assert path.find(f"{SVG}title").text == "Cantal (15) : secret"
    pattern_id = path.get("fill").removeprefix("url(#").removesuffix(")")
    assert [p.get("id") for p in figure.iter(f"{SVG}pattern")] == [pattern_id]
    legend = [item.itertext() for item in figure.iter("li")]
    assert "secret" in ["".join(text).strip() for text in legend]


def test_a_map_with_nothing_secret_has_no_secret_in_its_legend():
    figure = drawn({"16": 40.0}, hidden="—")
    legend = ["".join(item.itertext()).strip() for item in figure.iter("li")]
    assert "—" not in legend and "aucune donnée" in legend


def test_paris_area_is_repeated_in_its_zoom_with_the_same_reading():
    figure = drawn({"93": 64.0})
    readings = [p.find(f"{SVG}title").text for p in figure.iter(f"{SVG}path")]
    assert readings.count(f"Seine-Saint-Denis (93) : 64{PERCENT}") == 2
    assert len(readings) == len(METROPOLITAN | OVERSEAS) + 4


def test_steps_cover_zero_to_a_hundred():
    shares = {"01": 0, "02": 19.9, "03": 20, "04": 59.9, "05": 79.94, "06": 79.96, "07": 100}
    found = titles(drawn(shares))
    steps = {code: found[code][1].removeprefix("map-area map-") for code in shares}
    assert steps == {
        "01": "step-1",
        "02": "step-1",
        "03": "step-2",
        "04": "step-3",
        "05": "step-4",
        "06": "step-5",  # shown as « 80 % »
        "07": "step-5",
    }
