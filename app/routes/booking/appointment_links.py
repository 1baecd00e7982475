"""The beneficiary's side of an appointment: no account, the signed link from the e-mail, to
see it, cancel it (after confirming) or move it to another free slot; after either, a way to
book again with the same choice."""

from datetime import date, datetime, timedelta
from typing import Annotated

from fastapi import Form, Request
from fastapi.responses import RedirectResponse

from app.core.dates import format_long_day
from app.core.errors import Conflict, Invalid
from app.models.appointments import AppointmentStatus
from app.models.bounds import Moment, OptionalDay
from app.services.booking.changes import (
    MoveWeek,
    SlotTaken,
    can_change,
    cancel_by_link,
    move_by_link,
    move_week,
    open_by_link,
    too_late_message,
)
from app.services.booking.public_offer import times_by_day
from app.services.booking.rebooking import NoticeChannels, notice_channels, rebook_path
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


def _manage_page(request, details, token, *, done="", error="", status_code=200):
    """`done`: « annule » or « deplace » just now, said in the notice."""
    cancelled = details.appointment.status == AppointmentStatus.CANCELLED
    context = {
        "details": details,
        "operator": details.operator,  # its name and logo head the page
        "token": token,
        "changeable": can_change(details),
        "too_late": "" if can_change(details) else too_late_message(details),
        "notice": _notice(done, notice_channels(details)) if done else "",
        "error": error,
        "rebook": rebook_path(details) if cancelled or done == "deplace" else "",
    }
    return _private(
        render(request, "booking/appointment_links/manage.html", context, status_code=status_code)
    )


def _notice(done: str, sent: NoticeChannels) -> str:
    """What was done, and what is really sent about it: the person may have no e-mail."""
    head, what, keep = {
        "annule": ("Votre rendez-vous est annulé.", "de confirmation", "la référence"),
        "deplace": (
            "Votre rendez-vous est déplacé.",
            "avec le nouvel horaire",
            "le nouvel horaire",
        ),
    }[done]
    if sent.email and sent.sms:
        return f"{head} Un e-mail et un SMS {what} vous sont envoyés."
    if sent.email or sent.sms:
        return f"{head} Un {'e-mail' if sent.email else 'SMS'} {what} vous est envoyé."
    return (
        f"{head} Aucun message ne vous est envoyé (ni adresse e-mail, ni mobile pouvant "
        f"recevoir nos SMS) : notez {keep} ci-dessous."
    )


def _cancel_page(request, details, token, *, form=None, errors=None, status_code=200):
    context = {"details": details, "operator": details.operator, "token": token}
    context |= {"form": form or {}, "errors": errors or {}}
    return _private(
        render(request, "booking/appointment_links/cancel.html", context, status_code=status_code)
    )


def _move_page(request, offer: MoveWeek, token, *, error="", status_code=200):
    context = {
        "details": offer.details,
        "operator": offer.details.operator,
        "token": token,
        "days": times_by_day(offer.times, offer.details.time_zone),
        "week_label": format_long_day(offer.week),
        "previous": _week_link(token, offer.week - timedelta(7))
        if offer.week > offer.today
        else None,
        "next": _week_link(token, offer.week + timedelta(7))
        if offer.week + timedelta(7) <= offer.horizon
        else None,
        "error": error,
    }
    return _private(
        render(request, "booking/appointment_links/move.html", context, status_code=status_code)
    )


def _week_link(token: str, week: date) -> str:
    return f"/rendez-vous/gerer/{token}/deplacer?semaine={week.isoformat()}"


@router.get("/{token}")
def manage(request: Request, session: SessionDep, token: str, fait: str = ""):
    details = open_by_link(session=session, token=token)
    return _manage_page(request, details, token, done=fait if fait in ("annule", "deplace") else "")


@router.get("/{token}/annuler")
def confirm_cancel(request: Request, session: SessionDep, token: str):
    """Nothing is cancelled by a GET (a link preview, a double tap): the POST below does it."""
    details = open_by_link(session=session, token=token)
    if not can_change(details):
        return _manage_page(request, details, token)
    return _cancel_page(request, details, token)


@router.post("/{token}/annuler")
def cancel(request: Request, session: SessionDep, token: str, reason: Annotated[str, Form()] = ""):
    try:
        cancel_by_link(session=session, token=token, reason=reason)
    except Invalid as exc:
        details = open_by_link(session=session, token=token)
        form = {"reason": reason}
        return _cancel_page(request, details, token, form=form, errors=exc.fields, status_code=422)
    except Conflict as exc:
        details = open_by_link(session=session, token=token)
        return _manage_page(request, details, token, error=exc.message, status_code=409)
    return _private(RedirectResponse(f"/rendez-vous/gerer/{token}?fait=annule", status_code=303))


@router.get("/{token}/deplacer")
def choose_slot(request: Request, session: SessionDep, token: str, semaine: OptionalDay = None):
    offer = move_week(session=session, token=token, ip=client_address(request), week=semaine)
    if not offer.movable:
        return _manage_page(request, offer.details, token)
    return _move_page(request, offer, token)


@router.post("/{token}/deplacer")
def move(request: Request, session: SessionDep, token: str, start: Annotated[str, Form()] = ""):
    try:
        move_by_link(
            session=session, token=token, ip=client_address(request), start=_offered(start)
        )
    except SlotTaken as exc:
        # The week of the next free start: the times still free, for another tap.
        again = move_week(session=session, token=token, ip=None, week=None)
        return _move_page(request, again, token, error=exc.message, status_code=409)
    except Invalid as exc:
        again = move_week(session=session, token=token, ip=None, week=None, even_if_too_late=True)
        return _move_page(request, again, token, error=exc.fields["start"], status_code=422)
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
