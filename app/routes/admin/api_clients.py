"""« Clients d'API »: an operator's administrators create the clients its document systems
sign in with (the secret shown once) and revoke them."""

from fastapi import Request
from fastapi.responses import RedirectResponse

from app.core.errors import Invalid
from app.models.api_clients import ApiClientCreate, ApiClientScope
from app.models.bounds import RowId
from app.services.access.api_clients import (
    create_api_client,
    list_api_clients,
    revoke_api_client,
)
from app.web.deps import CurrentStaff, SessionDep, SubmittedForm
from app.web.forms import parse_form
from app.web.rendering import render
from app.web.routing import new_router

router = new_router(include_in_schema=False)
PAGE = "/admin/clients-api"


def _page(request, session, user, *, created=None, secret=None, revoked=False, errors=None,
          form=None, status_code=200):  # fmt: skip
    context = {
        "clients": list_api_clients(session=session, actor=user),
        "scopes": ApiClientScope.choices(),
        "scope_labels": dict(ApiClientScope.choices()),
        "created": created,
        "secret": secret,
        "revoked": revoked,
        "errors": errors or {},
        "form": form or {},
    }
    return render(request, "admin/api_clients/api_clients.html", context, status_code=status_code)


@router.get(PAGE)
def api_clients_page(request: Request, session: SessionDep, user: CurrentStaff, fait: str = ""):
    return _page(request, session, user, revoked=fait == "revoque")


@router.post(PAGE)
def create_client(request: Request, session: SessionDep, user: CurrentStaff, form: SubmittedForm):
    try:
        data = parse_form(ApiClientCreate, form)
        client, secret = create_api_client(session=session, actor=user, data=data)
    except Invalid as exc:
        session.rollback()
        return _page(request, session, user, errors=exc.fields, form=dict(form), status_code=422)
    # Answered here, not after a redirect: the secret is never stored, so never shown again.
    return _page(request, session, user, created=client, secret=secret)


@router.post(PAGE + "/{client_row_id}/revoquer")
def revoke_client(session: SessionDep, user: CurrentStaff, client_row_id: RowId):
    revoke_api_client(session=session, actor=user, client_row_id=client_row_id)
    return RedirectResponse(f"{PAGE}?fait=revoque", status_code=303)
