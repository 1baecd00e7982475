"""Names and e-mail addresses of generated people, all under a reserved domain (RFC 2606)."""

from functools import lru_cache

from app.core.typography import ascii_slug

# `.example` is reserved for examples: no message can ever reach a real person.
DOMAIN = "synthetique.example"


@lru_cache(maxsize=4096)
def slug(text: str) -> str:
    """`ascii_slug`, kept for the thousands of names a run repeats."""
    return ascii_slug(text)


def staff_email(role_word: str, number: int, operator_code: str | None) -> str:
    """conseiller.0001@ara.synthetique.example; national staff at national.synthetique.example."""
    area = operator_code.lower() if operator_code else "national"
    return f"{role_word}.{number:04d}@{area}.{DOMAIN}"
