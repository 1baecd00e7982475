"""Validated field types shared by the input schemas (French phone numbers, postcodes…)."""

import re
import unicodedata
from datetime import date
from typing import Annotated

import phonenumbers
from pydantic import AfterValidator, BeforeValidator, Field, StringConstraints

# Metropolitan France and the overseas territories the CEP operators cover.
_PHONE_REGIONS = ("FR", "GP", "MQ", "GF", "RE", "YT")


def _blank_to_none(value):
    if isinstance(value, str) and not value.strip():
        return None
    return value


def normalise_phone(raw: str) -> str:
    """Return the E.164 form of a French (metropolitan or overseas) number, or raise."""
    for region in _PHONE_REGIONS:
        try:
            number = phonenumbers.parse(raw, region)
        except phonenumbers.NumberParseException:
            continue
        if (
            phonenumbers.is_valid_number(number)
            and phonenumbers.region_code_for_number(number) in _PHONE_REGIONS
        ):
            return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
    raise ValueError("Numéro de téléphone français invalide (ex. 06 12 34 56 78)")


def display_phone(e164: str | None) -> str:
    if not e164:
        return ""
    number = phonenumbers.parse(e164, "FR")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.NATIONAL)


def _check_postcode(value: str) -> str:
    if not re.fullmatch(r"\d{5}", value) or value.startswith("00"):
        raise ValueError("Code postal invalide : 5 chiffres (ex. 69003)")
    return value


def _check_birth_year(value: int) -> int:
    this_year = date.today().year
    if not 1920 <= value <= this_year - 14:
        raise ValueError(f"Année de naissance entre 1920 et {this_year - 14}")
    return value


def search_key(*parts: str | None) -> str:
    """Lower-case, accent-free text so that search ignores case and accents on every engine."""
    text = " ".join(p for p in parts if p)
    decomposed = unicodedata.normalize("NFKD", text)
    stripped = "".join(c for c in decomposed if not unicodedata.combining(c))
    return " ".join(stripped.casefold().split())


Text = Annotated[str, StringConstraints(strip_whitespace=True)]
PersonName = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=80)]
FrenchPhone = Annotated[
    str, StringConstraints(strip_whitespace=True), AfterValidator(normalise_phone)
]
OptionalPhone = Annotated[FrenchPhone | None, BeforeValidator(_blank_to_none)]
Postcode = Annotated[str, StringConstraints(strip_whitespace=True), AfterValidator(_check_postcode)]
OptionalPostcode = Annotated[Postcode | None, BeforeValidator(_blank_to_none)]
BirthYear = Annotated[int, AfterValidator(_check_birth_year)]
OptionalBirthYear = Annotated[BirthYear | None, BeforeValidator(_blank_to_none)]
ShortText = Annotated[str, StringConstraints(strip_whitespace=True, max_length=200)]
LongText = Annotated[str, StringConstraints(strip_whitespace=True, max_length=5000)]
Minutes = Annotated[int, Field(ge=1, le=600)]
blank_to_none = BeforeValidator(_blank_to_none)
