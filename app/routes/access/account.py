"""« Mon compte »: the signed-in person's own account — enrolling an authenticator app,
recovery codes, turning two-factor sign-in off where the role allows it, personal API keys."""

from fastapi import Request
from fastapi.responses import RedirectResponse

from app.core.errors import Conflict, Invalid, TooManyAttempts
from app.models.bounds import RowId
from app.models.credentials import ApiKeyCreate
from app.services.access.api_keys import create_api_key, revoke_api_key
from app.services.access.two_factor import (
    confirm_enrolment,
    enrolment,
    regenerate_recovery_codes,
    turn_off,
)
from app.services.access.views import account_view
from app.web.client_address import client_address
from app.web.deps import CurrentStaff, SessionDep, SubmittedForm
from app.web.forms import parse_form
from app.web.rendering import render
from app.web.routing import new_router

router = new_router(include_in_schema=False)

# What the page says after each action (?fait=…).
DONE = {
    "desactivee": "Double authentification désactivée.",
    "cle-revoquee": "Clé d'API révoquée : elle ne donne plus de jeton.",
}


def _account_page(
    request, session, user, *, done="", errors=None, form=None, status_code=200, **extra
):
    context = {
        "page": account_view(session=session, user=user),
        "done_message": DONE.get(done),
        "used_recovery_code": done == "code-de-secours",
        "errors": errors or {},
        "form": form or {},
        "new_key": None,
        **extra,
    }
    return render(request, "access/account/account.html", context, status_code=status_code)


def _refused(request, session, user, exc, prefix: str, form=None):
    """The account page again, the refusal by the field of the form that was sent."""
    if isinstance(exc, Invalid):
        errors = {f"{prefix}_{name}": message for name, message in exc.fields.items()}
    else:
        errors = {f"{prefix}_code": exc.message}
    status = 429 if isinstance(exc, TooManyAttempts) else 200
    return _account_page(request, session, user, errors=errors, form=form, status_code=status)


def _codes_page(request, codes: list[str], *, enrolled: bool):
    context = {"codes": codes, "enrolled": enrolled, "next": "/compte"}
    return render(request, "access/account/recovery_codes.html", context)


@router.get("/compte")
def account_page(request: Request, session: SessionDep, user: CurrentStaff, fait: str = ""):
    return _account_page(request, session, user, done=fait)


def _enrol_page(request, session, user, *, errors=None):
    try:
        found = enrolment(session=session, user=user)
    except Conflict:
        return RedirectResponse("/compte#double-authentification", 303)
    context = {
        "enrolment": found,
        "errors": errors or {},
        "action": "/compte/double-authentification",
        "at_login": False,
        "member": user,
    }
    return render(request, "access/account/enrol.html", context)


@router.get("/compte/double-authentification")
def enrolment_page(request: Request, session: SessionDep, user: CurrentStaff):
    return _enrol_page(request, session, user)


@router.post("/compte/double-authentification")
def confirm_own_enrolment(
    request: Request, session: SessionDep, user: CurrentStaff, form: SubmittedForm
):
    try:
        codes = confirm_enrolment(
            session=session, user=user, code=str(form.get("code", "")), ip=client_address(request)
        )
    except Conflict:
        return RedirectResponse("/compte#double-authentification", 303)
    except (Invalid, TooManyAttempts) as exc:  # answered, not raised: the attempt stays counted
        errors = exc.fields if isinstance(exc, Invalid) else {"code": exc.message}
        return _enrol_page(request, session, user, errors=errors)
    return _codes_page(request, codes, enrolled=True)


@router.post("/compte/codes-de-secours")
def new_recovery_codes(
    request: Request, session: SessionDep, user: CurrentStaff, form: SubmittedForm
):
    try:
        codes = regenerate_recovery_codes(
            session=session,
            user=user,
            code=str(form.get("codes_code", "")),
            ip=client_address(request),
        )
    except (Invalid, TooManyAttempts) as exc:
        return _refused(request, session, user, exc, "codes")
    return _codes_page(request, codes, enrolled=False)


@router.post("/compte/double-authentification/desactiver")
def turn_off_second_factor(
    request: Request, session: SessionDep, user: CurrentStaff, form: SubmittedForm
):
    try:
        turn_off(
            session=session,
            user=user,
            code=str(form.get("off_code", "")),
            ip=client_address(request),
        )
    except (Invalid, TooManyAttempts) as exc:
        return _refused(request, session, user, exc, "off")
    return RedirectResponse("/compte?fait=desactivee#fait", 303)


@router.post("/compte/cles-api")
def new_api_key(request: Request, session: SessionDep, user: CurrentStaff, form: SubmittedForm):
    typed = {"name": form.get("key_name", ""), "code": form.get("key_code", "")}
    try:
        row, key = create_api_key(
            session=session,
            user=user,
            data=parse_form(ApiKeyCreate, typed),
            ip=client_address(request),
        )
    except (Invalid, TooManyAttempts) as exc:
        return _refused(request, session, user, exc, "key", form={"key_name": typed["name"]})
    return _account_page(request, session, user, new_key=key, new_key_name=row.name)


@router.post("/compte/cles-api/{key_id}/revoquer")
def end_api_key(request: Request, session: SessionDep, user: CurrentStaff, key_id: RowId):
    revoke_api_key(session=session, user=user, key_id=key_id)
    return RedirectResponse("/compte?fait=cle-revoquee#cles", 303)
