"""Names and e-mail addresses of generated people, all under a reserved domain (RFC 2606)."""

import re
import unicodedata
from functools import lru_cache

# `.example` is reserved for examples: no message can ever reach a real person.
DOMAIN = "synthetique.example"


@lru_cache(maxsize=4096)
def slug(text: str) -> str:
    """ASCII, lower-case, hyphens: "Anne-Sophie N'Diaye" → "anne-sophie-n-diaye"."""
    decomposed = unicodedata.normalize("NFKD", text)
    plain = "".join(c for c in decomposed if not unicodedata.combining(c)).lower()
    return re.sub(r"[^a-z0-9]+", "-", plain).strip("-")


def staff_email(role_word: str, number: int, operator_code: str | None) -> str:
    """conseiller.0001@ara.synthetique.example; national staff at national.synthetique.example."""
    area = operator_code.lower() if operator_code else "national"
    return f"{role_word}.{number:04d}@{area}.{DOMAIN}"
