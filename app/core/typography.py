"""French typography for printed text: narrow no-break spaces and typographic apostrophes."""

import re

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
