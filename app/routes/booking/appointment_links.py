"""The beneficiary's side of an appointment: no account, the signed link from the e-mail, to
see it, cancel it or move it to another free slot."""

from datetime import datetime
from typing import Annotated

from fastapi import Form, Request
from fastapi.responses import RedirectResponse

from app.core.errors import Conflict, Invalid
from app.models.bounds import Moment
from app.services.booking.changes import (
    SlotTaken,
    can_change,
    cancel_by_link,
    move_by_link,
    move_choices,
    open_by_link,
    too_late_message,
)
from app.web.client_address import client_address
from app.web.deps import SessionDep
from app.web.forms import parse_value
from app.web.rendering import render
from app.web.routing import new_router

router = new_router(prefix="/rendez-vous/gerer", include_in_schema=False)


def _private(response):
    # The token is in the address: keep it out of Referer headers sent to other sites.
    response.headers["Referrer-Policy"] = "no-referrer"
    response.headers["X-Robots-Tag"] = "noindex"
    return response


def _manage_page(request, details, token, *, notice="", error="", status_code=200):
    context = {
        "details": details,
        "operator": details.operator,  # its name and logo head the page
        "token": token,
        "changeable": can_change(details),
        "too_late": "" if can_change(details) else too_late_message(details),
        "notice": notice,
        "error": error,
    }
    return _private(
        render(request, "booking/appointment_links/manage.html", context, status_code=status_code)
    )


def _move_page(request, details, token, slots, *, error="", status_code=200):
    context = {"details": details, "operator": details.operator, "token": token}
    context |= {"slots": slots, "error": error}
    return _private(
        render(request, "booking/appointment_links/move.html", context, status_code=status_code)
    )


@router.get("/{token}")
def manage(request: Request, session: SessionDep, token: str, fait: str = ""):
    details = open_by_link(session=session, token=token)
    notices = {
        "annule": "Votre rendez-vous est annulé. Un e-mail de confirmation vous est envoyé.",
        "deplace": "Votre rendez-vous est déplacé. Un e-mail avec le nouvel horaire vous est envoyé.",
    }
    return _manage_page(request, details, token, notice=notices.get(fait, ""))


@router.post("/{token}/annuler")
def cancel(request: Request, session: SessionDep, token: str):
    try:
        cancel_by_link(session=session, token=token)
    except Conflict as exc:
        details = open_by_link(session=session, token=token)
        return _manage_page(request, details, token, error=exc.message, status_code=409)
    return _private(RedirectResponse(f"/rendez-vous/gerer/{token}?fait=annule", status_code=303))


@router.get("/{token}/deplacer")
def choose_slot(request: Request, session: SessionDep, token: str):
    choices = move_choices(session=session, token=token, ip=client_address(request))
    if choices.slots is None:
        return _manage_page(request, choices.details, token)
    return _move_page(request, choices.details, token, choices.slots)


@router.post("/{token}/deplacer")
def move(request: Request, session: SessionDep, token: str, start: Annotated[str, Form()] = ""):
    try:
        move_by_link(
            session=session, token=token, ip=client_address(request), start=_offered(start)
        )
    except SlotTaken as exc:
        details = open_by_link(session=session, token=token)
        return _move_page(
            request, details, token, exc.next_slots, error=exc.message, status_code=409
        )
    except Invalid as exc:
        again = move_choices(session=session, token=token, ip=None, even_if_too_late=True)
        return _move_page(
            request, again.details, token, again.slots, error=exc.fields["start"], status_code=422
        )
    except Conflict as exc:
        details = open_by_link(session=session, token=token)
        return _manage_page(request, details, token, error=exc.message, status_code=409)
    return _private(RedirectResponse(f"/rendez-vous/gerer/{token}?fait=deplace", status_code=303))


def _offered(value: str) -> datetime | None:
    """One of the offered starts, with its offset; None for anything else (never offered)."""
    try:
        return parse_value(Moment, value, name="start")
    except Invalid:
        return None
