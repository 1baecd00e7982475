"""Beneficiary pages: profile with its cases, and the profile edit form."""

from fastapi import Request
from fastapi.responses import RedirectResponse

from app.core.errors import Conflict, Invalid
from app.models.beneficiaries import BeneficiaryUpdate
from app.models.bounds import RowId
from app.models.consents import ConsentEntry
from app.services.audit import accesses
from app.services.cases import views
from app.services.cases.beneficiaries import update_beneficiary
from app.services.privacy.consents import consent_panel, record_from_page
from app.web.deps import CaseWorker, SessionDep, SubmittedForm
from app.web.forms import form_errors, parse_form
from app.web.rendering import render
from app.web.routing import new_router

router = new_router(prefix="/beneficiaries", include_in_schema=False)


def _page(
    request,
    session,
    user,
    beneficiary_id,
    *,
    form=None,
    errors=None,
    consent_form=None,
    consent_errors=None,
    consent_saved=False,
):
    page = views.beneficiary_page(session=session, actor=user, beneficiary_id=beneficiary_id)
    consents = consent_panel(session=session, actor=user, beneficiary_id=beneficiary_id)
    return render(
        request,
        "cases/beneficiaries/detail.html",
        {
            "beneficiary": page.beneficiary,
            "cases": page.cases,
            "accesses": page.accesses,
            "time_zone": page.time_zone,
            "form": form or {},
            "errors": errors or {},
            "consents": consents,
            "consent_form": consent_form or {},
            "consent_errors": consent_errors or {},
            "consent_saved": consent_saved,
        },
    )


@router.get("/{beneficiary_id}")
def beneficiary_page(
    request: Request, session: SessionDep, user: CaseWorker, beneficiary_id: RowId, fait: str = ""
):
    response = _page(request, session, user, beneficiary_id, consent_saved=fait == "consentement")
    accesses.beneficiary_read(session, actor=user, beneficiary_id=beneficiary_id)
    return response


@router.post("/{beneficiary_id}")
def edit_beneficiary(
    request: Request,
    session: SessionDep,
    user: CaseWorker,
    beneficiary_id: RowId,
    form: SubmittedForm,
):
    try:
        data = parse_form(BeneficiaryUpdate, form)
        update_beneficiary(session=session, actor=user, beneficiary_id=beneficiary_id, data=data)
    except (Invalid, Conflict) as exc:
        errors = form_errors(exc)
        return _page(request, session, user, beneficiary_id, form=dict(form), errors=errors)
    return RedirectResponse(f"/beneficiaries/{beneficiary_id}", status_code=303)


@router.post("/{beneficiary_id}/consentements")
def record_consent(
    request: Request,
    session: SessionDep,
    user: CaseWorker,
    beneficiary_id: RowId,
    form: SubmittedForm,
):
    """An agreement or a withdrawal the person gave the counsellor, recorded from now."""
    try:
        data = parse_form(ConsentEntry, form)
        record_from_page(session=session, actor=user, beneficiary_id=beneficiary_id, data=data)
    except Invalid as exc:
        return _page(
            request,
            session,
            user,
            beneficiary_id,
            consent_form=dict(form),
            consent_errors=form_errors(exc),
        )
    return RedirectResponse(
        f"/beneficiaries/{beneficiary_id}?fait=consentement#consentements", status_code=303
    )
