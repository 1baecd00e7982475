"""Public booking pages (no account, work without JavaScript): motif and mode, site, slot,
contact details, confirmation — or a callback request when nothing is free.

Addresses carry only ids and times; names, e-mails and phones travel in POST bodies."""

import uuid
from datetime import date, timedelta
from urllib.parse import urlencode

from fastapi import Request
from fastapi.responses import RedirectResponse
from pydantic import ValidationError

from app.core.dates import to_local
from app.core.errors import Invalid, TooManyAttempts
from app.models.appointments import CallbackChoice, SlotChoice
from app.models.base import utcnow
from app.models.bounds import Moment, OptionalDay, OptionalRowId, RowId
from app.models.fields import OperatorCode, OptionalOperatorCode
from app.services.access.rate_limits import (
    check_rate,
    check_slot_listing,
    contact_keys,
    rate_limit_target,
)
from app.services.booking.reservations import (
    BookingPerson,
    SlotTaken,
    book_appointment,
    bookable_types,
    check_place,
    first_free_start,
    get_bookable_type,
    offered_times,
    operator_by_code,
    request_callback,
    sites_for_booking,
    time_zone_of,
)
from app.web.client_address import client_address
from app.web.deps import SessionDep, SubmittedForm
from app.web.forms import field_errors, parse_form, parse_value
from app.web.rendering import render
from app.web.routing import new_router

router = new_router(prefix="/rendez-vous", include_in_schema=False)

MODE_LABELS = {"on_site": "Sur place", "phone": "Par téléphone", "video": "En visio"}
WEEKDAYS = "lundi mardi mercredi jeudi vendredi samedi dimanche".split()
MONTHS = (
    "janvier février mars avril mai juin juillet août septembre octobre novembre décembre".split()
)
# The honeypot: hidden from people and assistive technologies, filled by form robots.
HONEYPOT = "site_web"
PERSON_FIELDS = ("first_name", "last_name", "email", "phone", "postcode", "request")


def _private(response):
    response.headers["Referrer-Policy"] = "no-referrer"
    response.headers["X-Robots-Tag"] = "noindex"
    return response


def _page(request: Request, template: str, context: dict, status_code: int = 200):
    context = {"mode_labels": MODE_LABELS, **context}
    return _private(render(request, f"booking/online/{template}", context, status_code=status_code))


def _day_label(day: date) -> str:
    return f"{WEEKDAYS[day.weekday()]} {day.day} {MONTHS[day.month - 1]} {day.year}"


def _by_day(times, time_zone: str) -> list[tuple[str, list[tuple[str, str]]]]:
    """[(« lundi 7 décembre 2026 », [(ISO start, « 09 h 30 »), …]), …] in the site's zone."""
    days: dict[date, list[tuple[str, str]]] = {}
    for start, _end, _count in times:
        local = to_local(start, time_zone)
        days.setdefault(local.date(), []).append((start.isoformat(), f"{local:%H} h {local:%M}"))
    return [(_day_label(day), slots) for day, slots in sorted(days.items())]


def _flow(session, operateur: str, motif: int, mode: str, lieu: int | None):
    """Operator, type and place of the steps after the first, checked again at each step."""
    operator = operator_by_code(session=session, code=operateur)
    kind = get_bookable_type(
        session=session, appointment_type_id=motif, operator_id=operator.id, online=True
    )
    site_id = lieu if mode == "on_site" else None
    site = check_place(session=session, appointment_type=kind, mode=mode, site_id=site_id)
    return operator, kind, site


def _query(operator, kind, mode, site, **extra) -> str:
    params = {"operateur": operator.code, "motif": kind.id, "mode": mode}
    if site is not None:
        params["lieu"] = site.id
    return urlencode({**params, **{k: v for k, v in extra.items() if v is not None}})


@router.get("")
def choose_motif(request: Request, session: SessionDep, operateur: OptionalOperatorCode = None):
    operator = operator_by_code(session=session, code=operateur or "-")
    types = bookable_types(session=session, operator_id=operator.id)
    return _page(request, "motif.html", {"operator": operator, "types": types})


@router.post("/lieu")
def choose_site(request: Request, session: SessionDep, form: SubmittedForm):
    code = parse_value(OperatorCode, form.get("operateur"), name="operateur")
    operator = operator_by_code(session=session, code=code)
    types = bookable_types(session=session, operator_id=operator.id)
    mode = str(form.get("mode", ""))
    try:
        kind = get_bookable_type(
            session=session,
            appointment_type_id=parse_value(RowId, form.get("motif"), name="appointment_type_id"),
            operator_id=operator.id,
            online=True,
        )
        if mode not in kind.modes.split():
            raise Invalid({"mode": "Ce mode de rendez-vous n'est pas proposé pour ce motif"})
    except Invalid as exc:
        context = {"operator": operator, "types": types, "errors": exc.fields, "form": form}
        return _page(request, "motif.html", context, status_code=422)
    if mode != "on_site":
        return RedirectResponse(
            f"/rendez-vous/creneaux?{_query(operator, kind, mode, None)}", status_code=303
        )
    postcode = str(form.get("postcode", "")).strip()
    sites = sites_for_booking(session=session, operator_id=operator.id, postcode=postcode)
    context = {"operator": operator, "kind": kind, "mode": mode, "sites": sites}
    return _page(request, "site.html", context)


@router.get("/creneaux")
def choose_slot(
    request: Request,
    session: SessionDep,
    operateur: OperatorCode,
    motif: RowId,
    mode: str,
    lieu: OptionalRowId = None,
    semaine: OptionalDay = None,
):
    # Counted first, on a connection of its own: a refused listing costs no other query.
    check_slot_listing(session=session, ip=client_address(request))
    operator, kind, site = _flow(session, operateur, motif, mode, lieu)
    return _slot_page(request, session, operator, kind, mode, site, semaine)


def _slot_page(request, session, operator, kind, mode, site, week, *, taken=None):
    site_id = site.id if site else None
    zone = time_zone_of(session=session, operator_id=operator.id, site_id=site_id)
    now = utcnow()
    today = to_local(now, zone).date()
    first = first_free_start(session=session, appointment_type=kind, mode=mode, site_id=site_id)
    if first is None and taken is None:
        query = _query(operator, kind, mode, site)
        return _page(request, "nothing_free.html", {"operator": operator, "query": query})
    if week is None:
        week = to_local(first, zone).date() if first else today
    week = max(week, today)
    times = offered_times(
        session=session, appointment_type=kind, mode=mode, site_id=site_id, first_day=week
    )
    horizon = today + timedelta(days=kind.max_horizon_days)
    context = {
        "operator": operator,
        "kind": kind,
        "mode": mode,
        "site": site,
        "days": _by_day(times, zone),
        "week_label": _day_label(week),
        "previous": _query(operator, kind, mode, site, semaine=(week - timedelta(7)).isoformat())
        if week > today
        else None,
        "next": _query(operator, kind, mode, site, semaine=(week + timedelta(7)).isoformat())
        if week + timedelta(7) <= horizon
        else None,
        "flow": _query(operator, kind, mode, site),
        "taken": _by_day(taken, zone) if taken is not None else None,
    }
    return _page(request, "slots.html", context, status_code=409 if taken is not None else 200)


@router.get("/coordonnees")
def contact_form(
    request: Request,
    session: SessionDep,
    operateur: OperatorCode,
    motif: RowId,
    mode: str,
    debut: Moment,
    lieu: OptionalRowId = None,
):
    operator, kind, site = _flow(session, operateur, motif, mode, lieu)
    return _contact_page(request, session, operator, kind, mode, site, debut)


def _contact_page(request, session, operator, kind, mode, site, start, *, form=None, errors=None):
    zone = time_zone_of(session=session, operator_id=operator.id, site_id=site.id if site else None)
    local = to_local(start, zone)
    context = {
        "operator": operator,
        "kind": kind,
        "mode": mode,
        "site": site,
        "start": start.isoformat(),
        "when": f"{_day_label(local.date())} à {local:%H} h {local:%M}",
        "flow": _query(operator, kind, mode, site),
        "idempotency_key": (form or {}).get("idempotency_key") or str(uuid.uuid4()),
        "form": form or {},
        "errors": errors or {},
        "honeypot": HONEYPOT,
    }
    return _page(request, "contact.html", context, status_code=422 if errors else 200)


def _person(form) -> BookingPerson:
    data = {name: str(form.get(name, "")) for name in PERSON_FIELDS}
    data["consent"] = form.get("consent") not in (None, "", "0", "false", "off")
    try:
        return BookingPerson.model_validate(data)
    except ValidationError as exc:
        raise Invalid(field_errors(exc)) from exc


def _refused(request: Request, session, values: dict):
    """The 429 page when the IP, e-mail or phone asked too often, else None.

    Checked before any other query, so that the hits commit on their own even when the
    booking that follows fails."""
    try:
        check_rate(
            session_or_engine=rate_limit_target(session),
            bucket="public_booking",
            keys=contact_keys(
                ip=client_address(request), email=values.get("email"), phone=values.get("phone")
            ),
        )
    except TooManyAttempts as exc:
        return _page(request, "too_many.html", {"message": exc.message}, status_code=429)
    return None


@router.post("/coordonnees")
def book(request: Request, session: SessionDep, form: SubmittedForm):
    values = {key: str(value) for key, value in form.items() if key != "csrf_token"}
    if refused := _refused(request, session, values):
        return refused
    choice = parse_form(SlotChoice, values)  # hidden fields: a bad one is a 422 page
    operator, kind, site = _flow(session, choice.operateur, choice.motif, choice.mode, choice.lieu)
    if values.get(HONEYPOT):
        # A robot filled the hidden field: it sees the usual answer, nothing is booked.
        return _page(request, "confirmed.html", {"appointment": None, "operator": operator})
    try:
        appointment = book_appointment(
            session=session,
            appointment_type_id=kind.id,
            site_id=site.id if site else None,
            mode=choice.mode,
            start=choice.debut,
            person=_person(form),
            idempotency_key=values.get("idempotency_key"),
            operator_id=operator.id,
        )
    except SlotTaken as exc:
        return _slot_page(
            request, session, operator, kind, choice.mode, site, None, taken=exc.next_slots
        )
    except Invalid as exc:
        return _contact_page(
            request,
            session,
            operator,
            kind,
            choice.mode,
            site,
            choice.debut,
            form=values,
            errors=exc.fields,
        )
    zone = time_zone_of(session=session, operator_id=operator.id, site_id=appointment.site_id)
    local = to_local(appointment.starts_at, zone)
    context = {
        "appointment": appointment,
        "operator": operator,
        "kind": kind,
        "site": site,
        "when": f"{_day_label(local.date())} à {local:%H} h {local:%M}",
    }
    return _page(request, "confirmed.html", context)


@router.get("/rappel")
def callback_form(
    request: Request,
    session: SessionDep,
    operateur: OperatorCode,
    motif: OptionalRowId = None,
    mode: str = "",
    lieu: OptionalRowId = None,
):
    operator = operator_by_code(session=session, code=operateur)
    context = {
        "operator": operator,
        "hidden": {"motif": motif or "", "mode": mode, "lieu": lieu or ""},
        "honeypot": HONEYPOT,
    }
    return _page(request, "callback.html", context)


@router.post("/rappel")
def ask_callback(request: Request, session: SessionDep, form: SubmittedForm):
    values = {key: str(value) for key, value in form.items() if key != "csrf_token"}
    if refused := _refused(request, session, values):
        return refused
    choice = parse_form(CallbackChoice, values)  # hidden fields: a bad one is a 422 page
    operator = operator_by_code(session=session, code=choice.operateur)
    if values.get(HONEYPOT):
        return _page(request, "callback_sent.html", {"operator": operator})
    hidden = {name: values.get(name, "") for name in ("motif", "mode", "lieu")}
    try:
        request_callback(
            session=session,
            operator_id=operator.id,
            person=_person(form),
            appointment_type_id=choice.motif,
            site_id=choice.lieu,
            mode=choice.mode or None,
        )
    except Invalid as exc:
        context = {
            "operator": operator,
            "hidden": hidden,
            "honeypot": HONEYPOT,
            "form": values,
            "errors": exc.fields,
        }
        return _page(request, "callback.html", context, status_code=422)
    return _page(request, "callback_sent.html", {"operator": operator})
