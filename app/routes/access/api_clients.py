"""The token endpoint of API clients (OAuth2 client credentials, RFC 6749 §4.4): a document
system exchanges its client identifier and secret, in the form or by HTTP Basic, for a
short-lived bearer token. Refusals answer as the RFC says ({"error": …}), not {"detail": …}."""

import base64
import binascii
from typing import Annotated
from urllib.parse import unquote_plus

from fastapi import Form, Request
from fastapi.responses import JSONResponse

from app.core.config import get_settings
from app.core.errors import Invalid, TooManyAttempts
from app.models.dms_feed import ClientTokenAnswer
from app.services.access.api_clients import WRONG_CLIENT, issue_client_token
from app.web.client_address import client_address
from app.web.deps import SessionDep
from app.web.routing import new_router

router = new_router()

CLIENT_TOKEN_PATH = "/api/v1/auth/client-token"
# A token, or a refusal naming a client, is never to be kept by a cache (RFC 6749 §5.1).
NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}


def _oauth_error(status: int, error: str, description: str, **headers: str) -> JSONResponse:
    body = {"error": error, "error_description": description}
    return JSONResponse(body, status_code=status, headers=NO_STORE | headers)


def _oauth_refusal(error: str, description: str) -> dict:
    example = {"error": error, "error_description": description}
    return {"description": description, "content": {"application/json": {"example": example}}}


def _basic_credentials(request: Request) -> tuple[str, str] | None:
    """The identifier and secret of an `Authorization: Basic` header (each form-encoded, RFC
    6749 §2.3.1); None without one; ValueError for one that does not read."""
    scheme, _, encoded = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        decoded = base64.b64decode(encoded.strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeError) as exc:
        raise ValueError("unreadable Basic credentials") from exc
    client_id, colon, secret = decoded.partition(":")
    if not colon:
        raise ValueError("no colon in Basic credentials")
    return unquote_plus(client_id), unquote_plus(secret)


@router.post(
    CLIENT_TOKEN_PATH,
    # No wait_if_under_attack: it counts a staff e-mail's failures; a client's attempts count
    # against the address and the identifier (rate_limits, in the service).
    tags=["authentification"],
    response_model=ClientTokenAnswer,
    responses={
        400: _oauth_refusal("unsupported_grant_type", "Seul `client_credentials` est accepté"),
        401: _oauth_refusal("invalid_client", WRONG_CLIENT),
        429: _oauth_refusal("invalid_request", "Trop de tentatives"),
    },
)
def issue_api_client_token(
    request: Request,
    session: SessionDep,
    client_id: Annotated[str | None, Form(max_length=100)] = None,
    client_secret: Annotated[str | None, Form(max_length=200)] = None,
    grant_type: Annotated[str | None, Form(max_length=100)] = None,
):
    """Un client d'API (créé par un·e administrateur·rice de l'opérateur, page « Clients
    d'API ») échange son identifiant et son secret contre un jeton Bearer de courte durée :
    dans le formulaire (`client_id`, `client_secret`) ou en HTTP Basic. Ce jeton n'ouvre que
    le flux des documents (`/api/v1/deliverable-versions`) et leurs PDF."""
    if not grant_type:  # RFC 6749 §4.4.2: the grant type is required
        return _oauth_error(
            400,
            "invalid_request",
            "Paramètre `grant_type` manquant : `client_credentials` attendu.",
        )
    if grant_type != "client_credentials":
        return _oauth_error(400, "unsupported_grant_type", "Seul `client_credentials` est accepté.")
    try:
        basic = _basic_credentials(request)
    except ValueError:
        return _refused()
    if basic and (client_id or client_secret):
        return _oauth_error(
            400, "invalid_request", "Identifiants donnés deux fois (Basic et formulaire)."
        )
    given_id, given_secret = basic or (client_id, client_secret)
    if not given_id or not given_secret:
        return _refused()
    try:
        token = issue_client_token(
            session=session,
            client_id=given_id,
            client_secret=given_secret,
            ip=client_address(request),
        )
    except TooManyAttempts as exc:
        # Answered, not raised: the attempt counted must be committed.
        return _oauth_error(429, "invalid_request", exc.message)
    except Invalid:
        return _refused()
    answer = ClientTokenAnswer(access_token=token, expires_in=get_settings().api_token_minutes * 60)
    return JSONResponse(answer.model_dump(), headers=NO_STORE)


def _refused() -> JSONResponse:
    # RFC 6749 §5.2: 401 with a challenge; Basic is the one scheme the endpoint offers.
    return _oauth_error(401, "invalid_client", WRONG_CLIENT,
                        **{"WWW-Authenticate": 'Basic realm="Fil rouge"'})  # fmt: skip
