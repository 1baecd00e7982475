"""The beneficiary's side of a shared document: no account, a signed link from the e-mail."""

from fastapi import Request
from fastapi.responses import RedirectResponse

from app.deps import SessionDep
from app.rendering import render
from app.routes.deliverables import pdf_download
from app.routing import new_router
from app.services.deliverables import pdf_filename, version_pdf
from app.services.document_sharing import acknowledge_online, open_shared_document

router = new_router(prefix="/documents", include_in_schema=False)


def _private(response):
    # The token is in the address: keep it out of Referer headers sent to other sites.
    response.headers["Referrer-Policy"] = "no-referrer"
    response.headers["X-Robots-Tag"] = "noindex"
    return response


@router.get("/{token}")
def read(request: Request, session: SessionDep, token: str):
    shared = open_shared_document(session=session, token=token)
    return _private(render(request, "documents/read.html", {"shared": shared, "token": token}))


@router.get("/{token}/pdf")
def download(session: SessionDep, token: str):
    shared = open_shared_document(session=session, token=token)
    filename = pdf_filename(shared.case, shared.deliverable, shared.version.number)
    return _private(pdf_download(version_pdf(shared.version), filename))


@router.post("/{token}/acknowledge")
def acknowledge(session: SessionDep, token: str):
    acknowledge_online(session=session, token=token)
    return _private(RedirectResponse(f"/documents/{token}#accuse", status_code=303))
