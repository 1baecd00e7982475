"""French typography: narrow no-break spaces and typographic apostrophes for printed text,
numbers as French writes them (1 234,5), « de » elided before a vowel (d'Émilie), and the
ASCII slugs that file names carry to other systems."""

import re
import unicodedata
from decimal import Decimal

NARROW_NBSP = "\u202f"

# Left exactly as typed: a space or an apostrophe there would break the address.
ADDRESS = re.compile(
    r"(?:https?://|ftp://|www\.)[^\s«»]*[^\s«».,;:!?'\")\]]"  # web addresses, not the final stop
    r"|[\w.+'-]+@[\w-]+(?:\.[\w-]+)+"  # e-mail addresses
)
# Spaces that may sit in front of « ; : ! ? » or inside guillemets: ordinary, no-break, thin...
_SPACES = "[ \t\u00a0\u2009\u202f]*"
# Before « ; ! ? » (but not inside « ?! » or at the start of a line); before « : » unless
# the colon sits between two digits, as in 10:30.
_BEFORE_HIGH_PUNCTUATION = re.compile(
    rf"(?<=[^\s;:!?]){_SPACES}([;!?])|(?<=[^\s;:!?]){_SPACES}(:)(?!(?<=\d:)\d)"
)
_AFTER_OPENING_GUILLEMET = re.compile(rf"«{_SPACES}(?=\S)")
_BEFORE_CLOSING_GUILLEMET = re.compile(rf"(?<=\S){_SPACES}»")


def french_typography(text: str) -> str:
    """The text with U+202F before ; : ! ? and inside « », and ’ for straight apostrophes.

    Idempotent; web and e-mail addresses are left untouched, and so are times like 10:30."""
    addresses = list(ADDRESS.finditer(text))
    if not addresses:
        return _typeset(text)
    pieces: list[str] = []
    position = 0
    for address in addresses:
        before = text[position : address.start()]
        pieces.append(_typeset(before, after_address=position > 0, before_address=True))
        pieces.append(address.group())
        position = address.end()
    pieces.append(_typeset(text[position:], after_address=True))
    return "".join(pieces)


def _typeset(text: str, *, after_address: bool = False, before_address: bool = False) -> str:
    # An address stands in for a word, so that « https://… ? » still gets its spaces.
    left, right = ("x" if after_address else ""), ("x" if before_address else "")
    text = left + text + right
    text = text.replace("'", "\u2019")
    text = _BEFORE_HIGH_PUNCTUATION.sub(lambda m: NARROW_NBSP + (m.group(1) or m.group(2)), text)
    text = _AFTER_OPENING_GUILLEMET.sub("«" + NARROW_NBSP, text)
    text = _BEFORE_CLOSING_GUILLEMET.sub(NARROW_NBSP + "»", text)
    return text[len(left) : len(text) - len(right)]


def french_number(value: int | float | Decimal, decimals: int | None = None) -> str:
    """« 1 234 », « 12,5 »: a narrow no-break space between thousands, a decimal comma.

    `decimals` fixes the number of digits after the comma; by default a float shows the ones
    it has (round it first). A negative zero (a small negative value rounded) reads « 0 »."""
    value = value + 0  # -0.0 + 0 is 0.0
    shown = f"{value:,}" if decimals is None else f"{value:,.{decimals}f}"
    return shown.replace(",", NARROW_NBSP).replace(".", ",")


def french_euros(value: Decimal) -> str:
    """« 1 234,50 € »: always the cents, a no-break space before the sign."""
    return f"{french_number(value, 2)}\u00a0€"


def french_hours(value: Decimal) -> str:
    """« 7 h », « 3,5 h »: the decimals the hours have, no trailing zero."""
    whole = value.normalize() + 0  # + 0 writes 7E+1 back as 70
    return f"{french_number(whole)}\u00a0h"


def french_percent(value: int | float | Decimal, decimals: int | None = None) -> str:
    """« 12,5 % », with the narrow no-break space French puts before the sign."""
    return f"{french_number(value, decimals)}{NARROW_NBSP}%"


_VOWELS = frozenset("aeiou")


def _starts_with_vowel_sound(word: str) -> bool:
    """Whether French elides before `word`: a vowel, accented or not, in either case, or a y
    sounded as a vowel (Yves, not Yasmina). An h may be mute or not, so it is never elided."""
    decomposed = unicodedata.normalize("NFKD", word.lstrip())
    letters = [c for c in decomposed if not unicodedata.combining(c)][:2]
    first = letters[0].casefold() if letters else ""
    if first in _VOWELS or first in ("œ", "æ"):
        return True
    return first == "y" and len(letters) > 1 and letters[1].casefold() not in _VOWELS | {"y"}


def elide(word: str, following: str) -> str:
    """`word` (« de », « que »…) then `following`, elided when it starts with a vowel
    sound: elide("de", "Émilie") is « d'Émilie », elide("de", "Paul") « de Paul »."""
    if following and _starts_with_vowel_sound(following):
        return f"{word[:-1]}'{following.lstrip()}"
    return f"{word} {following}"


def de(name: str) -> str:
    """« de Paul », « d'Anaïs », « d'Émilie », for a name or any text that follows « de »."""
    return elide("de", name)


# NFKD leaves these ligatures whole: spell them out first.
_LIGATURES = str.maketrans({"œ": "oe", "Œ": "OE", "æ": "ae", "Æ": "AE", "ß": "ss"})


def ascii_slug(text: str) -> str:
    """ASCII, lower-case, hyphens: "Anne-Sophie N'Diaye" → "anne-sophie-n-diaye",
    "Cœur de métier" → "coeur-de-metier"."""
    decomposed = unicodedata.normalize("NFKD", text.translate(_LIGATURES))
    plain = "".join(c for c in decomposed if not unicodedata.combining(c)).lower()
    # Punctuation becomes a hyphen before the letters ASCII cannot spell are dropped.
    hyphenated = re.sub(r"[\W_]+", "-", plain).encode("ascii", "ignore").decode()
    return re.sub(r"-{2,}", "-", hyphenated).strip("-")
