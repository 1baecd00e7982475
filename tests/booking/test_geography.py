"""Postcode positions shipped with the app, and distances between them."""

from app.services.booking.geography import distance_km, postcode_position


def test_known_postcodes_resolve_to_plausible_positions():
    lyon, rennes, saint_denis = (postcode_position(p) for p in ("69007", "35000", "97411"))
    assert 45.6 < lyon[0] < 45.9 and 4.7 < lyon[1] < 5.0
    assert 48.0 < rennes[0] < 48.2
    assert saint_denis[0] < 0  # La Réunion is in the southern hemisphere


def test_unknown_or_empty_postcodes_do_not_resolve():
    assert postcode_position("00000") is None
    assert postcode_position(None) is None
    assert postcode_position("") is None


def test_distances_are_great_circle_kilometres():
    lyon, grenoble = postcode_position("69003"), postcode_position("38000")
    assert 85 < distance_km(lyon, grenoble) < 110
    assert distance_km(lyon, lyon) == 0
