"""The beneficiary's side of a shared document: no account, a signed link from the e-mail."""

from fastapi import Request
from fastapi.responses import RedirectResponse

from app.routes.deliverables.documents import pdf_download
from app.services.admin.operator_identity import NEUTRAL_BRAND
from app.services.deliverables.sharing import (
    InvalidLink,
    acknowledge_online,
    open_shared_document,
    shared_pdf,
)
from app.web.deps import SessionDep
from app.web.rendering import render
from app.web.routing import new_router

router = new_router(prefix="/documents", include_in_schema=False)


def _private(response):
    # The token is in the address: keep it out of Referer headers sent to other sites.
    response.headers["Referrer-Policy"] = "no-referrer"
    response.headers["X-Robots-Tag"] = "noindex"
    return response


def _link_ended(request: Request, exc: InvalidLink):
    """Said to the beneficiary, who has no account: what to do, not the staff's error page."""
    context = {"message": exc.message, "status": exc.status_code, "brand": NEUTRAL_BRAND}
    return _private(
        render(request, "deliverables/shared/link_ended.html", context, status_code=exc.status_code)
    )


@router.get("/{token}")
def read(request: Request, session: SessionDep, token: str):
    try:
        shared = open_shared_document(session=session, token=token)
    except InvalidLink as exc:
        return _link_ended(request, exc)
    return _private(
        render(
            request,
            "deliverables/shared/read.html",
            {"shared": shared, "token": token, "operator": shared.operator},
        )
    )


@router.get("/{token}/pdf")
def download(request: Request, session: SessionDep, token: str):
    try:
        pdf, filename = shared_pdf(session=session, token=token)
    except InvalidLink as exc:
        return _link_ended(request, exc)
    return _private(pdf_download(pdf, filename))


@router.post("/{token}/acknowledge")
def acknowledge(request: Request, session: SessionDep, token: str):
    try:
        acknowledge_online(session=session, token=token)
    except InvalidLink as exc:
        return _link_ended(request, exc)
    return _private(RedirectResponse(f"/documents/{token}#accuse", status_code=303))
