"""The beneficiary's side of an appointment: no account, the signed link from the e-mail, to
see it, cancel it or move it to another free slot."""

from datetime import datetime
from typing import Annotated

from fastapi import Form, Request
from fastapi.responses import RedirectResponse

from app.core.errors import Conflict, Invalid
from app.models.bounds import Moment
from app.services.access.rate_limits import check_slot_listing
from app.services.booking.changes import (
    SlotTaken,
    can_change,
    cancel_appointment,
    move_appointment,
    next_free_slots,
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
    context = {"details": details, "token": token, "slots": slots, "error": error}
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
    details = open_by_link(session=session, token=token)
    try:
        cancel_appointment(session=session, appointment_id=details.appointment.id)
    except Conflict as exc:
        return _manage_page(request, details, token, error=exc.message, status_code=409)
    return _private(RedirectResponse(f"/rendez-vous/gerer/{token}?fait=annule", status_code=303))


@router.get("/{token}/deplacer")
def choose_slot(request: Request, session: SessionDep, token: str):
    check_slot_listing(session=session, ip=client_address(request))
    details = open_by_link(session=session, token=token)
    if not can_change(details):
        return _manage_page(request, details, token)
    return _move_page(request, details, token, next_free_slots(session=session, details=details))


@router.post("/{token}/deplacer")
def move(request: Request, session: SessionDep, token: str, start: Annotated[str, Form()] = ""):
    # A refused move lists the free slots again: counted as a listing.
    check_slot_listing(session=session, ip=client_address(request))
    details = open_by_link(session=session, token=token)
    try:
        chosen = _parse_start(start)
        move_appointment(session=session, appointment_id=details.appointment.id, start=chosen)
    except SlotTaken as exc:
        return _move_page(
            request, details, token, exc.next_slots, error=exc.message, status_code=409
        )
    except Invalid as exc:
        slots = next_free_slots(session=session, details=details)
        return _move_page(
            request, details, token, slots, error=exc.fields["start"], status_code=422
        )
    except Conflict as exc:
        return _manage_page(request, details, token, error=exc.message, status_code=409)
    return _private(RedirectResponse(f"/rendez-vous/gerer/{token}?fait=deplace", status_code=303))


def _parse_start(value: str) -> datetime:
    """One of the offered starts, with its offset; anything else was not offered."""
    try:
        return parse_value(Moment, value, name="start")
    except Invalid:
        raise Invalid({"start": "Choisissez un des horaires proposés."}) from None
