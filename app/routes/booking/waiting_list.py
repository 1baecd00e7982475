"""The waiting list: the public form to join it when no slot suits, the signed links to leave
it and to answer a slot offered, the staff's list (« Liste d'attente ») and the operator
admin's « Délai pour accepter une place libérée ».

Addresses carry only ids and opaque tokens; names, e-mails and phones travel in POST bodies."""

from fastapi import Request
from fastapi.responses import RedirectResponse

from app.core.dates import format_datetime, format_long_day, to_local
from app.core.errors import Invalid, TooManyAttempts
from app.models.appointments import BookingChoice
from app.models.bounds import OptionalRowId, RowId
from app.models.fields import OperatorCode
from app.models.operators import Operator
from app.models.waiting_list import HalfDay, WaitingOfferDelay
from app.routes.booking.online import HONEYPOT, _person, _query
from app.routes.booking.public_pages import booking_page, private, remembered_postcode
from app.services.booking.reservations import public_choice
from app.services.booking.waiting_list import (
    entry_by_link,
    join_publicly,
    leave_by_link,
    remove_entry,
    save_offer_delay,
    waiting_list,
)
from app.services.booking.waiting_list_offers import (
    OfferGone,
    OfferView,
    accept_offer,
    decline_offer,
    open_offer,
    stay_on_list,
)
from app.web.client_address import client_address
from app.web.deps import CaseWorker, SessionDep, SubmittedForm
from app.web.forms import parse_form
from app.web.rendering import render
from app.web.routing import new_router

router = new_router(include_in_schema=False)

PUBLIC = "/rendez-vous/liste-attente"
OFFER = "/rendez-vous/place-liberee"
WEEKDAY_CHOICES = [
    ("0", "Lundi"),
    ("1", "Mardi"),
    ("2", "Mercredi"),
    ("3", "Jeudi"),
    ("4", "Vendredi"),
    ("5", "Samedi"),
    ("6", "Dimanche"),
]


def _page(request: Request, template: str, context: dict, status_code: int = 200):
    return booking_page(request, template, context, status_code)


# ---------- Joining (no account) ----------


def _form_page(request, choice, *, form=None, errors=None, status_code=200):
    context = {
        "operator": choice.operator,
        "kind": choice.kind,
        "mode": choice.mode,
        "site": choice.site,
        "flow": _query(choice.operator, choice.kind, choice.mode, choice.site),
        "weekdays": WEEKDAY_CHOICES,
        "half_days": HalfDay.choices(),
        "ticked_days": (form or {}).get("jours", []),
        "ticked_moments": (form or {}).get("moments", []),
        "form": form or {},
        "errors": errors or {},
        "honeypot": HONEYPOT,
        "postcode": remembered_postcode(request),
    }
    return _page(request, "waitlist_form.html", context, status_code)


@router.get(PUBLIC)
def waitlist_form(
    request: Request,
    session: SessionDep,
    operateur: OperatorCode,
    motif: RowId,
    mode: str,
    lieu: OptionalRowId = None,
):
    choice = public_choice(
        session=session, appointment_type_id=motif, mode=mode, site_id=lieu, operator_code=operateur
    )
    return _form_page(request, choice)


@router.post(PUBLIC)
def join_waitlist(request: Request, session: SessionDep, form: SubmittedForm):
    hidden = {name: str(form.get(name, "")) for name in ("operateur", "motif", "mode", "lieu")}
    choice = parse_form(BookingChoice, hidden)  # hidden fields: a bad one is a 422 page
    asked = {
        "operator_code": choice.operateur,
        "appointment_type_id": choice.motif,
        "mode": choice.mode,
        "site_id": choice.lieu,
    }
    days = [str(day) for day in form.getlist("jours")]
    moments = [str(moment) for moment in form.getlist("moments")]
    try:
        joined = join_publicly(
            session=session,
            ip=client_address(request),
            weekdays=days,
            half_days=moments,
            person=_person(form),
            robot=bool(form.get(HONEYPOT)),
            **asked,
        )
    except TooManyAttempts as exc:
        return _page(request, "too_many.html", {"message": exc.message}, status_code=429)
    except Invalid as exc:
        typed = {key: str(value) for key, value in form.items() if key != "csrf_token"}
        typed |= {"jours": days, "moments": moments}
        again = public_choice(session=session, **asked)
        return _form_page(request, again, form=typed, errors=exc.fields, status_code=422)
    return _page(request, "waitlist_joined.html", {"operator": joined.choice.operator})


# ---------- Leaving, from the signed link ----------


@router.get(PUBLIC + "/quitter/{token}")
def leave_form(request: Request, session: SessionDep, token: str):
    entry = entry_by_link(session=session, token=token)
    return _leave_page(request, session, token, entry, has_left=False)


@router.post(PUBLIC + "/quitter/{token}")
def leave(request: Request, session: SessionDep, token: str):
    entry = leave_by_link(session=session, token=token)
    return _leave_page(request, session, token, entry, has_left=True)


def _leave_page(request, session, token: str, entry, *, has_left: bool):
    context = {"token": token, "entry": entry, "has_left": has_left}
    # Headed by the operator's name and logo, as the pages the person came from.
    context["operator"] = session.get(Operator, entry.operator_id)
    return _page(request, "waitlist_leave.html", context)


# ---------- Answering an offer, from the signed link ----------


def _offer_page(request, view: OfferView, token: str, *, done: str = "", status_code=200):
    local = to_local(view.offer.starts_at, view.time_zone)
    context = {
        "view": view,
        "operator": view.operator,
        "token": token,
        "answer": done,
        "still_open": view.open(),
        "when": f"{format_long_day(local.date())} à {local:%H} h {local:%M}",
        "until": format_datetime(view.offer.expires_at, view.time_zone),
        "rebook": _query(view.operator, view.kind, view.entry.mode, None)
        if view.entry.site_id is None
        else f"{_query(view.operator, view.kind, view.entry.mode, None)}&lieu={view.entry.site_id}",
    }
    return _page(request, "waitlist_offer.html", context, status_code)


@router.get(OFFER + "/{token}")
def offer_page(request: Request, session: SessionDep, token: str):
    return _offer_page(request, open_offer(session=session, token=token), token)


@router.post(OFFER + "/{token}/accepter")
def accept(request: Request, session: SessionDep, token: str):
    try:
        view = accept_offer(session=session, token=token)
    except OfferGone as exc:
        return _offer_page(request, exc.view, token, status_code=409)
    appointment = view.appointment
    local = to_local(appointment.starts_at, view.time_zone)
    context = {
        "appointment": appointment,
        "operator": view.operator,
        "kind": view.kind,
        "site": view.site,
        "when": f"{format_long_day(local.date())} à {local:%H} h {local:%M}",
    }
    return _page(request, "confirmed.html", context)


@router.post(OFFER + "/{token}/decliner")
def decline(request: Request, session: SessionDep, token: str):
    try:
        view = decline_offer(session=session, token=token)
    except OfferGone as exc:
        return _offer_page(request, exc.view, token, status_code=409)
    return _offer_page(request, view, token, done="refus")


@router.post(OFFER + "/{token}/rester")
def stay(request: Request, session: SessionDep, token: str):
    return _offer_page(request, stay_on_list(session=session, token=token), token, done="maintien")


# ---------- Staff: the list, and the admin's setting ----------


@router.get("/agenda/liste-attente")
def staff_list(request: Request, session: SessionDep, user: CaseWorker, fait: str = ""):
    groups = waiting_list(session=session, actor=user)
    context = {"groups": groups, "taken_off": fait == "retire"}
    return private(render(request, "booking/waiting_list/list.html", context))


@router.post("/agenda/liste-attente/{entry_id}/retirer")
def staff_remove(request: Request, session: SessionDep, user: CaseWorker, entry_id: RowId):
    remove_entry(session=session, actor=user, entry_id=entry_id)
    return RedirectResponse("/agenda/liste-attente?fait=retire", status_code=303)


@router.post("/admin/liste-attente/delai")
def save_delay(session: SessionDep, user: CaseWorker, form: SubmittedForm):
    typed = {"waiting_offer_hours": str(form.get("waiting_offer_hours") or "").strip()}
    try:
        save_offer_delay(session=session, actor=user, data=parse_form(WaitingOfferDelay, typed))
    except Invalid:
        return RedirectResponse("/admin/motifs?delai=invalide#liste-attente", status_code=303)
    return RedirectResponse("/admin/motifs?delai=enregistre#liste-attente", status_code=303)
