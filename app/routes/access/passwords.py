"""Choosing a password from an e-mailed link (an invitation, a reset), and asking for a reset
from the login page (« Mot de passe oublié ? »)."""

from typing import Annotated

from fastapi import Form, Request
from fastapi.responses import RedirectResponse

from app.core.errors import Invalid, NotFound, TooManyAttempts
from app.core.passwords import MIN_LENGTH
from app.services.access.account_links import (
    RESET_SENT,
    choose_password,
    open_link,
    request_password_reset,
)
from app.web.client_address import client_address
from app.web.deps import SessionDep
from app.web.rendering import render
from app.web.routing import new_router

router = new_router(include_in_schema=False)


@router.get("/mot-de-passe-oublie")
def forgotten_password_page(request: Request):
    return render(request, "access/passwords/forgotten.html", {})


@router.post("/mot-de-passe-oublie")
def ask_for_reset(
    request: Request, session: SessionDep, email: Annotated[str, Form(max_length=254)] = ""
):
    if not email.strip():
        errors = {"email": "Indiquez l'adresse e-mail de votre compte."}
        return render(request, "access/passwords/forgotten.html", {"errors": errors})
    try:
        request_password_reset(session=session, email=email, ip=client_address(request))
    except TooManyAttempts as exc:
        # Answered, not raised: the request must stay counted.
        context = {"errors": {"email": exc.message}, "form": {"email": email}}
        return render(request, "access/passwords/forgotten.html", context, status_code=429)
    return render(request, "access/passwords/forgotten.html", {"reset_answer": RESET_SENT})


def _choose_page(request, session, token: str, *, errors=None, status_code=200):
    try:
        opened = open_link(session=session, token=token)
    except NotFound as exc:
        context = {"unusable": exc.message}
        return render(request, "access/passwords/choose.html", context, status_code=404)
    context = {
        "member": opened.user,
        "is_invitation": opened.is_invitation,
        "min_length": MIN_LENGTH,
        "errors": errors or {},
        "unusable": None,
    }
    return render(request, "access/passwords/choose.html", context, status_code=status_code)


@router.get("/compte/mot-de-passe/{token}")
def choose_password_page(request: Request, session: SessionDep, token: str):
    return _choose_page(request, session, token)


@router.post("/compte/mot-de-passe/{token}")
def save_password(
    request: Request,
    session: SessionDep,
    token: str,
    password: Annotated[str, Form(max_length=1000)] = "",
    confirmation: Annotated[str, Form(max_length=1000)] = "",
):
    try:
        choose_password(session=session, token=token, password=password, confirmation=confirmation)
    except Invalid as exc:
        return _choose_page(request, session, token, errors=exc.fields)
    except NotFound as exc:
        context = {"unusable": exc.message}
        return render(request, "access/passwords/choose.html", context, status_code=404)
    return RedirectResponse("/login?mot_de_passe=enregistre", status_code=303)
