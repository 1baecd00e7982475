"""The token endpoint of API clients (OAuth2 client credentials): a document system exchanges
its client identifier and secret for a short-lived bearer token."""

from typing import Annotated

from fastapi import Form
from fastapi.responses import JSONResponse

from app.core.config import get_settings
from app.core.errors import Invalid
from app.models.dms_feed import ClientTokenAnswer
from app.services.access.api_clients import issue_client_token
from app.web.api_errors import refusal
from app.web.deps import SessionDep
from app.web.routing import new_router

router = new_router()


@router.post(
    "/api/v1/auth/client-token",
    tags=["authentification"],
    response_model=ClientTokenAnswer,
    responses={401: refusal("Identifiant ou secret incorrect, ou client révoqué")},
)
def issue_api_client_token(
    session: SessionDep,
    client_id: Annotated[str, Form(min_length=1, max_length=100)],
    client_secret: Annotated[str, Form(min_length=1, max_length=200)],
    grant_type: Annotated[str, Form(pattern="^client_credentials$")] = "client_credentials",
):
    """Un client d'API (créé par un·e administrateur·rice de l'opérateur, page « Clients
    d'API ») échange son identifiant et son secret contre un jeton Bearer de courte durée.
    Ce jeton n'ouvre que le flux des documents (`/api/v1/deliverable-versions`) et leurs PDF."""
    try:
        token = issue_client_token(
            session=session, client_id=client_id, client_secret=client_secret
        )
    except Invalid as exc:
        detail = exc.fields.get("client_secret", exc.message)
        return JSONResponse({"detail": detail}, status_code=401)
    return ClientTokenAnswer(access_token=token, expires_in=get_settings().api_token_minutes * 60)
