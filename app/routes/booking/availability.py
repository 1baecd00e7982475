"""Availability admin pages: appointment types (/admin/motifs, operator admins) and the
counsellors' openings and absences (/admin/disponibilites, managers and operator admins)."""

from datetime import date

from fastapi import Request
from fastapi.responses import RedirectResponse

from app.core.dates import WEEKDAYS
from app.core.errors import Invalid
from app.models.appointments import AbsenceEdit, AppointmentTypeEdit, OpeningSlotEdit
from app.models.bounds import OptionalRowId, RowId
from app.services.admin.operators import time_zone_of
from app.services.booking.availability import (
    create_absence,
    create_opening,
    create_type,
    delete_absence,
    delete_opening,
    get_type,
    planning,
    require_planner,
    require_type_admin,
    set_type_active,
    types_with_units,
    update_type,
)
from app.services.booking.waiting_list import offer_delay
from app.web.deps import CaseWorker, SessionDep, SubmittedForm
from app.web.forms import parse_form
from app.web.rendering import render
from app.web.routing import new_router

router = new_router(include_in_schema=False)

NEW = "new"
MODE_LABELS = {"on_site": "sur place", "phone": "téléphone", "video": "visio"}
_TYPE_FLAGS = ("online_bookable", "active")
_TYPE_NUMBERS = ("duration_minutes", "min_notice_hours", "max_horizon_days")
_TYPE_NUMBERS += ("cancel_cutoff_hours", "buffer_minutes")


def mode_labels(modes: str) -> str:
    return ", ".join(MODE_LABELS.get(mode, mode) for mode in modes.split())


def _submitted(form) -> dict:
    """The form as typed; the mode checkboxes come as a list."""
    return {**dict(form.items()), "modes": form.getlist("modes")}


# ---- appointment types (operator admin) -------------------------------------------------------


def _type_as_typed(kind) -> dict:
    values = {"name": kind.name, "description": kind.description, "modes": kind.modes.split()}
    values["booking_question"] = kind.booking_question
    values["motive"] = kind.motive or ""
    values |= {name: str(getattr(kind, name)) for name in _TYPE_NUMBERS}
    values |= {flag: "1" if getattr(kind, flag) else "" for flag in _TYPE_FLAGS}
    return values | {"unit_id": str(kind.unit_id or "")}


_TYPE_DEFAULTS = {
    "duration_minutes": "60",
    "modes": ["on_site", "phone", "video"],
    "online_bookable": "1",
    "min_notice_hours": "24",
    "max_horizon_days": "60",
    "cancel_cutoff_hours": "24",
    "buffer_minutes": "0",
    "active": "1",
}


def _types_page(request, session, user, *, editing=None, form=None, errors=None, saved=None):
    page = types_with_units(session=session, actor=user)
    types = page.types
    return render(
        request,
        "booking/availability/types.html",
        {
            "types": types,
            "values": {kind.id: _type_as_typed(kind) for kind in types},
            "defaults": _TYPE_DEFAULTS,
            "units": page.units,
            "mode_labels": mode_labels,
            "editing": editing,
            "form": form or {},
            "errors": errors or {},
            "saved": next((kind for kind in types if kind.id == saved), None),
            "waiting_offer_hours": offer_delay(session=session, actor=user),
        },
    )


@router.get("/admin/motifs")
def types_page(
    request: Request, session: SessionDep, user: CaseWorker, enregistre: OptionalRowId = None
):
    return _types_page(request, session, user, saved=enregistre)


@router.post("/admin/motifs")
def add_type(request: Request, session: SessionDep, user: CaseWorker, form: SubmittedForm):
    require_type_admin(user)  # 403 before any form error
    form = _submitted(form)
    try:
        data = parse_form(AppointmentTypeEdit, form)
        kind = create_type(session=session, actor=user, data=data)
    except Invalid as exc:
        return _types_page(request, session, user, editing=NEW, form=form, errors=exc.fields)
    return RedirectResponse(f"/admin/motifs?enregistre={kind.id}#motif-{kind.id}", 303)


@router.post("/admin/motifs/{type_id}")
def save_type(
    request: Request, session: SessionDep, user: CaseWorker, type_id: RowId, form: SubmittedForm
):
    get_type(session=session, actor=user, type_id=type_id)  # 404 or 403 before any form error
    form = _submitted(form)
    try:
        data = parse_form(AppointmentTypeEdit, form)
        update_type(session=session, actor=user, type_id=type_id, data=data)
    except Invalid as exc:
        return _types_page(request, session, user, editing=type_id, form=form, errors=exc.fields)
    return RedirectResponse(f"/admin/motifs?enregistre={type_id}#motif-{type_id}", 303)


@router.post("/admin/motifs/{type_id}/desactiver")
def deactivate_type(session: SessionDep, user: CaseWorker, type_id: RowId):
    """No longer offered; the appointments booked under it keep it."""
    set_type_active(session=session, actor=user, type_id=type_id, active=False)
    return RedirectResponse(f"/admin/motifs?enregistre={type_id}#motif-{type_id}", 303)


@router.post("/admin/motifs/{type_id}/reactiver")
def reactivate_type(session: SessionDep, user: CaseWorker, type_id: RowId):
    set_type_active(session=session, actor=user, type_id=type_id, active=True)
    return RedirectResponse(f"/admin/motifs?enregistre={type_id}#motif-{type_id}", 303)


# ---- openings and absences (managers, operator admins) ----------------------------------------

_SAVED = {
    "ouverture": "La plage d'ouverture est ajoutée.",
    "absence": "L'absence est enregistrée.",
    "supprime": "C'est supprimé.",
}


def _planning_page(request, session, user, *, editing=None, form=None, errors=None, saved=""):
    page = planning(session=session, actor=user)
    return render(
        request,
        "booking/availability/planning.html",
        {
            "openings": page.openings,
            "absences": page.absences,
            "counsellors": page.counsellors,
            "sites": page.sites,
            "weekdays": WEEKDAYS,
            "mode_labels": mode_labels,
            "time_zone": page.time_zone,
            "opening_defaults": {"valid_from": date.today().isoformat(), "modes": ["on_site"]},
            "editing": editing,
            "form": form or {},
            "errors": errors or {},
            "saved": _SAVED.get(saved, ""),
        },
    )


@router.get("/admin/disponibilites")
def planning_page(request: Request, session: SessionDep, user: CaseWorker, enregistre: str = ""):
    return _planning_page(request, session, user, saved=enregistre)


@router.post("/admin/disponibilites/ouvertures")
def add_opening(request: Request, session: SessionDep, user: CaseWorker, form: SubmittedForm):
    require_planner(user)  # 403 before any form error
    form = _submitted(form)
    try:
        data = parse_form(OpeningSlotEdit, form)
        create_opening(session=session, actor=user, data=data)
    except Invalid as exc:
        return _planning_page(
            request, session, user, editing="opening", form=form, errors=exc.fields
        )
    return RedirectResponse("/admin/disponibilites?enregistre=ouverture", 303)


@router.post("/admin/disponibilites/ouvertures/{opening_id}/supprimer")
def remove_opening(session: SessionDep, user: CaseWorker, opening_id: RowId):
    delete_opening(session=session, actor=user, opening_id=opening_id)
    return RedirectResponse("/admin/disponibilites?enregistre=supprime", 303)


@router.post("/admin/disponibilites/absences")
def add_absence(request: Request, session: SessionDep, user: CaseWorker, form: SubmittedForm):
    require_planner(user)  # 403 before any form error
    form = dict(form.items())
    time_zone = time_zone_of(session=session, operator_id=user.operator_id)  # of the form
    try:
        data = parse_form(
            AbsenceEdit, form, datetimes=("starts_at", "ends_at"), time_zone=time_zone
        )
        create_absence(session=session, actor=user, data=data)
    except Invalid as exc:
        return _planning_page(
            request, session, user, editing="absence", form=form, errors=exc.fields
        )
    return RedirectResponse("/admin/disponibilites?enregistre=absence", 303)


@router.post("/admin/disponibilites/absences/{absence_id}/supprimer")
def remove_absence(session: SessionDep, user: CaseWorker, absence_id: RowId):
    delete_absence(session=session, actor=user, absence_id=absence_id)
    return RedirectResponse("/admin/disponibilites?enregistre=supprime", 303)
