"""« Motif de la consultation »: the page asked before reading a file outside one's own cases
(app/services/audit/outside_reads.py), then back to what was asked for."""

from typing import Annotated

from fastapi import Query, Request
from fastapi.responses import RedirectResponse

from app.core.errors import Invalid
from app.models.audit import MAX_REASON
from app.models.bounds import RowId
from app.services.audit.outside_reads import ReadReason, give_reason, reason_page
from app.web.deps import CaseWorker, SessionDep, SubmittedForm
from app.web.forms import parse_form
from app.web.outside_reads import local_target
from app.web.rendering import render
from app.web.routing import new_router

router = new_router(prefix="/beneficiaries", include_in_schema=False)

Target = Annotated[str, Query(max_length=2000)]


def _page(request, page, target, *, form=None, errors=None, status_code=200):
    return render(
        request,
        "cases/read_reasons/ask.html",
        {
            "page": page,
            "target": target,
            "max_reason": MAX_REASON,
            "form": form or {},
            "errors": errors or {},
        },
        status_code=status_code,
    )


@router.get("/{beneficiary_id}/motif")
def reason_form(
    request: Request,
    session: SessionDep,
    user: CaseWorker,
    beneficiary_id: RowId,
    suite: Target = "",
):
    target = local_target(suite or f"/beneficiaries/{beneficiary_id}")
    page = reason_page(session=session, actor=user, beneficiary_id=beneficiary_id)
    if not page.asked:  # her own file, or a reason given a moment ago
        return RedirectResponse(target, status_code=303)
    return _page(request, page, target)


@router.post("/{beneficiary_id}/motif")
def submit_reason(
    request: Request,
    session: SessionDep,
    user: CaseWorker,
    beneficiary_id: RowId,
    form: SubmittedForm,
):
    target = local_target(str(form.get("suite") or f"/beneficiaries/{beneficiary_id}"))
    typed = {"reason": str(form.get("reason") or "")}
    try:
        data = parse_form(ReadReason, typed)
    except Invalid as exc:
        page = reason_page(session=session, actor=user, beneficiary_id=beneficiary_id)
        return _page(request, page, target, form=typed, errors=exc.fields, status_code=422)
    give_reason(session=session, actor=user, beneficiary_id=beneficiary_id, data=data)
    return RedirectResponse(target, status_code=303)
