"""Beneficiary pages: profile with its cases, and the profile edit form."""

from fastapi import Request
from fastapi.responses import RedirectResponse

from app.core.errors import Conflict, Invalid
from app.models.beneficiaries import BeneficiaryUpdate
from app.models.bounds import RowId
from app.services.audit import accesses
from app.services.cases import views
from app.services.cases.beneficiaries import update_beneficiary
from app.web.deps import CaseWorker, SessionDep, SubmittedForm
from app.web.forms import form_errors, parse_form
from app.web.rendering import render
from app.web.routing import new_router

router = new_router(prefix="/beneficiaries", include_in_schema=False)


def _page(request, session, user, beneficiary_id, *, form=None, errors=None, status_code=200):
    page = views.beneficiary_page(session=session, actor=user, beneficiary_id=beneficiary_id)
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
        },
        status_code=status_code,
    )


@router.get("/{beneficiary_id}")
def beneficiary_page(
    request: Request, session: SessionDep, user: CaseWorker, beneficiary_id: RowId
):
    response = _page(request, session, user, beneficiary_id)
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
