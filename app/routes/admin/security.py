"""« Sécurité »: the roles of an operator that must sign in with a second factor, its
« Durée de conservation » of personal data and whether a reason is asked to read a file outside
one's own cases, and whether the file names of documents taken out carry the person's name, set by
its administrators (system administrators: any operator's)."""

from fastapi import Request
from fastapi.responses import RedirectResponse

from app.core.errors import Invalid
from app.models.bounds import Count, OptionalRowId
from app.models.nomenclatures import Role
from app.models.operators import (
    OperatorFileNames,
    OperatorOutsideReads,
    OperatorRetention,
    OperatorSecurity,
)
from app.services.admin.security import (
    save_file_names,
    save_outside_reads,
    save_retention,
    save_security,
    security_view,
)
from app.web.deps import CurrentStaff, SessionDep, SubmittedForm
from app.web.forms import parse_form, parse_value
from app.web.rendering import render
from app.web.routing import new_router

router = new_router(include_in_schema=False)


def _security_page(
    request,
    session,
    user,
    *,
    operator_id=None,
    saved=False,
    retention_saved=False,
    reasons_saved=False,
    file_names_saved=False,
    signed_out=0,
    errors=None,
    form=None,
):
    page = security_view(session=session, actor=user, operator_id=operator_id)
    operator = page.operator
    current = {
        "two_factor_counsellors": "1" if operator.two_factor_counsellors else "",
        "two_factor_managers": "1" if operator.two_factor_managers else "",
        "two_factor_admins": "1" if operator.two_factor_admins else "",
        "retention_months": str(operator.retention_months),
        "reason_for_outside_reads": "1" if operator.reason_for_outside_reads else "",
        "person_names_in_file_names": "1" if operator.person_names_in_file_names else "",
    }
    return render(
        request,
        "admin/security/security.html",
        {
            "page": page,
            "is_sysadmin": user.role == Role.SYSADMIN,
            "saved": saved,
            "retention_saved": retention_saved,
            "reasons_saved": reasons_saved,
            "file_names_saved": file_names_saved,
            "signed_out": signed_out,
            "errors": errors or {},
            "form": {**current, **(form or {})},
        },
    )


@router.get("/admin/securite")
def security_page(
    request: Request,
    session: SessionDep,
    user: CurrentStaff,
    operateur: OptionalRowId = None,
    fait: str = "",
    deconnexions: Count = 0,
):
    return _security_page(
        request,
        session,
        user,
        operator_id=operateur,
        saved=fait == "enregistre",
        retention_saved=fait == "conservation",
        reasons_saved=fait == "motif",
        file_names_saved=fait == "noms-de-fichiers",
        signed_out=deconnexions,
    )


@router.post("/admin/securite")
def save_security_setting(
    request: Request, session: SessionDep, user: CurrentStaff, form: SubmittedForm
):
    typed = {
        name: "1" if form.get(name) else ""
        for name in ("two_factor_counsellors", "two_factor_managers", "two_factor_admins")
    }
    try:
        operator_id = parse_value(
            OptionalRowId, form.get("operator_id") or None, name="operator_id"
        )
        operator, signed_out = save_security(
            session=session,
            actor=user,
            operator_id=operator_id,
            data=parse_form(OperatorSecurity, typed),
        )
    except Invalid as exc:
        chosen = form.get("operator_id")
        operator_id = int(chosen) if str(chosen or "").isdigit() else None
        return _security_page(
            request, session, user, operator_id=operator_id, errors=exc.fields, form=typed
        )
    target = f"/admin/securite?operateur={operator.id}&fait=enregistre&deconnexions={signed_out}"
    return RedirectResponse(target + "#fait", 303)


@router.post("/admin/securite/conservation")
def save_retention_setting(
    request: Request, session: SessionDep, user: CurrentStaff, form: SubmittedForm
):
    typed = {"retention_months": str(form.get("retention_months") or "").strip()}
    return _save_setting(
        request, session, user, form, typed, save_retention, OperatorRetention, "conservation"
    )


@router.post("/admin/securite/motif")
def save_outside_reads_setting(
    request: Request, session: SessionDep, user: CurrentStaff, form: SubmittedForm
):
    typed = {"reason_for_outside_reads": "1" if form.get("reason_for_outside_reads") else ""}
    return _save_setting(
        request, session, user, form, typed, save_outside_reads, OperatorOutsideReads, "motif"
    )


@router.post("/admin/securite/noms-de-fichiers")
def save_file_names_setting(
    request: Request, session: SessionDep, user: CurrentStaff, form: SubmittedForm
):
    typed = {"person_names_in_file_names": "1" if form.get("person_names_in_file_names") else ""}
    return _save_setting(
        request, session, user, form, typed, save_file_names, OperatorFileNames, "noms-de-fichiers"
    )


def _save_setting(request, session, user, form, typed: dict, save, model, section: str):
    """One of the page's settings for the chosen operator: saved, then back to its section
    (`section`, also the confirmation's name); the page again with the errors otherwise."""
    chosen = form.get("operator_id")
    try:
        operator_id = parse_value(OptionalRowId, chosen or None, name="operator_id")
        data = parse_form(model, typed)
        operator = save(session=session, actor=user, operator_id=operator_id, data=data)
    except Invalid as exc:
        operator_id = int(chosen) if str(chosen or "").isdigit() else None
        return _security_page(
            request, session, user, operator_id=operator_id, errors=exc.fields, form=typed
        )
    target = f"/admin/securite?operateur={operator.id}&fait={section}"
    return RedirectResponse(f"{target}#{section}", 303)
