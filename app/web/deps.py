"""Annotated dependencies: database session, current staff (cookie or Bearer), role guards, CSRF."""

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request, Security
from fastapi.openapi.models import OAuthFlowClientCredentials, OAuthFlows
from fastapi.security import OAuth2, OAuth2PasswordBearer
from sqlmodel import Session
from starlette.datastructures import FormData

from app.core.config import get_settings
from app.core.db import get_read_engine, get_session, unit_of_work
from app.core.errors import Forbidden
from app.core.security import InvalidToken, read_api_token, read_client_token, tokens_match
from app.models.api_clients import ApiClient, ApiClientScope
from app.models.nomenclatures import Role
from app.models.staff import StaffSession, StaffUser
from app.services.access.api_clients import client_in_force
from app.services.access.auth import find_session
from app.services.audit.changes import bind_actor
from app.services.deliverables.dms_feed import FeedReading
from app.services.messaging.notifications import unread_count

SESSION_COOKIE = "filrouge_session"
# A login waiting for its second factor (app/services/access/login_steps.py): sent to /login/…
# only, and never a session.
LOGIN_STEP_COOKIE = "filrouge_login_step"
ANON_CSRF_COOKIE = "filrouge_csrf"
CSRF_HEADER = "X-CSRF-Token"
CSRF_FIELD = "csrf_token"
# Said to whoever sends a form without the right token (here, and by the upload parser).
CSRF_REFUSED = "Jeton de sécurité invalide ou expiré : rechargez la page et réessayez."
_FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")

# "function" scope: commit (or roll back) before the response leaves, never after.
SessionDep = Annotated[Session, Depends(get_session, scope="function")]
# A second session, kept until the response is sent, for a body read from the database while
# it streams (the request's own ends with the endpoint). Only for reading: whoever takes it
# reads in a transaction that does not lock (app/services/reports/feed.py).
StreamingSessionDep = Annotated[Session, Depends(get_session, scope="request")]


def _reading(session: Session) -> Iterator[Session]:
    """A session on the read replica when one is configured, else the request's own: never
    for what writes, nor for what must read what the request has just written."""
    engine = get_read_engine()
    if engine is None:
        yield session
        return
    yield from unit_of_work(engine)


def get_read_session(session: SessionDep) -> Iterator[Session]:
    """For the reading work of reports, the national view and their downloads."""
    yield from _reading(session)


def get_streaming_read_session(session: StreamingSessionDep) -> Iterator[Session]:
    """As StreamingSessionDep, on the read replica when one is configured (the data feed)."""
    yield from _reading(session)


# The replica lags the primary by a moment: a report may miss the last second's bookings.
ReadSessionDep = Annotated[Session, Depends(get_read_session, scope="function")]
StreamingReadSessionDep = Annotated[Session, Depends(get_streaming_read_session, scope="request")]
oauth2_scheme = OAuth2PasswordBearer(tokenUrl="/api/v1/auth/token", auto_error=False)
# Declared on the feed's routes so that the OpenAPI document says how an API client gets its
# token; the token itself is read by oauth2_scheme (both are a Bearer header).
client_credentials_scheme = OAuth2(
    flows=OAuthFlows(
        clientCredentials=OAuthFlowClientCredentials(
            tokenUrl="/api/v1/auth/client-token",
            scopes={scope.value: scope.label for scope in ApiClientScope},
        )
    ),
    scheme_name="ApiClientCredentials",
    description="Clients d'API d'un opérateur (page « Clients d'API »)",
    auto_error=False,
)


class LoginRequired(Exception):
    """No valid browser session: pages redirect to the login form, the API answers 401."""


def current_browser_session(request: Request, session: SessionDep) -> StaffSession | None:
    token = request.cookies.get(SESSION_COOKIE)
    found = find_session(session=session, token=token) if token else None
    if found is not None and found[1].sees_cases:
        request.state.unread_notifications = unread_count(session=session, actor=found[1])
    # This thread ends the transaction it opened: the endpoint's runs in another thread.
    session.commit()
    if found is None:
        return None
    staff_session, user = found
    bind_actor(session, user)  # the author of what the request changes (the audit trail)
    # Detached, so that an error page rendered after the rollback can still read them.
    session.expunge(staff_session)
    session.expunge(user)
    request.state.staff_session = staff_session
    request.state.user = user
    return staff_session


def current_staff(
    request: Request,
    session: SessionDep,
    _browser: Annotated[StaffSession | None, Depends(current_browser_session)],
) -> StaffUser:
    user = getattr(request.state, "user", None)
    if user is None:
        raise LoginRequired()
    return user


def current_api_staff(
    session: SessionDep, token: Annotated[str | None, Depends(oauth2_scheme)]
) -> StaffUser:
    if not token:
        raise LoginRequired()
    try:
        claims = read_api_token(token)
    except InvalidToken as exc:
        if _client_row_id(token) is not None:
            raise Forbidden(CLIENT_LIMITS) from exc
        raise LoginRequired() from exc
    user = session.get(StaffUser, claims.staff_id)
    session.commit()  # as in current_browser_session: this thread ends what it began
    # A token issued before the last API logout or deactivation carries an older version.
    if user is None or not user.active or user.token_version != claims.version:
        raise LoginRequired()
    bind_actor(session, user)
    return user


# What an API client's token meets anywhere but the documents' feed and their PDFs.
CLIENT_LIMITS = "Un client d'API ne lit que le flux des documents émis et leurs PDF."
FEED_READERS = (
    "Le flux des documents est réservé aux clients d'API et aux administrateur·rices de "
    "l'opérateur."
)


def _client_row_id(token: str) -> int | None:
    """The API client a token was issued to; None for any other token."""
    try:
        return read_client_token(token)
    except InvalidToken:
        return None


@dataclass(frozen=True)
class FeedReader:
    """Who reads the documents' feed: an API client, or an operator admin with a token of
    their own; either way, one operator's documents."""

    reading: FeedReading
    client: ApiClient | None = None


# The scope a client needs to read the feed: today every client has it, a later scope may not.
FEED_SCOPE = ApiClientScope.READ_DOCUMENTS


def current_feed_reader(
    session: SessionDep,
    token: Annotated[str | None, Depends(oauth2_scheme)],
    _declared: Annotated[str | None, Security(client_credentials_scheme)],
) -> FeedReader:
    client_row_id = _client_row_id(token) if token else None
    if client_row_id is None:
        user = current_api_staff(session, token)
        if user.role != Role.OPERATOR_ADMIN or user.operator_id is None:
            raise Forbidden(FEED_READERS)
        return FeedReader(FeedReading(user.operator_id, staff=user))
    # Read on every call: a client revoked a second ago is refused now.
    client = client_in_force(session=session, client_row_id=client_row_id)
    session.commit()  # as in current_browser_session: this thread ends what it began
    if client is None:
        raise LoginRequired()
    if client.scope != FEED_SCOPE:
        raise Forbidden(CLIENT_LIMITS)
    reading = FeedReading(client.operator_id, client_name=client.name)
    return FeedReader(reading, client=client)


# Starlette's limit for one form field, unless the route says otherwise (carries_large_field).
MAX_FIELD_BYTES = 1024 * 1024


def carries_large_field(max_bytes: int) -> Callable[[Callable], Callable]:
    """Mark an endpoint whose form carries one field larger than MAX_FIELD_BYTES (a checked
    file handed back by a confirmation form). The form is read once, by verify_csrf or
    submitted_form, whichever comes first: both read it under this limit."""

    def mark(endpoint: Callable) -> Callable:
        endpoint.max_field_bytes = max_bytes  # type: ignore[attr-defined]
        return endpoint

    return mark


async def _read_form(request: Request) -> FormData:
    route = request.scope.get("route")  # matched before any dependency runs
    limit = getattr(getattr(route, "endpoint", None), "max_field_bytes", MAX_FIELD_BYTES)
    return await request.form(max_part_size=limit)


async def submitted_form(request: Request) -> FormData:
    """The posted form, read on the event loop (async I/O only) for a plain `def` endpoint."""
    return await _read_form(request)


SubmittedForm = Annotated[FormData, Depends(submitted_form)]
CurrentStaff = Annotated[StaffUser, Depends(current_staff)]
ApiStaff = Annotated[StaffUser, Depends(current_api_staff)]
ApiFeedReader = Annotated[FeedReader, Depends(current_feed_reader)]


def require_case_access(user: CurrentStaff) -> StaffUser:
    """Counsellors, managers and operator admins only: the others never see personal data."""
    if not user.sees_cases:
        raise Forbidden("Votre rôle ne donne pas accès aux dossiers.")
    return user


def require_api_case_access(user: ApiStaff) -> StaffUser:
    if not user.sees_cases:
        raise Forbidden("Votre rôle ne donne pas accès aux dossiers.")
    return user


CaseWorker = Annotated[StaffUser, Depends(require_case_access)]
ApiCaseWorker = Annotated[StaffUser, Depends(require_api_case_access)]


def require_controller(user: CurrentStaff) -> StaffUser:
    """France compétences' controllers only: the pages where official campaigns are opened."""
    if user.role != Role.CONTROLLER:
        raise Forbidden("Réservé aux contrôleur·euses de France compétences.")
    return user


Controller = Annotated[StaffUser, Depends(require_controller)]


def expected_csrf_token(request: Request) -> str | None:
    staff_session = getattr(request.state, "staff_session", None)
    if staff_session is not None:
        return staff_session.csrf_token
    # Set by the middleware in main.py on a first visit, before the cookie comes back.
    return getattr(request.state, "anon_csrf", None) or request.cookies.get(ANON_CSRF_COOKIE)


def streams_upload(endpoint: Callable) -> Callable:
    """Mark an endpoint that reads its multipart body as a stream (app/web/uploads.py).

    Reading the form here would buffer the whole file before the size limit applies, so
    verify_csrf leaves such a body alone and the upload parser checks its csrf_token field,
    which must come before the file. Every other multipart route is checked here as usual."""
    endpoint.streams_upload = True  # type: ignore[attr-defined]
    return endpoint


def _streams_upload(request: Request) -> bool:
    route = request.scope.get("route")  # matched before any dependency runs
    return getattr(getattr(route, "endpoint", None), "streams_upload", False)


async def verify_csrf(
    request: Request,
    _browser: Annotated[StaffSession | None, Depends(current_browser_session)],
) -> None:
    """Every unsafe request from a browser carries the token, in a header or a form field."""
    if request.method in ("GET", "HEAD", "OPTIONS") or request.url.path.startswith("/api/"):
        return  # the API takes Bearer tokens, never cookies, so it cannot be forged this way
    given = request.headers.get(CSRF_HEADER)
    content_type = request.headers.get("content-type", "")
    if given is None and content_type.startswith(_FORM_TYPES):
        if content_type.startswith("multipart/form-data") and _streams_upload(request):
            request.state.csrf_in_body = True  # the parser checks it before storing a byte
            return
        given = (await _read_form(request)).get(CSRF_FIELD)
    if not tokens_match(expected_csrf_token(request), given):
        raise Forbidden(CSRF_REFUSED)


def cookie_secure(request: Request) -> bool:
    """Secure cookies everywhere but on localhost (plain HTTP while developing)."""
    configured = get_settings().cookie_secure
    if configured is not None:
        return configured
    return request.url.hostname not in ("localhost", "127.0.0.1", "testserver")
