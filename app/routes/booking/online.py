"""Public booking pages (no account, work without JavaScript): motif and mode, site, slot,
contact details, confirmation — or a callback request when nothing is free.

Addresses carry only ids and times; names, e-mails and phones travel in POST bodies."""

import uuid
from datetime import timedelta
from urllib.parse import urlencode

from fastapi import Request
from fastapi.responses import RedirectResponse

from app.core.dates import format_long_day, to_local
from app.core.errors import Invalid, TooManyAttempts
from app.models.appointments import BookingChannel, CallbackChoice, SlotChoice, needs_site
from app.models.bounds import Moment, OptionalDay, OptionalRowId, RowId
from app.models.fields import OperatorCode, OptionalOperatorCode
from app.models.nomenclatures import CepSituation, RequestMotive
from app.routes.booking.entry import entry_page
from app.routes.booking.public_pages import (
    booking_page,
    postcode_asked,
    remember_postcode,
    remembered_postcode,
    remembered_situation,
)
from app.services.booking.orientation import ServedElsewhere
from app.services.booking.public_offer import (
    SlotWeek,
    motif_step,
    place_step,
    slot_week,
    times_by_day,
)
from app.services.booking.reservations import (
    SlotTaken,
    ask_to_be_called_back,
    book_publicly,
    operator_by_code,
    public_choice,
    usual_motive,
)
from app.web.client_address import client_address
from app.web.deps import SessionDep, SubmittedForm
from app.web.forms import parse_form, parse_value
from app.web.routing import new_router

router = new_router(prefix="/rendez-vous", include_in_schema=False)

# The honeypot: hidden from people and assistive technologies, filled by form robots.
HONEYPOT = "site_web"
PERSON_FIELDS = ("first_name", "last_name", "email", "phone", "postcode", "request", "answer")
PERSON_FIELDS += ("motive", "situation")


def _page(request: Request, template: str, context: dict, status_code: int = 200):
    return booking_page(request, template, context, status_code)


def _query(operator, kind, mode, site, **extra) -> str:
    params = {"operateur": operator.code, "motif": kind.id, "mode": mode}
    if site is not None:
        params["lieu"] = site.id
    return urlencode({**params, **{k: v for k, v in extra.items() if v is not None}})


@router.get("")
def choose_motif(request: Request, session: SessionDep, operateur: OptionalOperatorCode = None):
    if not operateur:
        # No operator named: the national entry finds the one serving the person's place.
        return entry_page(request)
    step = motif_step(session=session, operator_code=operateur)
    context = {"operator": step.operator, "types": step.types}
    return _page(request, "motif.html", context | {"postcode": remembered_postcode(request)})


@router.post("/lieu")
def choose_site(request: Request, session: SessionDep, form: SubmittedForm):
    code = parse_value(OperatorCode, form.get("operateur"), name="operateur")
    mode = str(form.get("mode", ""))
    postcode = str(form.get("postcode", "")).strip()
    try:
        step = place_step(
            session=session,
            operator_code=code,
            appointment_type_id=parse_value(RowId, form.get("motif"), name="appointment_type_id"),
            mode=mode,
            postcode=postcode,
        )
    except Invalid as exc:
        motifs = motif_step(session=session, operator_code=code)
        context = {"operator": motifs.operator, "types": motifs.types}
        context |= {"errors": exc.fields, "form": form, "postcode": remembered_postcode(request)}
        return _page(request, "motif.html", context, status_code=422)
    if not needs_site(mode):
        query = _query(step.operator, step.kind, mode, None)
        response = RedirectResponse(f"/rendez-vous/creneaux?{query}", status_code=303)
        return remember_postcode(request, response, postcode)
    context = {"operator": step.operator, "kind": step.kind, "mode": mode, "sites": step.sites}
    return remember_postcode(request, _page(request, "site.html", context), postcode)


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
    offer = slot_week(
        session=session,
        ip=client_address(request),
        operator_code=operateur,
        appointment_type_id=motif,
        mode=mode,
        site_id=lieu,
        week=semaine,
    )
    return _slot_page(request, offer)


def _slot_page(request, offer: SlotWeek, *, taken=None):
    choice, week, today = offer.choice, offer.week, offer.today
    operator, kind, mode, site, zone = (
        choice.operator,
        choice.kind,
        choice.mode,
        choice.site,
        choice.time_zone,
    )
    if offer.first is None and taken is None:
        query = _query(operator, kind, mode, site)
        return _page(request, "nothing_free.html", {"operator": operator, "query": query})
    context = {
        "operator": operator,
        "kind": kind,
        "mode": mode,
        "site": site,
        "days": times_by_day(offer.times, zone),
        "week_label": format_long_day(week),
        "previous": _query(operator, kind, mode, site, semaine=(week - timedelta(7)).isoformat())
        if week > today
        else None,
        "next": _query(operator, kind, mode, site, semaine=(week + timedelta(7)).isoformat())
        if week + timedelta(7) <= offer.horizon
        else None,
        "flow": _query(operator, kind, mode, site),
        "taken": times_by_day(taken, zone) if taken is not None else None,
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
    choice = public_choice(
        session=session,
        appointment_type_id=motif,
        mode=mode,
        site_id=lieu,
        operator_code=operateur,
    )
    return _contact_page(request, choice, debut)


def _asked(request, motive: str | None) -> dict:
    """What the contact and callback forms ask besides the person's details, pre-filled: the
    motif's usual motive, the situation said at the national entry; the postcode only when no
    earlier step asked it."""
    return {
        "motives": RequestMotive.choices(),
        "situations": CepSituation.choices(),
        "usual_motive": motive or "",
        "usual_situation": remembered_situation(request),
        "postcode": remembered_postcode(request),
        "postcode_asked": postcode_asked(request),
    }


def _orientation_page(request, operator, exc: ServedElsewhere):
    """Another network serves the person: the national entry's answer, nothing booked."""
    context = {"orientation": exc.orientation, "operator": operator}
    return _page(request, "orientation.html", context)


def _contact_page(request, choice, start, *, form=None, errors=None):
    local = to_local(start, choice.time_zone)
    context = _asked(request, choice.kind.motive) | {
        "operator": choice.operator,
        "kind": choice.kind,
        "mode": choice.mode,
        "site": choice.site,
        "start": start.isoformat(),
        "when": f"{format_long_day(local.date())} à {local:%H} h {local:%M}",
        "flow": _query(choice.operator, choice.kind, choice.mode, choice.site),
        "idempotency_key": (form or {}).get("idempotency_key") or str(uuid.uuid4()),
        "form": form or {},
        "errors": errors or {},
        "honeypot": HONEYPOT,
    }
    return _page(request, "contact.html", context, status_code=422 if errors else 200)


def _person(form) -> dict[str, object]:
    """The person's fields as typed; the consent boxes are ticked or not."""
    data: dict[str, object] = {name: str(form.get(name, "")) for name in PERSON_FIELDS}
    for box in ("consent", "survey_consent"):
        data[box] = form.get(box) not in (None, "", "0", "false", "off")
    return data


def _too_many(request: Request, exc: TooManyAttempts):
    return _page(request, "too_many.html", {"message": exc.message}, status_code=429)


@router.post("/coordonnees")
def book(request: Request, session: SessionDep, form: SubmittedForm):
    values = {key: str(value) for key, value in form.items() if key != "csrf_token"}
    choice = parse_form(SlotChoice, values)  # hidden fields: a bad one is a 422 page
    asked = {
        "operator_code": choice.operateur,
        "appointment_type_id": choice.motif,
        "mode": choice.mode,
        "site_id": choice.lieu,
    }
    try:
        booked = book_publicly(
            session=session,
            via=BookingChannel.ONLINE,
            ip=client_address(request),
            start=choice.debut,
            person=_person(form),
            idempotency_key=values.get("idempotency_key"),
            # A robot filled the hidden field: it sees the usual answer, nothing is booked.
            robot=bool(values.get(HONEYPOT)),
            **asked,
        )
    except TooManyAttempts as exc:
        return _too_many(request, exc)
    except SlotTaken as exc:
        offer = slot_week(session=session, ip=None, week=None, **asked)
        return _slot_page(request, offer, taken=exc.next_slots)
    except ServedElsewhere as exc:
        operator = operator_by_code(session=session, code=choice.operateur)
        return _orientation_page(request, operator, exc)
    except Invalid as exc:
        # Asked again so that a bad choice (not the person's details) is the 422 page.
        again = public_choice(session=session, **asked)
        return _contact_page(request, again, choice.debut, form=values, errors=exc.fields)
    if booked.appointment is None:
        return _page(
            request, "confirmed.html", {"appointment": None, "operator": booked.choice.operator}
        )
    local = to_local(booked.appointment.starts_at, booked.time_zone)
    context = {
        "appointment": booked.appointment,
        "operator": booked.choice.operator,
        "kind": booked.choice.kind,
        "site": booked.choice.site,
        "when": f"{format_long_day(local.date())} à {local:%H} h {local:%M}",
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
    motive = usual_motive(session=session, operator_id=operator.id, appointment_type_id=motif)
    context = _asked(request, motive) | {
        "operator": operator,
        "hidden": {"motif": motif or "", "mode": mode, "lieu": lieu or ""},
        "honeypot": HONEYPOT,
    }
    return _page(request, "callback.html", context)


@router.post("/rappel")
def ask_callback(request: Request, session: SessionDep, form: SubmittedForm):
    values = {key: str(value) for key, value in form.items() if key != "csrf_token"}
    choice = parse_form(CallbackChoice, values)  # hidden fields: a bad one is a 422 page
    try:
        operator = ask_to_be_called_back(
            session=session,
            ip=client_address(request),
            operator_code=choice.operateur,
            person=_person(form),
            appointment_type_id=choice.motif,
            site_id=choice.lieu,
            mode=choice.mode or None,
            robot=bool(values.get(HONEYPOT)),
        )
    except TooManyAttempts as exc:
        return _too_many(request, exc)
    except ServedElsewhere as exc:
        operator = operator_by_code(session=session, code=choice.operateur)
        return _orientation_page(request, operator, exc)
    except Invalid as exc:
        context = _asked(request, None) | {
            "operator": operator_by_code(session=session, code=choice.operateur),
            "hidden": {name: values.get(name, "") for name in ("motif", "mode", "lieu")},
            "honeypot": HONEYPOT,
            "form": values,
            "errors": exc.fields,
        }
        return _page(request, "callback.html", context, status_code=422)
    return _page(request, "callback_sent.html", {"operator": operator})
