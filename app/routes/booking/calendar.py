"""Staff calendar pages: the agenda, attendance marks, no-show rates, booking from a case."""

from datetime import timedelta
from typing import Annotated

from fastapi import Form, Query, Request
from fastapi.responses import RedirectResponse

from app.core.errors import Conflict, Invalid
from app.models.base import utcnow
from app.models.bounds import OptionalDay, OptionalMoment, OptionalRowId, RowId
from app.services.booking import reservations as booking
from app.services.booking.calendar import (
    CaseBooking,
    book_for_case,
    load_calendar,
    load_case_booking,
    mark_attendance,
    no_show_report,
)
from app.web.deps import CaseWorker, SessionDep
from app.web.forms import parse_value
from app.web.rendering import is_htmx, render
from app.web.routing import new_router

router = new_router(include_in_schema=False)

OptionalText = Annotated[str, Query(max_length=20)]
# Selects send "" for « all » (or « none chosen »), a date input "" for « today ».
ChosenId = Annotated[OptionalRowId, Form()]
ChosenDay = Annotated[OptionalDay, Form()]
HiddenValue = Annotated[str, Form(max_length=40)]


def _agenda(
    request, session, user, *, conseiller=None, lieu=None, jour=None, vue="jour", marked=None
):
    view = load_calendar(
        session=session,
        actor=user,
        counsellor_id=conseiller,
        site_id=lieu,
        day=jour,
        view=vue,
    )
    return render(
        request,
        "booking/calendar/agenda.html",
        {"cal": view, "marked": marked},
        fragment="booking/calendar/_partials/days.html",
    )


@router.get("/agenda")
def agenda(
    request: Request,
    session: SessionDep,
    user: CaseWorker,
    conseiller: OptionalRowId = None,
    lieu: OptionalRowId = None,
    jour: OptionalDay = None,
    vue: OptionalText = "jour",
):
    return _agenda(request, session, user, conseiller=conseiller, lieu=lieu, jour=jour, vue=vue)


@router.post("/agenda/rendez-vous/{appointment_id}/presence")
def mark(
    request: Request,
    session: SessionDep,
    user: CaseWorker,
    appointment_id: RowId,
    status: Annotated[str, Form(max_length=20)] = "",
    conseiller: ChosenId = None,
    lieu: ChosenId = None,
    jour: ChosenDay = None,
    vue: Annotated[str, Form(max_length=20)] = "jour",
):
    """Honoured / no-show / excused; the agenda comes back with what happened."""
    result = mark_attendance(
        session=session, actor=user, appointment_id=appointment_id, status=status
    )
    return _agenda(
        request,
        session,
        user,
        conseiller=conseiller,
        lieu=lieu,
        jour=jour,
        vue=vue,
        marked=result,
    )


@router.get("/agenda/absenteisme")
def no_shows(
    request: Request,
    session: SessionDep,
    user: CaseWorker,
    du: OptionalDay = None,
    au: OptionalDay = None,
    conseiller: OptionalRowId = None,
):
    today = utcnow().date()
    end = au or today
    start = du or end - timedelta(days=90)
    report = no_show_report(
        session=session, actor=user, start=start, end=end, counsellor_id=conseiller
    )
    return render(request, "booking/calendar/no_shows.html", {"report": report})


# ---- booking on behalf of a beneficiary, from the case ---------------------------------------


def _booking_page(request, panel: CaseBooking, *, errors=None, form=None, booked=None):
    context = {"booking": panel, "errors": errors or {}, "form": form or {}, "booked_id": booked}
    return render(
        request,
        "booking/calendar/book.html",
        context,
        fragment="booking/calendar/_partials/book_from_case.html",
    )


@router.get("/cases/{case_id}/rendez-vous")
def booking_panel(
    request: Request,
    session: SessionDep,
    user: CaseWorker,
    case_id: RowId,
    motif: OptionalRowId = None,
    mode: OptionalText = "",
    lieu: OptionalRowId = None,
    semaine: OptionalDay = None,
):
    """The case's appointments, and once a type and a mode are chosen the free slots of a week
    (`semaine`, any day of it; by default the week of the next free slot)."""
    panel = load_case_booking(
        session=session,
        actor=user,
        case_id=case_id,
        appointment_type_id=motif,
        mode=mode or None,
        site_id=lieu,
        week=semaine,
    )
    return _booking_page(request, panel)


# The hidden fields of the booking form, read by hand: a value altered in the page gets a
# French message in the panel (htmx swaps no 422), not the error page.
_HIDDEN_FIELDS = {"motif": OptionalRowId, "lieu": OptionalRowId, "semaine": OptionalDay}
_ALTERED = (
    "Le formulaire envoyé a été modifié ou est incomplet : choisissez à nouveau le motif, "
    "le mode et le créneau."
)


def _hidden_values(values: dict[str, str]) -> tuple[dict, dict[str, str]]:
    parsed, errors = {}, {}
    for name, kind in _HIDDEN_FIELDS.items():
        try:
            parsed[name] = parse_value(kind, values[name] or None, name=name)
        except Invalid:
            parsed[name], errors["__all__"] = None, _ALTERED
    return parsed, errors


@router.post("/cases/{case_id}/rendez-vous")
def book_from_case(
    request: Request,
    session: SessionDep,
    user: CaseWorker,
    case_id: RowId,
    motif: HiddenValue = "",
    mode: Annotated[str, Form(max_length=20)] = "",
    lieu: HiddenValue = "",
    semaine: HiddenValue = "",
    creneau: Annotated[str, Form(max_length=40)] = "",
    idempotency_key: Annotated[str, Form(max_length=80)] = "",
):
    hidden, errors = _hidden_values({"motif": motif, "lieu": lieu, "semaine": semaine})
    motif, lieu, week = hidden["motif"], hidden["lieu"], hidden["semaine"]
    choice = {"motif": motif or "", "mode": mode, "lieu": lieu or "", "creneau": creneau}
    next_slots = None
    if errors:
        panel = load_case_booking(session=session, actor=user, case_id=case_id)
        return _booking_page(request, panel, errors=errors, form=choice)
    try:
        appointment = book_for_case(
            session=session,
            actor=user,
            case_id=case_id,
            appointment_type_id=motif,
            mode=mode,
            site_id=lieu,
            start=parse_value(OptionalMoment, creneau, name="creneau"),
            idempotency_key=idempotency_key,
        )
    except booking.SlotTaken as exc:
        errors = {"creneau": exc.message}
        next_slots = exc.next_slots
    except Invalid as exc:
        errors = exc.fields
    except Conflict as exc:
        errors = {"__all__": exc.message}
    panel = load_case_booking(
        session=session,
        actor=user,
        case_id=case_id,
        appointment_type_id=motif,
        mode=mode or None,
        site_id=lieu,
        next_slots=next_slots,
        week=week,
    )
    if errors:
        return _booking_page(request, panel, errors=errors, form=choice)
    if not is_htmx(request):
        return RedirectResponse(
            f"/cases/{case_id}?section=rendez-vous#case-booking", status_code=303
        )
    return _booking_page(request, panel, booked=appointment.id)
