"""Validated text field types shared by the input schemas (names, French phone numbers,
postcodes…), each with the schema the OpenAPI document shows of what it takes; numbers, dates
and datetimes are bounded in app/models/bounds.py."""

import re
import unicodedata
from datetime import date
from typing import Annotated

import phonenumbers
from pydantic import (
    AfterValidator,
    BeforeValidator,
    EmailStr,
    GetCoreSchemaHandler,
    GetJsonSchemaHandler,
    StrictBool,
    StringConstraints,
    WithJsonSchema,
)
from pydantic_core import core_schema

# The overseas territories the CEP operators cover, then metropolitan France: an overseas
# number dialled nationally (0269… in Mayotte) must not be read as a metropolitan one.
_PHONE_REGIONS = ("GP", "MQ", "GF", "RE", "YT", "FR")
# Text that PostgreSQL cannot store, and that no person types.
_NUL = "\x00"


def _blank_to_none(value):
    if isinstance(value, str) and not value.strip():
        return None
    return value


# ---- what the OpenAPI document says of them ---------------------------------------------------
# Its patterns are ECMA-262 regular expressions, whose `\s` is neither of the two sets of spaces
# below: they are spelled out, as character class ranges.
# What pydantic's `strip_whitespace` removes (Unicode White_Space, as Rust's `trim`).
STRIPPED_SPACES = (
    r"\u0009-\u000d\u0020\u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000"
)
# What Python's str.strip() removes and str.isspace() sees: the same, and \x1c to \x1f.
PYTHON_SPACES = STRIPPED_SPACES + r"\u001c-\u001f"
NUL = r"\u0000"
# Line breaks of every kind, tabs and the other C0/C1 controls (is_control_character).
CONTROLS = r"\u0000-\u001f\u007f-\u009f\u2028\u2029"
BLANK_PATTERN = f"^[{PYTHON_SPACES}]*$"


def stripped_text(min_length: int, max_length: int, refused: str = NUL) -> WithJsonSchema:
    """The document's schema of text stripped of surrounding spaces, then `min_length` to
    `max_length` characters long, none of them `refused`: the raw text may be longer."""
    space, inner, edge = f"[{STRIPPED_SPACES}]", f"[^{refused}]", f"[^{STRIPPED_SPACES}{refused}]"
    kept = edge if max_length == 1 else f"{edge}(?:{inner}{{0,{max_length - 2}}}{edge})?"
    if min_length > 1:
        kept = f"{edge}{inner}{{{min_length - 2},{max_length - 2}}}{edge}"
    if min_length == 0:
        kept = f"(?:{kept})?"
    shown = f"{min_length} à {max_length}" if min_length else f"au plus {max_length}"
    never = "ni retour à la ligne ni caractère de contrôle" if refused == CONTROLS else "pas de NUL"
    return WithJsonSchema(
        {
            "type": "string",
            "pattern": f"^{space}*{kept}{space}*$",
            "description": f"{shown} caractères, espaces autour non comptés ; {never}",
        },
        mode="validation",
    )


def collapsed_text(max_length: int) -> str:
    """The document's pattern for text whose NULs are dropped and whose runs of spaces become
    one (" ".join(text.split())), then at most `max_length` long: a unit is a character kept,
    or a run of spaces between two of them."""
    space, kept = f"[{PYTHON_SPACES}{NUL}]", f"[^{PYTHON_SPACES}{NUL}]"
    unit = f"(?:{kept}{NUL}*|{space}*[{PYTHON_SPACES}]{space}*(?={kept}))"
    return f"^{space}*{unit}{{0,{max_length}}}{space}*$"


class BlankIsNone:
    """An optional value's reader: blank text (spaces only) is no value. The document says so,
    by offering the blank string beside the value and null."""

    def __init__(self, reader=_blank_to_none):
        self.reader = reader

    def __get_pydantic_core_schema__(self, source, handler: GetCoreSchemaHandler):
        return core_schema.no_info_before_validator_function(self.reader, handler(source))

    def __get_pydantic_json_schema__(self, schema, handler: GetJsonSchemaHandler):
        found = handler(schema)
        if handler.mode != "validation":
            return found
        blank = {"type": "string", "pattern": BLANK_PATTERN}
        if "anyOf" in found:
            return {**found, "anyOf": [*found["anyOf"], blank]}
        return {"anyOf": [found, blank]}


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
    if not re.fullmatch(r"[0-9]{5}", value) or value.startswith("00"):
        raise ValueError("Code postal invalide : 5 chiffres (ex. 69003)")
    return value


# INSEE département codes: Corsica has been 2A and 2B since 1976 (no 20), then overseas.
DEPARTEMENT_CODES = frozenset(
    [f"{n:02d}" for n in range(1, 96) if n != 20] + ["2A", "2B"] + [str(n) for n in range(971, 977)]
)


# One code as normalise_departement reads it: any case, "1" for "01", spaces around.
DEPARTEMENT = "(?:0?[1-9]|1[0-9]|2[1-9]|[3-8][0-9]|9[0-5]|2[AaBb]|97[1-6])"
DEPARTEMENT_OR_NONE = f"^(?:[{PYTHON_SPACES}]*{DEPARTEMENT}[{PYTHON_SPACES}]*)?$"


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


def french_sort_key(text: str | None) -> tuple[str, str, str]:
    """Sorts names as a French reader expects: accents and case ignored first (Émilie between
    Elsa and Eva, not after Zoé), then accents, then case, to order names that differ only so."""
    text = text or ""
    return (search_key(text), text.casefold(), text)


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


def text(max_length: int, *, min_length: int = 0):
    """Typed text: stripped of surrounding spaces, at most `max_length` characters, no NUL."""
    return Annotated[
        str,
        StringConstraints(strip_whitespace=True, min_length=min_length, max_length=max_length),
        AfterValidator(refuse_nul),
        stripped_text(min_length, max_length),
    ]


def _not_a_boolean(message: str) -> BeforeValidator:
    # JSON's true is not the number 1; a form never sends it.
    def refuse(value):
        if isinstance(value, bool):
            raise ValueError(message)
        return value

    return BeforeValidator(refuse)


# A whole number, or any number, from a form, an address or JSON, where true and false are not
# numbers.
WholeNumber = _not_a_boolean("Nombre entier attendu")
AnyNumber = _not_a_boolean("Nombre attendu")
# A yes-or-no of a JSON body: true or false, not 0 or "oui" (forms send real booleans too,
# through app/web/forms.parse_form).
Flag = StrictBool


def _true_or_false(value):
    if isinstance(value, str) and value.lower() not in ("true", "false", "1", "0"):
        raise ValueError("true ou false attendu")
    return value


# A yes-or-no of a query string: true, false, 1 or 0.
QueryFlag = Annotated[bool, BeforeValidator(_true_or_false)]

PersonName = text(80, min_length=1)
# A France compétences control team, named by the system administrator (« Contrôle … national »).
ControlTeamName = text(80, min_length=1)
# What JSON Schema's `idn-email` format takes and email-validator refuses: a special-use domain
# (RFC 6761), a domain without a dot, a numeric top-level domain, a domain written as an
# address, a quoted name. (idn-email, not email: an accented name, é@exemple.fr, is taken.)
_SPECIAL_USE = "|".join(
    "".join(f"[{c.upper()}{c}]" for c in name)
    for name in ("arpa", "invalid", "local", "localhost", "onion", "test")
)
_NOT_AN_EMAIL = [
    f"[@.](?:{_SPECIAL_USE})\\.?$",
    "@[^.]*$",
    "\\.[0-9]+\\.?$",
    "@\\[",
    '^"',
]
Email = Annotated[
    EmailStr,
    WithJsonSchema(
        {
            "type": "string",
            "format": "idn-email",
            "maxLength": 254,
            "not": {"anyOf": [{"pattern": pattern} for pattern in _NOT_AN_EMAIL]},
            "description": "Adresse e-mail, hors domaines réservés (.test, .local, .invalid…)",
        },
        mode="validation",
    ),
]
# A French number, metropolitan or overseas, written any way (06 12 34 56 78, +262 692…): what
# makes one valid is libphonenumber's, which no pattern states: a format of its own says so.
FrenchPhone = Annotated[
    str,
    StringConstraints(strip_whitespace=True),
    AfterValidator(normalise_phone),
    WithJsonSchema(
        {
            "type": "string",
            "format": "telephone-fr",
            "description": "Numéro français, de métropole ou d'outre-mer, national ou "
            "international (06 12 34 56 78, +262 692 12 34 56)",
        },
        mode="validation",
    ),
]
blank_to_none = BlankIsNone()
OptionalPhone = Annotated[FrenchPhone | None, blank_to_none]
Postcode = Annotated[
    str,
    StringConstraints(strip_whitespace=True),
    AfterValidator(_check_postcode),
    WithJsonSchema(
        {
            "type": "string",
            "pattern": f"^[{STRIPPED_SPACES}]*(?:0[1-9]|[1-9][0-9])[0-9]{{3}}[{STRIPPED_SPACES}]*$",
        },
        mode="validation",
    ),
]
OptionalPostcode = Annotated[Postcode | None, blank_to_none]
# The latest year moves with the clock: the document says so in words, not as a maximum that
# would be wrong from the next 1 January on.
BirthYear = Annotated[
    int,
    WholeNumber,
    AfterValidator(_check_birth_year),
    WithJsonSchema(
        {"type": "integer", "minimum": 1920, "description": "De 1920 à l'année en cours moins 14"},
        mode="validation",
    ),
]
OptionalBirthYear = Annotated[BirthYear | None, blank_to_none]
ShortText = text(200)
NoteText = text(1000)
LongText = text(5000)
# A regional operator's code (ARA, BRE…), as the public booking pages and API carry it.
OperatorCode = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9]{1,8}$")]
OptionalOperatorCode = Annotated[OperatorCode | None, blank_to_none]
# At least one character, so that an empty value reads "obligatoire".
RequiredText = text(200, min_length=1)
# A required label that may reach an e-mail header (a Subject, a display name).
SingleLine = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=200),
    AfterValidator(refuse_line_breaks),
    stripped_text(1, 200, CONTROLS),
]
