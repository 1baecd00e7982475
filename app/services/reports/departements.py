"""The département a postcode lies in, as the reports and the data feed count people by it."""

from app.models.fields import DEPARTEMENT_CODES

# Corsica's postcodes all start with 20: 200xx and 201xx are Corse-du-Sud, the rest Haute-Corse.
_SOUTH_CORSICA = ("200", "201")


def departement_of(postcode: str | None) -> str | None:
    """The INSEE code of the postcode's département (two digits, 2A or 2B, three overseas), or
    None for no postcode, or one of no département (Monaco's 980xx, the Pacific's 98xxx)."""
    code = (postcode or "").strip()
    if len(code) != 5 or not code.isascii() or not code.isdigit():
        return None
    if code.startswith("20"):
        found = "2A" if code.startswith(_SOUTH_CORSICA) else "2B"
    elif code.startswith("97"):
        found = code[:3]
    else:
        found = code[:2]
    return found if found in DEPARTEMENT_CODES else None
