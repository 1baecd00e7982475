"""The login's second step: a code of the authenticator app (or a recovery code), or the
enrolment that the account's role requires, between the right password and the session.
These pages read the login step's cookie only; no other page does."""

from typing import Annotated
from urllib.parse import quote

from fastapi import Depends, Form, Request
from fastapi.responses import RedirectResponse

from app.core.errors import Conflict, Invalid, NotFound, TooManyAttempts
from app.models.credentials import LoginStepPurpose
from app.routes.access.auth import login_pause, open_session, safe_next
from app.services.access.login_steps import (
    TooManyWrongCodes,
    enrolment_at_login,
    find_login_step,
    finish_with_code,
    finish_with_enrolment,
    login_step_delay,
)
from app.web.client_address import client_address
from app.web.deps import LOGIN_STEP_COOKIE, SessionDep
from app.web.rendering import render
from app.web.routing import new_router

router = new_router(include_in_schema=False)

Code = Annotated[str, Form(max_length=40)]
Next = Annotated[str, Form(max_length=500)]


def step_seconds_to_wait(request: Request, session: SessionDep) -> float:
    """Run in a thread: how long this code waits, as the password of its account would."""
    seconds = login_step_delay(session=session, token=request.cookies.get(LOGIN_STEP_COOKIE))
    session.commit()  # this thread ends its read: the wait holds no transaction and no lock
    return seconds


async def wait_if_under_attack(
    seconds: Annotated[float, Depends(step_seconds_to_wait)],
    pause=Depends(login_pause),
) -> None:
    if seconds > 0:
        await pause(seconds)


def _back_to_login(next_page: str, ending: str = "expiree") -> RedirectResponse:
    target = f"/login?next={quote(safe_next(next_page), safe='/')}&connexion={ending}"
    response = RedirectResponse(target, 303)
    response.delete_cookie(LOGIN_STEP_COOKIE, path="/login")
    return response


def _ended(exc: NotFound, next_page: str) -> RedirectResponse:
    return _back_to_login(next_page, "codes" if isinstance(exc, TooManyWrongCodes) else "expiree")


def _code_page(request, next_page: str, *, errors=None, status_code=200, recovery=False):
    context = {"next": safe_next(next_page), "errors": errors or {}, "recovery_open": recovery}
    return render(request, "access/auth/second_step.html", context, status_code=status_code)


@router.get("/login/verification")
def code_page(request: Request, session: SessionDep, next: str = "/"):
    try:
        find_login_step(
            session=session,
            token=request.cookies.get(LOGIN_STEP_COOKIE),
            purpose=LoginStepPurpose.CODE,
        )
    except NotFound:
        return _back_to_login(next)
    return _code_page(request, next)


@router.post("/login/verification", dependencies=[Depends(wait_if_under_attack)])
def check_code(
    request: Request,
    session: SessionDep,
    code: Code = "",
    recovery_code: Code = "",
    next: Next = "/",
):
    try:
        done = finish_with_code(
            session=session,
            token=request.cookies.get(LOGIN_STEP_COOKIE),
            code=code,
            recovery_code=recovery_code,
            ip=client_address(request),
        )
    except NotFound as exc:  # answered, not raised: the wrong codes stay counted
        return _ended(exc, next)
    except (Invalid, TooManyAttempts) as exc:
        errors = exc.fields if isinstance(exc, Invalid) else {"code": exc.message}
        status = 429 if isinstance(exc, TooManyAttempts) else 200
        return _code_page(
            request, next, errors=errors, status_code=status, recovery=bool(recovery_code)
        )
    target = "/compte?fait=code-de-secours" if done.used_recovery_code else safe_next(next)
    return open_session(RedirectResponse(target, 303), request, done.session_token)


def _enrol_page(request, session, next_page: str, *, errors=None, status_code=200):
    try:
        user, enrolment = enrolment_at_login(
            session=session, token=request.cookies.get(LOGIN_STEP_COOKIE)
        )
    except (NotFound, Conflict):
        return _back_to_login(next_page)
    context = {
        "next": safe_next(next_page),
        "member": user,
        "enrolment": enrolment,
        "errors": errors or {},
        "action": "/login/activation",
        "at_login": True,
    }
    return render(request, "access/account/enrol.html", context, status_code=status_code)


@router.get("/login/activation")
def enrolment_page(request: Request, session: SessionDep, next: str = "/"):
    return _enrol_page(request, session, next)


@router.post("/login/activation", dependencies=[Depends(wait_if_under_attack)])
def confirm_enrolment(request: Request, session: SessionDep, code: Code = "", next: Next = "/"):
    try:
        done = finish_with_enrolment(
            session=session,
            token=request.cookies.get(LOGIN_STEP_COOKIE),
            code=code,
            ip=client_address(request),
        )
    except (NotFound, Conflict) as exc:
        return _ended(exc, next)
    except (Invalid, TooManyAttempts) as exc:
        errors = exc.fields if isinstance(exc, Invalid) else {"code": exc.message}
        status = 429 if isinstance(exc, TooManyAttempts) else 200
        return _enrol_page(request, session, next, errors=errors, status_code=status)
    # The codes are shown in this answer, once; the session starts with it.
    context = {"codes": done.recovery_codes, "next": safe_next(next), "enrolled": True}
    page = render(request, "access/account/recovery_codes.html", context)
    return open_session(page, request, done.session_token)
