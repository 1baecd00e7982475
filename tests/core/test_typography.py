"""French typography filter used by printed documents."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.core.typography import french_typography

NNBSP = "\u202f"


@pytest.mark.parametrize(
    ("typed", "printed"),
    [
        ("Bonjour !", f"Bonjour{NNBSP}!"),
        ("Pourquoi ?", f"Pourquoi{NNBSP}?"),
        ("d'abord ; ensuite", f"d’abord{NNBSP}; ensuite"),
        ("Objectif : trouver", f"Objectif{NNBSP}: trouver"),
    ],
)
def test_an_ordinary_space_before_high_punctuation_becomes_narrow_and_no_break(typed, printed):
    assert french_typography(typed) == printed


def test_a_missing_space_before_high_punctuation_is_added():
    assert french_typography("Enfin!") == f"Enfin{NNBSP}!"


def test_existing_spaces_are_not_doubled():
    assert french_typography(f"Enfin{NNBSP}!") == f"Enfin{NNBSP}!"
    assert french_typography("Enfin\u00a0!") == f"Enfin{NNBSP}!"
    assert french_typography("Enfin   !") == f"Enfin{NNBSP}!"


def test_consecutive_marks_share_one_space():
    assert french_typography("Vraiment ?!") == f"Vraiment{NNBSP}?!"


def test_guillemets_get_narrow_no_break_spaces_inside():
    assert french_typography("«bilan»") == f"«{NNBSP}bilan{NNBSP}»"
    assert french_typography("« bilan »") == f"«{NNBSP}bilan{NNBSP}»"


def test_straight_apostrophes_become_typographic():
    assert french_typography("l'entreprise d'accueil") == "l’entreprise d’accueil"


def test_times_are_left_alone():
    assert french_typography("Rendez-vous à 10:30 ou 14:05:00.") == (
        "Rendez-vous à 10:30 ou 14:05:00."
    )


def test_web_and_email_addresses_are_left_alone():
    text = "Voir https://www.mon-cep.org/faq?q=1;x=2 ou écrire à l.o'neil@exemple.fr."
    assert french_typography(text) == text


def test_punctuation_after_an_address_still_gets_its_space():
    assert french_typography("Connu de https://exemple.fr ?") == (
        f"Connu de https://exemple.fr{NNBSP}?"
    )


def test_the_stop_after_an_address_is_typeset_as_text():
    assert french_typography("Voir https://exemple.fr/aide: tout y est.") == (
        f"Voir https://exemple.fr/aide{NNBSP}: tout y est."
    )


def test_punctuation_at_the_start_of_a_line_is_left_alone():
    assert french_typography("Liste\n: un") == "Liste\n: un"


@given(st.text(alphabet=" \u00a0\u202f\n'«»;:!?ab1@./h"))
def test_applying_the_filter_twice_changes_nothing_more(text):
    once = french_typography(text)
    assert french_typography(once) == once
