"""Attachments: upload to a case (form, htmx or API) and download through a rights check."""

from typing import Annotated

from fastapi import Depends, Request
from fastapi.responses import RedirectResponse, StreamingResponse

from app.core.errors import Invalid
from app.core.files import ACCEPTED, UploadRefused
from app.models.attachments import AttachmentPublic
from app.models.bounds import RowId
from app.models.fields import collapsed_text
from app.models.staff import StaffUser
from app.services.audit import accesses
from app.services.cases.lifecycle import get_case
from app.services.deliverables.attachments import (
    MAX_DESCRIPTION,
    add_attachment,
    attachment_panel,
    list_attachments,
    open_attachment,
)
from app.web.api_errors import API_ERRORS, DOWNLOAD, OUTSIDE_READ, refusal
from app.web.deps import ApiCaseWorker, CaseWorker, SessionDep, streams_upload
from app.web.exports import attachment_disposition
from app.web.outside_reads import ReasonParam
from app.web.rendering import is_htmx, render
from app.web.routing import new_router
from app.web.uploads import Received, ReceivedUpload

PAGE = "deliverables/attachments/page.html"
FRAGMENT = "deliverables/attachments/_partials/attachments.html"
_UPLOAD_BODY = {
    "required": True,
    "content": {
        "multipart/form-data": {
            "schema": {
                "type": "object",
                "required": ["file"],
                "additionalProperties": False,  # any other part is refused (app/web/uploads.py)
                "properties": {
                    "file": {"type": "string", "format": "binary"},
                    "description": {
                        "type": "string",
                        "pattern": collapsed_text(MAX_DESCRIPTION),
                        "description": f"{MAX_DESCRIPTION} caractères au plus, une fois les "
                        "espaces répétés réduits à un",
                    },
                },
            },
            # Read from the content, whatever the part says: the types kept with a case.
            "encoding": {"file": {"contentType": ", ".join(ACCEPTED)}},
        }
    },
}
_UPLOAD_ERRORS = {
    400: refusal("Envoi illisible ou interrompu"),
    413: refusal("Fichier trop volumineux"),
    415: refusal("Type de fichier refusé (reconnu d'après son contenu)"),
    # No `fields` when the file itself is refused.
    422: refusal("Fichier manquant ou vide, archive suspecte, description trop longue"),
}

pages = new_router(include_in_schema=False)
api = new_router(prefix="/api/v1", tags=["pièces jointes"], responses=API_ERRORS)
router = new_router()


def _store(session, user: StaffUser, case_id: int, received: Received):
    """Keep the file that arrived with the case, or say why it was refused."""
    if received.refused is not None:
        raise received.refused
    return add_attachment(
        session=session,
        actor=user,
        case_id=case_id,
        upload=received.upload,
        description=received.upload.fields.get("description", ""),
    )


def _case_checked(session, user: StaffUser, case_id: int) -> None:
    get_case(session=session, actor=user, case_id=case_id)
    # Release the database (SQLite's write lock, a pooled connection) while the file arrives,
    # which takes minutes on a slow link; the row is written in a new transaction.
    session.commit()


def page_case_checked(session: SessionDep, user: CaseWorker, case_id: RowId) -> None:
    """A 404 before a byte of the file is read."""
    _case_checked(session, user, case_id)


def api_case_checked(session: SessionDep, user: ApiCaseWorker, case_id: RowId) -> None:
    _case_checked(session, user, case_id)


def _download(attachment, chunks) -> StreamingResponse:
    """Always a download, never shown inline: the browser gets no chance to run the content."""
    headers = {
        "Content-Disposition": attachment_disposition(attachment.filename),
        "Content-Length": str(attachment.size_bytes),
        "X-Content-Type-Options": "nosniff",
        "Cache-Control": "no-store",
        "Content-Security-Policy": "default-src 'none'; sandbox",
    }
    return StreamingResponse(chunks, media_type=attachment.content_type, headers=headers)


def _panel(request, session, user, case_id, *, errors=None, form=None, added=None, status=200):
    panel = attachment_panel(session=session, actor=user, case_id=case_id)
    context = {
        "attachment_panel": panel,
        "attachment_errors": errors or {},
        "attachment_form": form or {},
        "attachment_added": added,
    }
    return render(request, PAGE, context, fragment=FRAGMENT, status_code=status)


# ---- pages ------------------------------------------------------------------------------


@pages.get("/cases/{case_id}/attachments")
def attachments_page(request: Request, session: SessionDep, user: CaseWorker, case_id: RowId):
    return _panel(request, session, user, case_id)


@pages.post("/cases/{case_id}/attachments")
@streams_upload
def upload_attachment(
    request: Request,
    session: SessionDep,
    user: CaseWorker,
    case_id: RowId,
    _checked: Annotated[None, Depends(page_case_checked)],
    received: ReceivedUpload,
):
    try:
        attachment = _store(session, user, case_id, received)
    except (UploadRefused, Invalid) as exc:
        errors = exc.fields if isinstance(exc, Invalid) else {exc.field: exc.message}
        form = getattr(exc, "form", {})
        # 422 is what htmx swaps in (static/app.js); a plain post gets the page with the message.
        return _panel(request, session, user, case_id, errors=errors, form=form, status=422)
    if is_htmx(request):
        return _panel(request, session, user, case_id, added=attachment)
    return RedirectResponse(
        f"/cases/{case_id}?section=pieces-jointes#pieces-jointes", status_code=303
    )


@pages.get("/attachments/{attachment_id}/download")
def download_attachment(session: SessionDep, user: CaseWorker, attachment_id: RowId):
    opened = open_attachment(session=session, actor=user, attachment_id=attachment_id)
    accesses.attachment_read(session, actor=user, attachment_id=attachment_id)
    return _download(*opened)


# ---- API --------------------------------------------------------------------------------


@api.get("/cases/{case_id}/attachments", response_model=list[AttachmentPublic])
def get_attachments(session: SessionDep, user: ApiCaseWorker, case_id: RowId):
    """A case's attachments, newest first."""
    return list_attachments(session=session, actor=user, case_id=case_id)


@api.post(
    "/cases/{case_id}/attachments",
    response_model=AttachmentPublic,
    status_code=201,
    responses=_UPLOAD_ERRORS,
    openapi_extra={"requestBody": _UPLOAD_BODY},
)
def post_attachment(
    session: SessionDep,
    user: ApiCaseWorker,
    case_id: RowId,
    _checked: Annotated[None, Depends(api_case_checked)],
    received: ReceivedUpload,
):
    """Upload a file (field `file`, optional `description`) as multipart/form-data.

    PDF, images and office documents; the type is read from the content, not the name."""
    return _store(session, user, case_id, received)


@api.get(
    "/attachments/{attachment_id}/content",
    response_class=StreamingResponse,
    responses={
        200: {
            "description": "Le fichier, du type reconnu à son arrivée",
            "content": {
                kind: {"schema": {"type": "string", "format": "binary"}} for kind in ACCEPTED
            },
            "headers": {"Content-Disposition": DOWNLOAD},
        }
    }
    | OUTSIDE_READ,
)
def get_attachment_content(
    session: SessionDep, user: ApiCaseWorker, attachment_id: RowId, reason: ReasonParam = None
):
    """The file itself, as a download."""
    opened = open_attachment(session=session, actor=user, attachment_id=attachment_id)
    accesses.attachment_read(session, actor=user, attachment_id=attachment_id, reason=reason)
    return _download(*opened)


router.include_router(pages)
router.include_router(api)
