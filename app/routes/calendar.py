"""Staff calendar pages: the agenda, attendance marks, no-show rates, booking from a case."""

from datetime import date, timedelta
from typing import Annotated

from fastapi import Form, Query, Request
from fastapi.responses import RedirectResponse

from app.deps import CaseWorker, SessionDep
from app.errors import Conflict, Invalid
from app.models.base import utcnow
from app.rendering import is_htmx, render
from app.routing import new_router
from app.services import booking
from app.services.calendar import (
    CaseBooking,
    book_for_case,
    load_calendar,
    load_case_booking,
    mark_attendance,
    no_show_report,
)

router = new_router(include_in_schema=False)

OptionalText = Annotated[str, Query(max_length=20)]


def _row_id(value: str) -> int | None:
    """Selects send "" for « all »; anything that is not a positive id is ignored."""
    return int(value) if value.isdigit() and 0 < int(value) < 2**31 else None


def _day(value: str) -> date | None:
    try:
        return date.fromisoformat(value) if value else None
    except ValueError:
        return None


def _agenda(request, session, user, *, conseiller="", lieu="", jour="", vue="jour", notice=""):
    view = load_calendar(
        session=session,
        actor=user,
        counsellor_id=_row_id(conseiller),
        site_id=_row_id(lieu),
        day=_day(jour),
        view=vue,
    )
    return render(
        request,
        "calendar/agenda.html",
        {"cal": view, "notice": notice},
        fragment="calendar/_partials/days.html",
    )


@router.get("/agenda")
def agenda(
    request: Request,
    session: SessionDep,
    user: CaseWorker,
    conseiller: OptionalText = "",
    lieu: OptionalText = "",
    jour: OptionalText = "",
    vue: OptionalText = "jour",
):
    return _agenda(request, session, user, conseiller=conseiller, lieu=lieu, jour=jour, vue=vue)


@router.post("/agenda/rendez-vous/{appointment_id}/presence")
def mark(
    request: Request,
    session: SessionDep,
    user: CaseWorker,
    appointment_id: int,
    status: Annotated[str, Form(max_length=20)] = "",
    conseiller: Annotated[str, Form(max_length=20)] = "",
    lieu: Annotated[str, Form(max_length=20)] = "",
    jour: Annotated[str, Form(max_length=20)] = "",
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
        notice=result.notice,
    )


@router.get("/agenda/absenteisme")
def no_shows(
    request: Request,
    session: SessionDep,
    user: CaseWorker,
    du: OptionalText = "",
    au: OptionalText = "",
):
    today = utcnow().date()
    end = _day(au) or today
    start = _day(du) or end - timedelta(days=90)
    report = no_show_report(session=session, actor=user, start=start, end=end)
    return render(request, "calendar/no_shows.html", {"report": report})


# ---- booking on behalf of a beneficiary, from the case ---------------------------------------


def _booking_page(request, panel: CaseBooking, *, errors=None, form=None, notice=""):
    return render(
        request,
        "calendar/book.html",
        {"booking": panel, "errors": errors or {}, "form": form or {}, "booking_notice": notice},
        fragment="calendar/_partials/book_from_case.html",
    )


@router.get("/cases/{case_id}/rendez-vous")
def booking_panel(
    request: Request,
    session: SessionDep,
    user: CaseWorker,
    case_id: int,
    motif: OptionalText = "",
    mode: OptionalText = "",
    lieu: OptionalText = "",
):
    """The case's appointments, and the free slots once a type and a mode are chosen."""
    panel = load_case_booking(
        session=session,
        actor=user,
        case_id=case_id,
        appointment_type_id=_row_id(motif),
        mode=mode or None,
        site_id=_row_id(lieu),
    )
    return _booking_page(request, panel)


@router.post("/cases/{case_id}/rendez-vous")
def book_from_case(
    request: Request,
    session: SessionDep,
    user: CaseWorker,
    case_id: int,
    motif: Annotated[str, Form(max_length=20)] = "",
    mode: Annotated[str, Form(max_length=20)] = "",
    lieu: Annotated[str, Form(max_length=20)] = "",
    creneau: Annotated[str, Form(max_length=40)] = "",
    idempotency_key: Annotated[str, Form(max_length=80)] = "",
):
    choice = {"motif": motif, "mode": mode, "lieu": lieu, "creneau": creneau}
    errors: dict[str, str] = {}
    next_slots = None
    try:
        appointment = book_for_case(
            session=session,
            actor=user,
            case_id=case_id,
            appointment_type_id=_row_id(motif),
            mode=mode,
            site_id=_row_id(lieu),
            start=creneau,
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
        appointment_type_id=_row_id(motif),
        mode=mode or None,
        site_id=_row_id(lieu),
        next_slots=next_slots,
    )
    if errors:
        return _booking_page(request, panel, errors=errors, form=choice)
    if not is_htmx(request):
        return RedirectResponse(f"/cases/{case_id}", status_code=303)
    return _booking_page(request, panel, notice=f"Rendez-vous {appointment.reference} réservé.")
