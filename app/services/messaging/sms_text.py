"""SMS text that fits one message: 160 characters of the GSM 03.38 alphabet (GSM-7).

One character outside that alphabet (ê, ç, «, an apostrophe ’…) switches the whole SMS to
UCS-2 and its limit to 70: texts are first brought into GSM-7 (ê → e), then counted, the few
characters of the alphabet's extension (€, [, ]…) counting two."""

import re
import unicodedata

SMS_LIMIT = 160
# The basic alphabet, in its table order (the escape code excluded).
_BASIC = set(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
# Sent as the escape code followed by the character: two septets each.
_EXTENSION = set("^{}\\[~]|€\f")
# What French text uses that the alphabet lacks, and its nearest GSM-7 spelling; accented
# letters not listed lose their accent (ê → e).
_REPLACEMENTS = {
    "«": '"',
    "»": '"',
    "“": '"',
    "”": '"',
    "’": "'",
    "‘": "'",
    "–": "-",
    "—": "-",
    "…": "...",
    "œ": "oe",
    "Œ": "OE",
    "ç": "c",
    "·": ".",
    "\u00a0": " ",
    "\u202f": " ",
    "\t": " ",
}


def to_gsm7(text: str) -> str:
    """The text in the GSM-7 alphabet: French typography simplified, accents dropped where the
    alphabet has no such letter, anything else left out."""
    # French quotes keep their spaces inside: plain quotes hug the words.
    text = re.sub(r"«[\s\u00a0\u202f]*", '"', text)
    text = re.sub(r"[\s\u00a0\u202f]*»", '"', text)
    kept = []
    for ch in text:
        if ch in _BASIC or ch in _EXTENSION:
            kept.append(ch)
        elif ch in _REPLACEMENTS:
            kept.append(_REPLACEMENTS[ch])
        else:
            base = "".join(
                c for c in unicodedata.normalize("NFKD", ch) if not unicodedata.combining(c)
            )
            kept.append("".join(c for c in base if c in _BASIC))
    return "".join(kept)


def gsm7_length(text: str) -> int | None:
    """Septets the text takes in GSM-7, or None when it cannot be written in it (UCS-2)."""
    length = 0
    for ch in text:
        if ch in _BASIC:
            length += 1
        elif ch in _EXTENSION:
            length += 2
        else:
            return None
    return length


def fit_sms(before: str, stretchable: str, after: str) -> str:
    """`before` + `stretchable` + `after` in GSM-7 and within one SMS, cutting the stretchable
    part (a place, a name: never a link) as needed; raises ValueError when even without it
    the text is too long."""
    before, stretchable, after = to_gsm7(before), to_gsm7(stretchable), to_gsm7(after)
    room = SMS_LIMIT - _length(before) - _length(after)
    if room < 0:
        raise ValueError("SMS trop long")
    if _length(stretchable) > room:
        stretchable = _cut(stretchable, room)
    return before + stretchable + after


def _length(text: str) -> int:
    length = gsm7_length(text)
    assert length is not None  # to_gsm7 came first
    return length


def _cut(text: str, room: int) -> str:
    """The text's start that fits `room`, ending on a whole word when there is one."""
    while _length(text) > room:
        text = text[:-1]
    if " " in text:
        text = text[: text.rindex(" ")]
    return text.rstrip(" ,")
