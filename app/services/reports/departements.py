"""The département a postcode belongs to."""


def departement_of(postcode: str | None) -> str | None:
    code = (postcode or "").strip()
    if len(code) != 5 or not code.isdigit():
        return None
    if code.startswith("97"):
        return code[:3]
    if code.startswith("20"):
        return "2A" if code < "20200" else "2B"
    return code[:2]


DEPARTEMENT_NAMES: dict[str, str] = {}
