"""Login and logout pages, and the OAuth2 password flow for API tokens."""

import asyncio
from collections.abc import Awaitable, Callable
from typing import Annotated
from urllib.parse import urlparse

from fastapi import Depends, Form, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response
from fastapi.security import OAuth2PasswordRequestForm
from pydantic import BaseModel

from app.core.config import get_settings
from app.core.errors import Invalid, TooManyAttempts
from app.services.access.auth import end_session, sign_in, sign_in_api
from app.services.access.login_limits import login_delay, login_email
from app.services.admin.staff import end_api_tokens
from app.web.api_errors import UNAUTHENTICATED, refusal
from app.web.client_address import client_address
from app.web.deps import (
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


def _safe_next(target: str | None) -> str:
    """Only local paths, so the login form cannot send people elsewhere."""
    if (
        not target
        or not target.startswith("/")
        or target.startswith("//")
        or urlparse(target).netloc
    ):
        return "/"
    return target


@router.get("/login", include_in_schema=False)
def login_page(request: Request, next: str = "/", mot_de_passe: str = ""):
    # After a password chosen from an e-mailed link (app/routes/access/passwords.py).
    saved = mot_de_passe == "enregistre"
    return render(
        request, "access/auth/login.html", {"next": _safe_next(next), "password_saved": saved}
    )


@router.post("/login", include_in_schema=False, dependencies=[Depends(wait_if_under_attack)])
def login(
    request: Request,
    session: SessionDep,
    email: Annotated[str, Form(max_length=254)] = "",
    password: Annotated[str, Form(max_length=200)] = "",
    next: Annotated[str, Form(max_length=500)] = "/",
):
    try:
        token = sign_in(session=session, email=email, password=password, ip=client_address(request))
    except (Invalid, TooManyAttempts) as exc:
        errors = exc.fields if isinstance(exc, Invalid) else {"password": exc.message}
        return render(
            request,
            "access/auth/login.html",
            {"next": _safe_next(next), "errors": errors, "form": {"email": email}},
            status_code=exc.status_code if isinstance(exc, TooManyAttempts) else 200,
        )
    response = RedirectResponse(_safe_next(next), status_code=303)
    response.set_cookie(
        SESSION_COOKIE,
        token,
        max_age=get_settings().session_hours * 3600,
        httponly=True,
        samesite="lax",
        secure=cookie_secure(request),
    )
    return response


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
    """OAuth2 password flow: exchange a staff e-mail and password for a Bearer JWT."""
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
    end_api_tokens(session=session, user=user)
    return Response(status_code=204)
