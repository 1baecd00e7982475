"""« Télécharger le dossier »: the page listing what a case's ZIP holds, where the counsellor
chooses the attachments, and the ZIP itself (app/services/deliverables/case_file*.py).

The form is sent by GET, as every export with personal data here (its purpose in the query):
the download follows at once, and the browser's back button keeps the page as it was."""

from pathlib import Path

from fastapi import Request
from fastapi.responses import StreamingResponse
from starlette.datastructures import QueryParams

from app.core.errors import Invalid
from app.core.zip_entries import HashMismatch, StoredFileMissing
from app.models.bounds import RowId
from app.services.audit import accesses
from app.services.deliverables.case_file import CaseFileRequest, case_file, case_file_case
from app.services.deliverables.case_file_archive import BuiltCaseFile, export_case_file
from app.web.deps import CaseWorker, SessionDep
from app.web.exports import zip_download
from app.web.forms import form_errors, parse_form
from app.web.rendering import render
from app.web.routing import new_router

router = new_router(prefix="/cases", include_in_schema=False)


def _page(request, session, user, case_id, *, form=None, errors=None, status_code=200):
    """The page, its rights and reason checked first (case_file), then recorded as a read."""
    file = case_file(session=session, actor=user, case_id=case_id)
    form = form or {}
    context = {
        "file": file,
        "chosen": {str(value) for value in form.get("pieces", [])},
        "form": form,
        "errors": errors or {},
    }
    response = render(
        request, "deliverables/case_file/case_file.html", context, status_code=status_code
    )
    accesses.case_file_read(session, actor=user, case_id=case_id)
    return response


def _typed(query: QueryParams) -> dict:
    """The form as sent: its single fields, and every attachment ticked."""
    return {**dict(query.items()), "pieces": query.getlist("pieces")}


@router.get("/{case_id}/dossier")
def case_file_page(request: Request, session: SessionDep, user: CaseWorker, case_id: RowId):
    """What the ZIP will hold; the attachments to choose, none ticked (see the template)."""
    return _page(request, session, user, case_id)


@router.get("/{case_id}/dossier.zip")
def case_file_download(request: Request, session: SessionDep, user: CaseWorker, case_id: RowId):
    """The ZIP, built now and streamed; the page again with what is wrong otherwise. Who may,
    and the reason of a read outside one's cases, are checked before the form is even read."""
    case_file_case(session=session, actor=user, case_id=case_id)
    typed = _typed(request.query_params)
    try:
        choice = parse_form(CaseFileRequest, typed)
        built = export_case_file(session=session, actor=user, case_id=case_id, request=choice)
    except (Invalid, HashMismatch, StoredFileMissing) as exc:
        errors = form_errors(exc)
        return _page(
            request, session, user, case_id, form=typed, errors=errors, status_code=exc.status_code
        )
    return scratch_file_download(built)


def scratch_file_download(built: BuiltCaseFile) -> StreamingResponse:
    """Stream a ZIP built in a scratch file, then forget it. Its name is removed at once: the
    bytes stay readable through the open handle and the space is freed when the handle closes,
    at the end of the download or when the browser goes away — nothing is left to clean up."""
    handle = built.path.open("rb")
    Path(built.path).unlink()
    return zip_download(handle, filename=built.filename, size=built.size)
