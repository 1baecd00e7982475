"""French typography: the filter used by printed documents, numbers, elision."""

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.core.typography import de, elide, french_number, french_percent, french_typography

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


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        (0, "0"),
        (999, "999"),
        (1234, f"1{NNBSP}234"),
        (1234567, f"1{NNBSP}234{NNBSP}567"),
        (-1234, f"-1{NNBSP}234"),
        (12.5, "12,5"),
        (1234.5, f"1{NNBSP}234,5"),
        (round(-0.04, 1), "0,0"),
        (Decimal("-0.0"), "0,0"),
    ],
)
def test_numbers_take_narrow_spaces_between_thousands_and_a_decimal_comma(value, shown):
    assert french_number(value) == shown


def test_a_number_can_be_shown_with_a_fixed_count_of_decimals():
    assert (french_number(Decimal("7.25"), 1), french_number(3, 2)) == ("7,2", "3,00")


def test_a_percentage_has_a_narrow_space_before_its_sign():
    assert french_percent(12.5) == f"12,5{NNBSP}%"


@pytest.mark.parametrize(
    ("name", "written"),
    [
        ("Émilie Martin", "d'Émilie Martin"),
        ("Anaïs", "d'Anaïs"),
        ("anaïs", "d'anaïs"),
        ("Œdipe", "d'Œdipe"),
        ("Ulysse", "d'Ulysse"),
        ("Yves", "d'Yves"),
        ("UO1", "d'UO1"),
        ("Paul", "de Paul"),
        ("Yasmina", "de Yasmina"),
        ("Hélène", "de Hélène"),  # mute or not, an h is left alone
        ("Zoé", "de Zoé"),
        ("", "de "),
    ],
)
def test_de_is_elided_before_a_vowel_sound(name, written):
    assert de(name) == written


def test_elision_works_for_que_too():
    assert (elide("que", "Émilie"), elide("que", "Paul")) == ("qu'Émilie", "que Paul")


def test_elision_reads_names_typed_with_combining_accents():
    assert de("E\u0301milie") == "d'E\u0301milie"
