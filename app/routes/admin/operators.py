"""« Opérateurs »: the system administrators open an operator, then invite its administrator
from « Équipe »."""

from fastapi import Request
from fastapi.responses import RedirectResponse

from app.core.errors import Invalid
from app.models.bounds import OptionalRowId
from app.models.nomenclatures import REGIONS
from app.models.operators import OperatorCreate
from app.services.admin.operators import open_operator, operators_view
from app.web.deps import CurrentStaff, SessionDep, SubmittedForm
from app.web.forms import parse_form
from app.web.rendering import render
from app.web.routing import new_router

router = new_router(include_in_schema=False)
REGION_CHOICES = [(region.insee, region.label) for region in REGIONS]


def _page(request, session, user, *, opened=None, form=None, errors=None):
    lines = operators_view(session=session, actor=user)
    return render(
        request,
        "admin/operators/operators.html",
        {
            "lines": lines,
            "opened": next((line for line in lines if line.operator.id == opened), None),
            "regions": REGION_CHOICES,
            "form": form or {},
            "errors": errors or {},
        },
    )


@router.get("/admin/operateurs")
def operators_page(
    request: Request, session: SessionDep, user: CurrentStaff, ouvert: OptionalRowId = None
):
    return _page(request, session, user, opened=ouvert)


@router.post("/admin/operateurs")
def open_operator_form(
    request: Request, session: SessionDep, user: CurrentStaff, form: SubmittedForm
):
    try:
        operator = open_operator(session=session, actor=user, data=parse_form(OperatorCreate, form))
    except Invalid as exc:
        return _page(request, session, user, form=dict(form), errors=exc.fields)
    return RedirectResponse(f"/admin/operateurs?ouvert={operator.id}#fait", 303)
