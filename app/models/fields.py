"""Validated text field types shared by the input schemas (names, French phone numbers,
postcodes…); numbers, dates and datetimes are bounded in app/models/bounds.py."""

import re
import unicodedata
from datetime import date
from typing import Annotated

import phonenumbers
from pydantic import AfterValidator, BeforeValidator, StringConstraints

# The overseas territories the CEP operators cover, then metropolitan France: an overseas
# number dialled nationally (0269… in Mayotte) must not be read as a metropolitan one.
_PHONE_REGIONS = ("GP", "MQ", "GF", "RE", "YT", "FR")
# Text that PostgreSQL cannot store, and that no person types.
_NUL = "\x00"


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
        # A number given with its country code (+262…) may be parsed under any region.
        if phonenumbers.is_valid_number(number) and phonenumbers.region_code_for_number(number) in (
            region,
            *(_PHONE_REGIONS if raw.strip().startswith(("+", "00")) else ()),
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


# INSEE département codes: Corsica has been 2A and 2B since 1976 (no 20), then overseas.
DEPARTEMENT_CODES = frozenset(
    [f"{n:02d}" for n in range(1, 96) if n != 20] + ["2A", "2B"] + [str(n) for n in range(971, 977)]
)


def normalise_departement(raw: str) -> str:
    """A département code as INSEE writes it ("1" → "01", "2a" → "2A"), or raise."""
    code = raw.strip().upper()
    if len(code) == 1 and code.isdigit():
        code = "0" + code
    if code not in DEPARTEMENT_CODES:
        shown = without_nul(raw.strip())[:12]
        raise ValueError(f"Département inconnu : « {shown} » (ex. 01, 69, 2A, 974)")
    return code


def departement_order(code: str) -> tuple[int, str]:
    """Sort key that puts 2A and 2B between 19 and 21, as INSEE lists them."""
    return (20, code) if code in ("2A", "2B") else (int(code), "")


def _check_birth_year(value: int) -> int:
    this_year = date.today().year
    if not 1920 <= value <= this_year - 14:
        raise ValueError(f"Année de naissance entre 1920 et {this_year - 14}")
    return value


def without_nul(text: str) -> str:
    """Free text typed in a search box or a login form, made safe to send to any engine."""
    return text.replace(_NUL, "")


def search_key(*parts: str | None) -> str:
    """Lower-case, accent-free text so that search ignores case and accents on every engine."""
    text = without_nul(" ".join(p for p in parts if p))
    decomposed = unicodedata.normalize("NFKD", text)
    stripped = "".join(c for c in decomposed if not unicodedata.combining(c))
    folded = stripped.casefold().replace("œ", "oe").replace("æ", "ae")
    return " ".join(folded.split())


def refuse_nul(value: str) -> str:
    if _NUL in value:
        raise ValueError("Caractère invalide (NUL)")
    return value


def is_control_character(ch: str) -> bool:
    """Line breaks of every kind (CR, LF, U+2028…), tabs, NUL and the other C0/C1 controls."""
    return unicodedata.category(ch) in ("Cc", "Zl", "Zp")


def refuse_line_breaks(value: str) -> str:
    """Text that may end up in an e-mail header, where a line break would start a new header."""
    if any(is_control_character(ch) for ch in value):
        raise ValueError("Sur une seule ligne : ni retour à la ligne, ni tabulation")
    return value


PersonName = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=80),
    AfterValidator(refuse_nul),
]
FrenchPhone = Annotated[
    str, StringConstraints(strip_whitespace=True), AfterValidator(normalise_phone)
]
OptionalPhone = Annotated[FrenchPhone | None, BeforeValidator(_blank_to_none)]
Postcode = Annotated[str, StringConstraints(strip_whitespace=True), AfterValidator(_check_postcode)]
OptionalPostcode = Annotated[Postcode | None, BeforeValidator(_blank_to_none)]
BirthYear = Annotated[int, AfterValidator(_check_birth_year)]
OptionalBirthYear = Annotated[BirthYear | None, BeforeValidator(_blank_to_none)]
ShortText = Annotated[
    str, StringConstraints(strip_whitespace=True, max_length=200), AfterValidator(refuse_nul)
]
NoteText = Annotated[
    str, StringConstraints(strip_whitespace=True, max_length=1000), AfterValidator(refuse_nul)
]
LongText = Annotated[
    str, StringConstraints(strip_whitespace=True, max_length=5000), AfterValidator(refuse_nul)
]
blank_to_none = BeforeValidator(_blank_to_none)
# A regional operator's code (ARA, BRE…), as the public booking pages and API carry it.
OperatorCode = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9]{1,8}$")]
OptionalOperatorCode = Annotated[OperatorCode | None, blank_to_none]
# Spelled out rather than built on ShortText, so that an empty value reads "obligatoire".
RequiredText = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=200),
    AfterValidator(refuse_nul),
]
# A required label that may reach an e-mail header (a Subject, a display name).
SingleLine = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=200),
    AfterValidator(refuse_line_breaks),
]
