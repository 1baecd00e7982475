"""French collation of names: accents and case ignored first."""

from app.models.fields import french_sort_key


def test_names_sort_with_accents_and_case_ignored_first():
    names = ["Zoé", "émile", "Eva", "Élodie", "Edgar", "Œdipe", "Océane", "arthur"]
    assert sorted(names, key=french_sort_key) == [
        "arthur",
        "Edgar",
        "Élodie",
        "émile",
        "Eva",
        "Océane",
        "Œdipe",
        "Zoé",
    ]


def test_names_that_differ_only_by_accents_or_case_keep_a_stable_order():
    names = ["Côte", "cote", "côte", "Cote"]
    assert sorted(names, key=french_sort_key) == ["Cote", "cote", "Côte", "côte"]


def test_no_name_sorts_first():
    assert sorted(["Anne", None], key=french_sort_key) == [None, "Anne"]
