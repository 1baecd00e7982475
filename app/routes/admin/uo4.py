"""« UO4 »: the actions an operator funds from UO4, recorded, edited and cancelled by its
administrators, read by its managers; the year summed by kind and quarter against the lot's
budget, and both tables as CSV or XLSX."""

from typing import Annotated

from fastapi import Request
from fastapi.responses import RedirectResponse
from sqlmodel import SQLModel

from app.core.errors import Invalid
from app.core.typography import french_number
from app.models.bounds import OptionalYear, RowId
from app.models.fields import blank_to_none
from app.models.uo4 import Uo4ActionEdit, Uo4Kind
from app.services.admin.uo4 import (
    action_view,
    cancel_action,
    create_action,
    load_action,
    restore_action,
    update_action,
)
from app.services.admin.uo4_summary import QUARTERS, TABLES, uo4_page, uo4_table
from app.web.deps import CurrentStaff, SessionDep, SubmittedForm
from app.web.exports import table_response
from app.web.forms import parse_form
from app.web.rendering import render
from app.web.routing import new_router

router = new_router(include_in_schema=False)

KINDS = Uo4Kind.choices()
# What the action's page says after each change (?fait=…).
DONE = {
    "enregistree": "Action enregistrée.",
    "modifiee": "Modifications enregistrées.",
    "annulee": "Action annulée : elle ne compte plus dans la synthèse.",
    "retablie": "Action rétablie.",
}


class Uo4Filters(SQLModel):
    """The list's filters, named as the GET form sends them."""

    annee: OptionalYear = None
    type: Annotated[Uo4Kind | None, blank_to_none] = None


def _filters(request: Request) -> tuple[dict, dict]:
    """The service's keywords for the filters asked, and the errors of those refused."""
    try:
        asked = parse_form(Uo4Filters, request.query_params)
    except Invalid as exc:
        return {}, exc.fields
    return {"year": asked.annee, "kind": asked.type.value if asked.type else None}, {}


@router.get("/admin/uo4")
def uo4_list(request: Request, session: SessionDep, user: CurrentStaff):
    asked, errors = _filters(request)
    page = uo4_page(session=session, actor=user, **asked)
    form = {"annee": str(page.year), "type": page.kind or "", **dict(request.query_params)}
    return render(
        request,
        "admin/uo4/uo4.html",
        {
            "page": page,
            "kinds": KINDS,
            "years": [(year, str(year)) for year in page.years],
            "quarters": QUARTERS,
            "form": form,
            "errors": errors,
            "query": f"annee={page.year}" + (f"&type={page.kind}" if page.kind else ""),
        },
    )


@router.get("/admin/uo4/export/{table}.{fmt}")
def uo4_export(request: Request, session: SessionDep, user: CurrentStaff, table: str, fmt: str):
    if table not in TABLES:
        raise Invalid({"table": "Tableau inconnu : synthese ou actions"})
    asked = parse_form(Uo4Filters, request.query_params)
    kind = asked.type.value if asked.type else None
    found = uo4_table(session=session, actor=user, name=table, year=asked.annee, kind=kind)
    return table_response(found, fmt)


def _decimal(value) -> str:
    """A Decimal as the form shows it: « 1234,5 », no thousands separator, no trailing zero."""
    return "" if value is None else french_number(value.normalize() + 0)


def _as_typed(page) -> dict:
    """The saved action as its form shows it."""
    action = page.action
    typed = {
        "kind": action.kind,
        "title": action.title,
        "starts_on": action.starts_on.isoformat(),
        "ends_on": action.ends_on.isoformat() if action.ends_on else "",
        "amount": f"{action.amount:.2f}".replace(".", ","),
        "site_id": str(action.site_id or ""),
        "description": action.description,
        "hours": _decimal(action.hours),
        "participants": str(action.participants or ""),
        "attendee_ids": [str(staff_id) for staff_id in page.attendees],
    }
    typed.update({f"hours_{k}": _decimal(hours) for k, hours in page.attendees.items()})
    return typed


def _submitted(form) -> dict:
    """The form as typed: the attendees ticked, each with the hours typed beside them."""
    typed = {**dict(form.items()), "attendee_ids": form.getlist("attendee_ids")}
    typed["attendees"] = [
        {"staff_id": staff_id, "hours": form.get(f"hours_{staff_id}", "")}
        for staff_id in typed["attendee_ids"]
    ]
    return typed


def _action_page(request, session, user, action_id=None, *, done="", form=None, errors=None):
    page = action_view(session=session, actor=user, action_id=action_id)
    return render(
        request,
        "admin/uo4/action.html",
        {
            "page": page,
            "kinds": KINDS,
            "done_message": DONE.get(done),
            "form": form or (_as_typed(page) if page.action else {"kind": "", "attendee_ids": []}),
            "errors": errors or {},
        },
    )


@router.get("/admin/uo4/nouvelle")
def new_action_page(request: Request, session: SessionDep, user: CurrentStaff):
    return _action_page(request, session, user)


@router.post("/admin/uo4")
def record_action(request: Request, session: SessionDep, user: CurrentStaff, form: SubmittedForm):
    typed = _submitted(form)
    try:
        action = create_action(session=session, actor=user, data=parse_form(Uo4ActionEdit, typed))
    except Invalid as exc:
        return _action_page(request, session, user, form=typed, errors=exc.fields)
    return RedirectResponse(f"/admin/uo4/{action.id}?fait=enregistree", 303)


@router.get("/admin/uo4/{action_id}")
def action_page(
    request: Request, session: SessionDep, user: CurrentStaff, action_id: RowId, fait: str = ""
):
    return _action_page(request, session, user, action_id, done=fait)


@router.post("/admin/uo4/{action_id}")
def save_action(
    request: Request, session: SessionDep, user: CurrentStaff, action_id: RowId, form: SubmittedForm
):
    load_action(session=session, actor=user, action_id=action_id)  # 404 before any form error
    typed = _submitted(form)
    try:
        data = parse_form(Uo4ActionEdit, typed)
        update_action(session=session, actor=user, action_id=action_id, data=data)
    except Invalid as exc:
        return _action_page(request, session, user, action_id, form=typed, errors=exc.fields)
    return RedirectResponse(f"/admin/uo4/{action_id}?fait=modifiee#fait", 303)


@router.post("/admin/uo4/{action_id}/annuler")
def cancel(request: Request, session: SessionDep, user: CurrentStaff, action_id: RowId):
    cancel_action(session=session, actor=user, action_id=action_id)
    return RedirectResponse(f"/admin/uo4/{action_id}?fait=annulee#fait", 303)


@router.post("/admin/uo4/{action_id}/retablir")
def restore(request: Request, session: SessionDep, user: CurrentStaff, action_id: RowId):
    restore_action(session=session, actor=user, action_id=action_id)
    return RedirectResponse(f"/admin/uo4/{action_id}?fait=retablie#fait", 303)
