"""Triage pages: the queue, taking a request (find the person first), and its outcome."""

from typing import Annotated

from fastapi import Query, Request
from fastapi.responses import RedirectResponse

from app.core.errors import Conflict, Invalid
from app.models.beneficiaries import BeneficiaryCreate
from app.models.bounds import OptionalRowId, RowId
from app.models.triage import TriageCreate, TriageOpenCase, TriageRedirect
from app.services.admin.operators import time_zone_of
from app.services.cases import views
from app.services.cases.triage import create_request, open_case_from_request, redirect_request
from app.web.deps import CaseWorker, SessionDep, SubmittedForm
from app.web.forms import form_errors, parse_form, parse_value
from app.web.rendering import render
from app.web.routing import new_router

router = new_router(prefix="/triage", include_in_schema=False)


@router.get("")
def triage_queue(request: Request, session: SessionDep, user: CaseWorker, mine: bool = False):
    found = views.triage_queue(session=session, actor=user, mine_only=mine)
    return render(
        request,
        "cases/triage/queue.html",
        {"items": found.items, "total": found.total, "mine": mine},
    )


def _intake_page(request, session, user, *, q="", beneficiary_id=None, form=None, errors=None):
    found = views.intake(session=session, actor=user, query=q, beneficiary_id=beneficiary_id)
    return render(
        request,
        "cases/triage/new.html",
        {
            "q": q,
            "matches": found.matches,
            "chosen": found.chosen,
            "sites": found.sites,
            "colleagues": found.colleagues,
            "form": form or {},
            "errors": errors or {},
        },
        fragment="cases/triage/_partials/matches.html",
    )


@router.get("/new")
def new_request_page(
    request: Request,
    session: SessionDep,
    user: CaseWorker,
    q: Annotated[str, Query(max_length=100)] = "",
    beneficiary_id: OptionalRowId = None,
):
    return _intake_page(request, session, user, q=q, beneficiary_id=beneficiary_id)


def _parse_intake(form, time_zone: str) -> tuple[TriageCreate, BeneficiaryCreate | None]:
    """The request, and the new person's details when none was chosen; all errors at once."""
    errors: dict[str, str] = {}
    data = person = None
    try:
        data = parse_form(TriageCreate, form, datetimes=("received_at",), time_zone=time_zone)
    except Invalid as exc:
        errors.update(exc.fields)
    if not form.get("beneficiary_id"):
        try:
            person = parse_form(BeneficiaryCreate, form)
        except Invalid as exc:
            errors.update(exc.fields)
    if errors:
        raise Invalid(errors)
    return data, person


@router.post("/new")
def take_request(request: Request, session: SessionDep, user: CaseWorker, form: SubmittedForm):
    time_zone = time_zone_of(session=session, operator_id=user.operator_id)  # of the form
    try:
        data, person = _parse_intake(form, time_zone)
        item = create_request(session=session, actor=user, data=data, person=person)
    except (Invalid, Conflict) as exc:
        try:
            chosen_id = parse_value(
                OptionalRowId, form.get("beneficiary_id"), name="beneficiary_id"
            )
        except Invalid:
            chosen_id = None  # its message is among the errors already
        return _intake_page(
            request,
            session,
            user,
            beneficiary_id=chosen_id,
            form=dict(form),
            errors=form_errors(exc),
        )
    return RedirectResponse(f"/triage/{item.id}", status_code=303)


def _request_page(request, session, user, request_id, *, form=None, errors=None):
    page = views.request_page(session=session, actor=user, request_id=request_id)
    return render(
        request,
        "cases/triage/detail.html",
        {
            "item": page.item,
            "beneficiary": page.beneficiary,
            "suggestion": page.suggestion,
            "appointments": page.appointments,
            "sites": page.sites,
            "colleagues": page.colleagues,
            "form": form or {},
            "errors": errors or {},
        },
    )


@router.get("/{request_id}")
def request_page(request: Request, session: SessionDep, user: CaseWorker, request_id: RowId):
    return _request_page(request, session, user, request_id)


@router.post("/{request_id}/open-case")
def open_case(
    request: Request, session: SessionDep, user: CaseWorker, request_id: RowId, form: SubmittedForm
):
    try:
        data = parse_form(TriageOpenCase, form)
        case = open_case_from_request(session=session, actor=user, request_id=request_id, data=data)
    except (Invalid, Conflict) as exc:
        return _request_page(
            request, session, user, request_id, form=dict(form), errors=form_errors(exc)
        )
    return RedirectResponse(f"/cases/{case.id}", status_code=303)


@router.post("/{request_id}/redirect")
def redirect(
    request: Request, session: SessionDep, user: CaseWorker, request_id: RowId, form: SubmittedForm
):
    try:
        data = parse_form(TriageRedirect, form)
        case = redirect_request(session=session, actor=user, request_id=request_id, data=data)
    except (Invalid, Conflict) as exc:
        return _request_page(
            request, session, user, request_id, form=dict(form), errors=form_errors(exc)
        )
    return RedirectResponse(f"/cases/{case.id}", status_code=303)
