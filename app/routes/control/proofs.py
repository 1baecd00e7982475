"""Proof pages: the list of missing proofs, and the admin's deliverable kinds and requirements."""

from datetime import date

from fastapi import Request
from fastapi.responses import RedirectResponse
from pydantic import ValidationInfo, field_validator
from sqlmodel import SQLModel

from app.core.errors import Invalid
from app.models.bounds import OptionalDay, OptionalRowId, RowId
from app.models.catalogue import DeliverableKindEdit
from app.services.control.proof_catalogue import (
    KindWithUnits,
    create_kind,
    get_kind,
    kinds_view,
    update_kind,
)
from app.services.control.proofs import ProofFilters, missing_proofs_view
from app.web.deps import CaseWorker, SessionDep, SubmittedForm
from app.web.forms import parse_form
from app.web.rendering import render
from app.web.routing import new_router

router = new_router(include_in_schema=False)


class MissingProofFilters(SQLModel):
    """The filters of « Preuves manquantes », named as the GET form sends them."""

    site: OptionalRowId = None
    conseiller: OptionalRowId = None
    unite: OptionalRowId = None
    du: OptionalDay = None
    au: OptionalDay = None
    terminees: bool = False

    @field_validator("au")
    @classmethod
    def _not_before_start(cls, value: date | None, info: ValidationInfo) -> date | None:
        start = info.data.get("du")
        if value and start and value < start:
            raise ValueError("La fin de la période précède son début")
        return value


@router.get("/preuves-manquantes")
def missing_proofs_page(request: Request, session: SessionDep, user: CaseWorker):
    filters, errors = None, {}
    try:
        asked = parse_form(MissingProofFilters, request.query_params)
    except Invalid as exc:
        errors = exc.fields
    else:
        filters = ProofFilters(
            site_id=asked.site,
            counsellor_id=asked.conseiller,
            unit_id=asked.unite,
            started_from=asked.du,
            started_to=asked.au,
            ended_only=asked.terminees,
        )
    page = missing_proofs_view(session=session, actor=user, filters=filters)
    return render(
        request,
        "control/proofs/missing.html",
        {
            "rows": page.rows,
            "total": page.total,
            "form": dict(request.query_params),
            "errors": errors,
            "own_cases_only": page.own_cases_only,
            "sites": page.sites,
            "colleagues": page.colleagues,
            "units": page.units,
            "time_zone": page.time_zone,
        },
        fragment="control/proofs/_partials/missing_results.html",
    )


# ---- deliverable kinds (operator admin) -------------------------------------------------------

_FLAGS = ("includes_request", "includes_interactions", "includes_referrals")
_FLAGS += ("includes_action_plan", "active")
NEW = "new"


def _as_typed(row: KindWithUnits) -> dict:
    """A kind as its form would have submitted it, so that one template shows both."""
    values = {"label": row.kind.label, "extra_sections": row.kind.extra_sections}
    values |= {flag: "1" if getattr(row.kind, flag) else "" for flag in _FLAGS}
    return values | {"unit_ids": [str(unit_id) for unit_id in row.unit_ids]}


def _kinds_page(request, session, user, *, editing=None, form=None, errors=None, saved=None):
    page = kinds_view(session=session, actor=user)
    kinds = page.kinds
    return render(
        request,
        "control/proofs/kinds.html",
        {
            "kinds": kinds,
            "values": {row.kind.id: _as_typed(row) for row in kinds},
            "units": page.units,
            "required": page.required,
            "editing": editing,
            "form": form or {},
            "errors": errors or {},
            "saved": next((row.kind for row in kinds if row.kind.id == saved), None),
        },
    )


def _submitted(form) -> dict:
    """The form as typed; the unit checkboxes come as a list."""
    return {**dict(form.items()), "unit_ids": form.getlist("unit_ids")}


@router.get("/admin/livrables")
def kinds_page(
    request: Request, session: SessionDep, user: CaseWorker, enregistre: OptionalRowId = None
):
    return _kinds_page(request, session, user, saved=enregistre)


@router.post("/admin/livrables")
def add_kind(request: Request, session: SessionDep, user: CaseWorker, form: SubmittedForm):
    form = _submitted(form)
    try:
        kind = create_kind(session=session, actor=user, data=parse_form(DeliverableKindEdit, form))
    except Invalid as exc:
        return _kinds_page(request, session, user, editing=NEW, form=form, errors=exc.fields)
    return RedirectResponse(f"/admin/livrables?enregistre={kind.id}#type-{kind.id}", 303)


@router.post("/admin/livrables/{kind_id}")
def save_kind(
    request: Request, session: SessionDep, user: CaseWorker, kind_id: RowId, form: SubmittedForm
):
    get_kind(session=session, actor=user, kind_id=kind_id)  # 404 or 403 before any form error
    form = _submitted(form)
    try:
        data = parse_form(DeliverableKindEdit, form)
        update_kind(session=session, actor=user, kind_id=kind_id, data=data)
    except Invalid as exc:
        return _kinds_page(request, session, user, editing=kind_id, form=form, errors=exc.fields)
    return RedirectResponse(f"/admin/livrables?enregistre={kind_id}#type-{kind_id}", 303)
