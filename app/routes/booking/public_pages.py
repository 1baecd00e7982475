"""What every public booking page shares: private headers, the mode labels, and the postcode
the person typed once, remembered for the rest of the booking in a short-lived cookie (never
in an address)."""

import re

from fastapi import Request

from app.web.deps import cookie_secure
from app.web.rendering import render

MODE_LABELS = {"on_site": "Sur place", "phone": "Par téléphone", "video": "En visio"}
POSTCODE_COOKIE = "rdv_code_postal"
# Long enough for one booking, short enough not to follow the person for days.
POSTCODE_COOKIE_SECONDS = 2 * 3600


def private(response):
    response.headers["Referrer-Policy"] = "no-referrer"
    response.headers["X-Robots-Tag"] = "noindex"
    return response


def booking_page(request: Request, template: str, context: dict, status_code: int = 200):
    context = {"mode_labels": MODE_LABELS, **context}
    return private(render(request, f"booking/online/{template}", context, status_code=status_code))


def remembered_postcode(request: Request) -> str:
    """The postcode typed earlier in this booking, or "" (a bad cookie is ignored)."""
    value = request.cookies.get(POSTCODE_COOKIE, "")
    return value if re.fullmatch(r"\d{5}", value) else ""


def remember_postcode(request: Request, response, postcode: str):
    """Keep a well-formed postcode for the next steps; anything else is not kept."""
    if re.fullmatch(r"\d{5}", postcode or ""):
        response.set_cookie(
            POSTCODE_COOKIE,
            postcode,
            max_age=POSTCODE_COOKIE_SECONDS,
            path="/rendez-vous",
            httponly=True,
            samesite="lax",
            secure=cookie_secure(request),
        )
    return response
