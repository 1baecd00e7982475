"""What the OpenAPI document says a field takes is what its validators take: each pattern
written for a stripped text, a postcode, a département or a website is checked against the
validator itself, on the edge cases and on text drawn around them."""

import re
import unicodedata

import jsonschema_rs
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import TypeAdapter, ValidationError

from app.core.errors import Invalid
from app.models.fields import (
    BLANK_PATTERN,
    DEPARTEMENT_OR_NONE,
    PersonName,
    Postcode,
    SingleLine,
    collapsed_text,
    normalise_departement,
    text,
)
from app.models.partners import Departements, Website
from app.services.deliverables.attachments import MAX_DESCRIPTION, _clean_description

# What the classes of app/models/fields.py must name, read from Python and pydantic themselves.
PYTHON_SPACE = [chr(c) for c in range(0x110000) if chr(c).isspace()]
STRIPPED = [c for c in PYTHON_SPACE if TypeAdapter(PersonName).validate_python(f"{c}a{c}") == "a"]
# Characters worth trying: spaces of both kinds, controls, NUL, the separators of an address or
# of a list of départements, letters and digits, and a few that normalise to punctuation.
ALPHABET = st.sampled_from(
    PYTHON_SPACE
    + ["\x00", "\x01", "\x7f", "\x9f", "\ufeff", "\u200b", ".", ":", "/", "?", "#", "@", "[", "]"]
    + [",", ";", "2", "0", "9", "7", "A", "b", "x", "é", "\uff20", "\uff0f", "ａ", "٣"]
)
TEXTS = st.text(ALPHABET, max_size=12) | st.text(max_size=6)


def validator_takes(kind, value) -> bool:
    try:
        TypeAdapter(kind).validate_python(value)
    except ValidationError:
        return False
    return True


def document_takes(kind, value) -> bool:
    schema = TypeAdapter(kind).json_schema(mode="validation")
    return jsonschema_rs.validator_for(schema).is_valid(value)


def test_the_space_classes_name_exactly_what_python_and_pydantic_strip():
    from app.models.fields import PYTHON_SPACES, STRIPPED_SPACES

    def members(ranges):
        return [chr(c) for c in range(0x3001) if re.fullmatch(f"[{ranges}]", chr(c))]

    assert members(STRIPPED_SPACES) == STRIPPED
    assert members(PYTHON_SPACES) == sorted(PYTHON_SPACE)


def test_the_characters_a_host_may_not_hold_are_all_named():
    from app.models.partners import _NOT_IN_HOST

    normalising = [
        c
        for c in map(chr, range(0x80, 0x110000))
        if any(mark in unicodedata.normalize("NFKC", c) for mark in "/?#@:")
    ]
    assert all(re.fullmatch(f"[{_NOT_IN_HOST}]", c) for c in normalising)


KINDS = {
    "a name": PersonName,
    "a short text": text(5),
    "a required text": text(5, min_length=1),
    "a text of 2 to 5": text(5, min_length=2),
    "a single line": SingleLine,
    "a postcode": Postcode,
    "a website": Website,
    "départements": Departements,
}
# The longest value each kind takes, for texts drawn around it.
LONGEST = {
    "a name": 80,
    "a short text": 5,
    "a required text": 5,
    "a text of 2 to 5": 5,
    "a single line": 200,
    "a website": 292,
}
EDGES = [
    "",
    " ",
    "\x1c",
    "a",
    " a ",
    "\x1ca",
    "a\x00",
    "\u3000abcde\u3000",
    "abcdef",
    "a\nb",
    "\ta\t",
    "69003",
    " 69003 ",
    "00123",
    "٦٩٠٠٣",
    "x.fr",
    "https://x.fr/a b",
    "x.fr://y",
    "a@b.c:8:9/d",
    "1, 2a;974",
    "20",
    "2A 2b",
]


@pytest.mark.parametrize("name", KINDS)
@pytest.mark.parametrize("value", EDGES)
def test_the_document_and_the_validator_agree_on_the_edges(name, value):
    kind = KINDS[name]
    assert document_takes(kind, value) == validator_takes(kind, value)


@pytest.mark.parametrize("name", KINDS)
@settings(max_examples=300, deadline=None)
@given(value=TEXTS)
def test_the_document_and_the_validator_agree_on_any_text(name, value):
    kind = KINDS[name]
    assert document_takes(kind, value) == validator_takes(kind, value)


@pytest.mark.parametrize("name", LONGEST)
@settings(max_examples=200, deadline=None)
@given(before=st.text(ALPHABET, max_size=3), extra=st.integers(-3, 2), after=TEXTS)
def test_the_document_and_the_validator_agree_around_the_longest(name, before, extra, after):
    host = "a" * (LONGEST[name] + extra - 3) + ".fr"  # a website's host needs its dot
    value = before + host + after
    kind = KINDS[name]
    assert document_takes(kind, value) == validator_takes(kind, value)


@settings(max_examples=300, deadline=None)
@given(value=TEXTS)
def test_a_departement_of_the_query_is_documented_as_it_is_read(value):
    def read(raw):
        try:
            return raw == "" or bool(normalise_departement(raw))
        except ValueError:
            return False

    documented = jsonschema_rs.validator_for({"type": "string", "pattern": DEPARTEMENT_OR_NONE})
    assert documented.is_valid(value) == read(value)


@settings(max_examples=200, deadline=None)
@given(value=TEXTS)
def test_blank_is_what_python_strips_to_nothing(value):
    documented = jsonschema_rs.validator_for({"type": "string", "pattern": BLANK_PATTERN})
    assert documented.is_valid(value) == (not value.strip())


@settings(max_examples=300, deadline=None)
@given(length=st.integers(MAX_DESCRIPTION - 8, MAX_DESCRIPTION + 2), tail=TEXTS)
def test_an_attachment_description_is_documented_as_it_is_cleaned(length, tail):
    value = "a" * length + tail
    try:
        _clean_description(value)
    except Invalid:
        kept = False
    else:
        kept = True
    pattern = {"type": "string", "pattern": collapsed_text(MAX_DESCRIPTION)}
    assert jsonschema_rs.validator_for(pattern).is_valid(value) == kept


@pytest.mark.parametrize(
    "address",
    [
        "ines.moreau@exemple.fr",
        "é@exemple.fr",  # an accented name: idn-email, as email-validator
        "a@b.123",  # a numeric top-level domain
        "a@localhost",
        "a@exemple.test",
        "a@[192.0.2.1]",
        '"ines moreau"@exemple.fr',
        "a..b@exemple.fr",
    ],
)
def test_the_document_takes_the_addresses_the_validator_takes(address):
    from app.models.fields import Email

    schema = TypeAdapter(Email).json_schema(mode="validation")
    document = jsonschema_rs.validator_for(schema, validate_formats=True)
    assert document.is_valid(address) == validator_takes(Email, address)
