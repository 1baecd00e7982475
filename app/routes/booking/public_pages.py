"""What every public booking page shares: private headers, the mode labels, the header's
identity, and what the person said once — their postcode, their situation — remembered for the
rest of the booking in short-lived cookies (never in an address)."""

import re

from fastapi import Request

from app.models.nomenclatures import CepSituation
from app.services.admin.operator_identity import NEUTRAL_BRAND
from app.web.deps import cookie_secure
from app.web.rendering import render

MODE_LABELS = {"on_site": "Sur place", "phone": "Par téléphone", "video": "En visio"}
POSTCODE_COOKIE = "rdv_code_postal"
SITUATION_COOKIE = "rdv_situation"
# Kept when the person left the postcode empty where it was asked: not asked again.
NO_POSTCODE = "aucun"
# Long enough for one booking, short enough not to follow the person for days.
BOOKING_COOKIE_SECONDS = 2 * 3600


def private(response):
    response.headers["Referrer-Policy"] = "no-referrer"
    response.headers["X-Robots-Tag"] = "noindex"
    return response


def booking_page(request: Request, template: str, context: dict, status_code: int = 200):
    """A booking page: the operator's name and logo in the header once it is known (render),
    a neutral name before (the national entry)."""
    context = {"mode_labels": MODE_LABELS, **context}
    if "operator" not in context:
        context.setdefault("brand", NEUTRAL_BRAND)
    return private(render(request, f"booking/online/{template}", context, status_code=status_code))


def _remember(request: Request, response, name: str, value: str):
    response.set_cookie(
        name,
        value,
        max_age=BOOKING_COOKIE_SECONDS,
        path="/rendez-vous",
        httponly=True,
        samesite="lax",
        secure=cookie_secure(request),
    )
    return response


def remembered_postcode(request: Request) -> str:
    """The postcode typed earlier in this booking, or "" (a bad cookie is ignored)."""
    value = request.cookies.get(POSTCODE_COOKIE, "")
    return value if re.fullmatch(r"\d{5}", value) else ""


def postcode_asked(request: Request) -> bool:
    """Whether this booking asked the postcode already (typed, or left empty)."""
    return bool(remembered_postcode(request)) or request.cookies.get(POSTCODE_COOKIE) == NO_POSTCODE


def remember_postcode(request: Request, response, postcode: str):
    """Keep a well-formed postcode for the next steps, or that none was given; anything else
    is not kept."""
    postcode = (postcode or "").strip()
    if re.fullmatch(r"\d{5}", postcode):
        return _remember(request, response, POSTCODE_COOKIE, postcode)
    if not postcode:
        return _remember(request, response, POSTCODE_COOKIE, NO_POSTCODE)
    return response


def remembered_situation(request: Request) -> str:
    """The situation chosen at the national entry, or "" (a bad cookie is ignored)."""
    value = request.cookies.get(SITUATION_COOKIE, "")
    return value if value in {situation.value for situation in CepSituation} else ""


def remember_situation(request: Request, response, situation: CepSituation):
    return _remember(request, response, SITUATION_COOKIE, situation.value)
