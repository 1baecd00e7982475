"""The beneficiary's personal space, without an account: /mon-espace asks for a link (sent to
the e-mail or mobile on file), /mon-espace/{token} is the space; ways in from an appointment's
and a document's page; staff close a person's links from the person's page."""

from typing import Annotated

from fastapi import Form, Request
from fastapi.responses import RedirectResponse

from app.core.errors import Invalid, NotFound, TooManyAttempts
from app.models.bounds import RowId
from app.routes.deliverables.documents import pdf_download
from app.services.admin.operator_identity import NEUTRAL_BRAND
from app.services.deliverables.sharing import shared_document_pdf
from app.services.personal_space import actions
from app.services.personal_space.contents import space_view
from app.services.personal_space.links import (
    InvalidSpaceLink,
    close_all_links,
    close_link,
    open_space,
)
from app.services.personal_space.requests import ask_for_links
from app.web.client_address import client_address
from app.web.deps import CaseWorker, SessionDep, SubmittedForm
from app.web.forms import form_errors, parse_form
from app.web.rendering import render
from app.web.routing import new_router

router = new_router(include_in_schema=False)

NOTICES = {
    "coordonnees": "Vos coordonnées sont enregistrées.",
    "consentement": "Votre choix est enregistré ; il s'applique dès maintenant.",
    "droits": "Votre demande est transmise. Vous recevrez une réponse dans un délai d'un mois.",
}


def _private(response):
    # The token is in the address: keep it out of Referer headers and search engines.
    response.headers["Referrer-Policy"] = "no-referrer"
    response.headers["X-Robots-Tag"] = "noindex"
    return response


def _page(request, name, context, status_code=200):
    # Before a link says which operator serves the person: a neutral name, not the application's.
    context.setdefault("brand", None if "operator" in context else NEUTRAL_BRAND)
    return _private(render(request, f"personal_space/{name}", context, status_code=status_code))


def _link_ended(request, exc: NotFound):
    return _page(request, "link_ended.html", {"message": exc.message}, status_code=404)


# ---- asking for a link ---------------------------------------------------------------------


@router.get("/mon-espace")
def ask_page(request: Request):
    return _page(request, "ask.html", {"form": {}, "errors": {}})


@router.post("/mon-espace")
def ask(request: Request, session: SessionDep, contact: Annotated[str, Form()] = ""):
    try:
        ask_for_links(session=session, typed=contact, ip=client_address(request))
    except Invalid as exc:
        context = {"form": {"contact": contact}, "errors": form_errors(exc)}
        return _page(request, "ask.html", context, status_code=422)
    except TooManyAttempts as exc:
        return _page(request, "too_many.html", {"message": exc.message}, status_code=429)
    return _page(request, "sent.html", {"on_file": False})


# ---- the space -----------------------------------------------------------------------------


def _space_page(request, session, space, *, notice="", errors=None, form=None, status_code=200):
    view = space_view(session=session, space=space)
    context = {
        "operator": view.operator,  # its name and logo head the page
        "view": view,
        "token": space.token,
        "notice": notice,
        "form": form or {},
        "errors": errors or {},
    }
    return _page(request, "space.html", context, status_code=status_code)


def _back(token: str, done: str, anchor: str):
    return _private(RedirectResponse(f"/mon-espace/{token}?fait={done}#{anchor}", status_code=303))


@router.get("/mon-espace/{token}")
def space(request: Request, session: SessionDep, token: str, fait: str = ""):
    try:
        opened = open_space(session=session, token=token)
    except InvalidSpaceLink as exc:
        return _link_ended(request, exc)
    return _space_page(request, session, opened, notice=NOTICES.get(fait, ""))


@router.post("/mon-espace/{token}/coordonnees")
def update_contact(request: Request, session: SessionDep, token: str, form: SubmittedForm):
    try:
        opened = open_space(session=session, token=token)
    except InvalidSpaceLink as exc:
        return _link_ended(request, exc)
    try:
        data = parse_form(actions.ContactDetails, form)
        actions.update_contact(session=session, space=opened, data=data)
    except Invalid as exc:
        typed = {key: form.get(key, "") for key in ("email", "phone")}
        return _space_page(
            request, session, opened, errors=form_errors(exc), form=typed, status_code=422
        )
    return _back(token, "coordonnees", "coordonnees")


@router.post("/mon-espace/{token}/consentements")
def choose_consent(request: Request, session: SessionDep, token: str, form: SubmittedForm):
    try:
        opened = open_space(session=session, token=token)
        data = parse_form(actions.ConsentChoice, form)
        actions.choose_consent(session=session, space=opened, data=data)
    except InvalidSpaceLink as exc:
        return _link_ended(request, exc)
    except Invalid as exc:
        return _space_page(request, session, opened, errors=form_errors(exc), status_code=422)
    return _back(token, "consentement", "contact")


@router.post("/mon-espace/{token}/droits")
def ask_right(request: Request, session: SessionDep, token: str, form: SubmittedForm):
    try:
        opened = open_space(session=session, token=token)
        data = parse_form(actions.RightChoice, form)
        actions.ask_right(session=session, space=opened, data=data)
    except InvalidSpaceLink as exc:
        return _link_ended(request, exc)
    except Invalid as exc:
        return _space_page(request, session, opened, errors=form_errors(exc), status_code=422)
    return _back(token, "droits", "donnees")


@router.post("/mon-espace/{token}/fermer")
def close(request: Request, session: SessionDep, token: str):
    try:
        close_link(session=session, token=token)
    except InvalidSpaceLink as exc:
        return _link_ended(request, exc)
    return _page(request, "closed.html", {})


@router.get("/mon-espace/{token}/documents/{version_id}")
def read_document(request: Request, session: SessionDep, token: str, version_id: RowId):
    try:
        opened = open_space(session=session, token=token)
        shared = actions.space_document(session=session, space=opened, version_id=version_id)
    except NotFound as exc:
        return _link_ended(request, exc)
    context = {
        "shared": shared,
        "token": token,
        "operator": shared.operator,
    }
    return _page(request, "document.html", context)


@router.get("/mon-espace/{token}/documents/{version_id}/pdf")
def download_document(request: Request, session: SessionDep, token: str, version_id: RowId):
    try:
        opened = open_space(session=session, token=token)
        shared = actions.space_document(session=session, space=opened, version_id=version_id)
    except NotFound as exc:
        return _link_ended(request, exc)
    return _private(pdf_download(*shared_document_pdf(shared)))


@router.post("/mon-espace/{token}/documents/{version_id}/accuse")
def acknowledge_document(request: Request, session: SessionDep, token: str, version_id: RowId):
    try:
        opened = open_space(session=session, token=token)
        actions.acknowledge_document(session=session, space=opened, version_id=version_id)
    except NotFound as exc:
        return _link_ended(request, exc)
    return _private(
        RedirectResponse(f"/mon-espace/{token}/documents/{version_id}#accuse", status_code=303)
    )


# ---- ways in from the other links ----------------------------------------------------------


def _into_space(request, send):
    try:
        went = send()
    except NotFound as exc:
        return _link_ended(request, exc)
    except TooManyAttempts as exc:
        return _page(request, "too_many.html", {"message": exc.message}, status_code=429)
    return _page(request, "sent.html", {"on_file": True, "link_went": went})


@router.post("/rendez-vous/gerer/{token}/mon-espace")
def from_appointment(request: Request, session: SessionDep, token: str):
    ip = client_address(request)
    return _into_space(
        request, lambda: actions.space_from_appointment(session=session, token=token, ip=ip)
    )


@router.post("/documents/{token}/mon-espace")
def from_document(request: Request, session: SessionDep, token: str):
    ip = client_address(request)
    return _into_space(
        request, lambda: actions.space_from_document(session=session, token=token, ip=ip)
    )


# ---- staff ---------------------------------------------------------------------------------


@router.post("/beneficiaries/{beneficiary_id}/espace-personnel/fermer")
def close_all(session: SessionDep, user: CaseWorker, beneficiary_id: RowId):
    """« Fermer les accès à l'espace personnel »: every link of the person stops working."""
    close_all_links(session=session, actor=user, beneficiary_id=beneficiary_id)
    return RedirectResponse(f"/beneficiaries/{beneficiary_id}?fait=espace#espace", status_code=303)
