"""Login and logout pages, and the OAuth2 password flow for API tokens."""

import asyncio
from collections.abc import Awaitable, Callable
from typing import Annotated
from urllib.parse import quote, urlparse

from fastapi import Depends, Form, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response
from fastapi.security import OAuth2PasswordRequestForm
from pydantic import BaseModel

from app.core.config import get_settings
from app.core.errors import Invalid, TooManyAttempts
from app.models.credentials import LoginStepPurpose
from app.services.access.auth import end_session, sign_in_api, sign_out_api
from app.services.access.login_limits import login_delay, login_email
from app.services.access.login_steps import STEP_MINUTES, sign_in
from app.web.api_errors import UNAUTHENTICATED, refusal
from app.web.client_address import client_address
from app.web.deps import (
    LOGIN_STEP_COOKIE,
    SESSION_COOKIE,
    ApiStaff,
    CurrentStaff,
    SessionDep,
    SubmittedForm,
    cookie_secure,
)
from app.web.rendering import render
from app.web.routing import new_router

router = new_router()

Pause = Callable[[float], Awaitable[None]]


def login_pause() -> Pause:
    """How a login waits; tests put a recorder here, so that none sleeps."""
    return asyncio.sleep


def seconds_to_wait(session: SessionDep, form: SubmittedForm) -> float:
    """Run in a thread: how long this login waits (login_limits.login_delay)."""
    typed = form.get("email") or form.get("username") or ""
    seconds = login_delay(session=session, email=login_email(str(typed)))
    session.commit()  # this thread ends its read: the wait holds no transaction and no lock
    return seconds


async def wait_if_under_attack(
    seconds: Annotated[float, Depends(seconds_to_wait)],
    pause: Annotated[Pause, Depends(login_pause)],
) -> None:
    """An account under attack answers slowly, to every address. The wait is awaited on the
    event loop: it holds no thread of the pool and no database connection."""
    if seconds > 0:
        await pause(seconds)


def safe_next(target: str | None) -> str:
    """Only local paths, so the login form cannot send people elsewhere."""
    if (
        not target
        or not target.startswith("/")
        or target.startswith("//")
        or urlparse(target).netloc
    ):
        return "/"
    return target


# Why the login page is shown again (?connexion=…): the second step ended before its code.
STEP_ENDINGS = {
    "expiree": "Cette connexion a expiré : saisissez de nouveau votre adresse e-mail et votre "
    "mot de passe.",
    "codes": "Trop de codes erronés : saisissez de nouveau votre adresse e-mail et votre mot "
    "de passe.",
}


@router.get("/login", include_in_schema=False)
def login_page(request: Request, next: str = "/", mot_de_passe: str = "", connexion: str = ""):
    # After a password chosen from an e-mailed link (app/routes/access/passwords.py).
    saved = mot_de_passe == "enregistre"
    context = {
        "next": safe_next(next),
        "password_saved": saved,
        "step_ended": STEP_ENDINGS.get(connexion),
    }
    return render(request, "access/auth/login.html", context)


def open_session(response: Response, request: Request, token: str) -> Response:
    """Give the browser its session cookie (and forget a login step it may hold)."""
    response.set_cookie(
        SESSION_COOKIE,
        token,
        max_age=get_settings().session_hours * 3600,
        httponly=True,
        samesite="lax",
        secure=cookie_secure(request),
    )
    response.delete_cookie(LOGIN_STEP_COOKIE, path="/login")
    return response


def _to_second_step(request: Request, signed, next_page: str) -> Response:
    page = "verification" if signed.purpose == LoginStepPurpose.CODE else "activation"
    response = RedirectResponse(f"/login/{page}?next={quote(next_page, safe='/')}", 303)
    response.set_cookie(
        LOGIN_STEP_COOKIE,
        signed.step_token,
        max_age=STEP_MINUTES * 60,
        httponly=True,
        samesite="strict",
        secure=cookie_secure(request),
        path="/login",
    )
    return response


@router.post("/login", include_in_schema=False, dependencies=[Depends(wait_if_under_attack)])
def login(
    request: Request,
    session: SessionDep,
    email: Annotated[str, Form(max_length=254)] = "",
    password: Annotated[str, Form(max_length=200)] = "",
    next: Annotated[str, Form(max_length=500)] = "/",
):
    try:
        signed = sign_in(
            session=session, email=email, password=password, ip=client_address(request)
        )
    except (Invalid, TooManyAttempts) as exc:
        errors = exc.fields if isinstance(exc, Invalid) else {"password": exc.message}
        return render(
            request,
            "access/auth/login.html",
            {"next": safe_next(next), "errors": errors, "form": {"email": email}},
            status_code=exc.status_code if isinstance(exc, TooManyAttempts) else 200,
        )
    if signed.session_token is None:
        return _to_second_step(request, signed, safe_next(next))
    return open_session(RedirectResponse(safe_next(next), 303), request, signed.session_token)


@router.post("/logout", include_in_schema=False)
def logout(request: Request, session: SessionDep, _user: CurrentStaff):
    end_session(session=session, staff_session=request.state.staff_session)
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(SESSION_COOKIE)
    return response


class TokenResponse(BaseModel):
    access_token: str
    token_type: str = "bearer"
    expires_in: int


@router.post(
    "/api/v1/auth/token",
    dependencies=[Depends(wait_if_under_attack)],
    tags=["authentification"],
    response_model=TokenResponse,
    responses={401: refusal("Identifiants incorrects"), 429: refusal("Trop de tentatives")},
)
def issue_api_token(
    request: Request, session: SessionDep, form: Annotated[OAuth2PasswordRequestForm, Depends()]
):
    """OAuth2 password flow: exchange a staff e-mail and password for a Bearer JWT.

    An account that signs in with a second factor (or whose role requires one) gives one of
    its personal API keys (« clé d'API », created on its « Mon compte » page) as the password."""
    try:
        token = sign_in_api(
            session=session, email=form.username, password=form.password, ip=client_address(request)
        )
    except (Invalid, TooManyAttempts) as exc:
        # Answered, not raised: the failed attempt must be committed for throttling to work.
        status = 429 if isinstance(exc, TooManyAttempts) else 401
        detail = (
            exc.fields.get("password", exc.message) if isinstance(exc, Invalid) else exc.message
        )
        return JSONResponse({"detail": detail}, status_code=status)
    return TokenResponse(
        access_token=token,
        expires_in=get_settings().api_token_minutes * 60,
    )


@router.post(
    "/api/v1/auth/logout",
    tags=["authentification"],
    status_code=204,
    responses=UNAUTHENTICATED,
)
def end_api_session(session: SessionDep, user: ApiStaff) -> Response:
    """Revoke every API token of the caller, this one included; a new one needs the password.

    Signing out of the web pages does not end API tokens (see the README)."""
    sign_out_api(session=session, user=user)
    return Response(status_code=204)
