"""« Protection des données »: the controller's and DPO's details (operator admins) and the
record of processing activities (article 30), as a page and as a CSV or XLSX export."""

from typing import Literal

from fastapi import Request
from fastapi.responses import RedirectResponse

from app.core.errors import Invalid
from app.models.bounds import OptionalRowId
from app.models.nomenclatures import Role
from app.models.operators import OperatorPrivacy
from app.services.privacy.register import register_table, register_view, save_privacy_settings
from app.web.deps import CurrentStaff, SessionDep, SubmittedForm
from app.web.exports import table_response
from app.web.forms import parse_form, parse_value
from app.web.rendering import render
from app.web.routing import new_router

router = new_router(include_in_schema=False)
FIELDS = ("legal_name", "postal_address", "dpo_email", "dpo_address")


def _page(request, session, user, operator_id, *, saved=False, errors=None, form=None):
    page = register_view(session=session, actor=user, operator_id=operator_id)
    current = {name: getattr(page.operator, name) for name in FIELDS}
    return render(
        request,
        "admin/privacy/privacy.html",
        {
            "page": page,
            "may_edit": user.role in (Role.OPERATOR_ADMIN, Role.SYSADMIN),
            "is_sysadmin": user.role == Role.SYSADMIN,
            "saved": saved,
            "errors": errors or {},
            "form": {**current, **(form or {})},
        },
    )


@router.get("/admin/protection-donnees")
def privacy_page(
    request: Request,
    session: SessionDep,
    user: CurrentStaff,
    operateur: OptionalRowId = None,
    fait: str = "",
):
    return _page(request, session, user, operateur, saved=fait == "enregistre")


@router.post("/admin/protection-donnees")
def save_privacy(request: Request, session: SessionDep, user: CurrentStaff, form: SubmittedForm):
    typed = {name: str(form.get(name) or "") for name in FIELDS}
    chosen = form.get("operator_id")
    try:
        operator_id = parse_value(OptionalRowId, chosen or None, name="operator_id")
        operator = save_privacy_settings(
            session=session,
            actor=user,
            operator_id=operator_id,
            data=parse_form(OperatorPrivacy, typed),
        )
    except Invalid as exc:
        operator_id = int(chosen) if str(chosen or "").isdigit() else None
        return _page(request, session, user, operator_id, errors=exc.fields, form=typed)
    target = f"/admin/protection-donnees?operateur={operator.id}&fait=enregistre"
    return RedirectResponse(target + "#fait", 303)


@router.get("/admin/protection-donnees/registre.{fmt}")
def register_export(
    session: SessionDep,
    user: CurrentStaff,
    fmt: Literal["csv", "xlsx"],
    operateur: OptionalRowId = None,
):
    page = register_view(session=session, actor=user, operator_id=operateur)
    return table_response(register_table(page.operator), fmt)
