"""Deliverables for staff: draft from the case, edit inline (saved as you go), issue, share,
download any version — and the same through /api/v1."""

from typing import Annotated

from fastapi import Depends, Request
from fastapi.responses import RedirectResponse, Response

from app.core.errors import Conflict, Invalid
from app.core.files import UploadRefused
from app.models.base import utcnow
from app.models.beneficiaries import Beneficiary
from app.models.bounds import RowId, VersionNumber
from app.models.cases import Case
from app.models.catalogue import DeliverableKind
from app.models.deliverables import (
    Deliverable,
    DeliverableDraft,
    DeliverablePublic,
    DeliverableVersion,
    DeliverableVersionPublic,
)
from app.routes.cases.api import API_ERRORS
from app.routes.deliverables.attachments import attachment_disposition
from app.services.cases.lifecycle import case_time_zone
from app.services.deliverables import documents as service
from app.services.deliverables.action_plan import list_steps
from app.services.deliverables.attachments import add_attachment
from app.services.deliverables.pdf import PdfUnavailable
from app.services.deliverables.sharing import (
    link_revokers,
    record_signed_scan,
    revoke_link,
    share_version,
)
from app.web.deps import ApiCaseWorker, CaseWorker, SessionDep, SubmittedForm, streams_upload
from app.web.forms import form_errors, parse_form
from app.web.rendering import is_htmx, render
from app.web.routing import new_router
from app.web.uploads import ReceivedUpload

router = new_router(include_in_schema=False)
api_router = new_router(prefix="/api/v1", tags=["livrables"], responses=API_ERRORS)


# ---- pages --------------------------------------------------------------------------------


def _page(request, session, user, deliverable_id, *, errors=None, form=None, status_code=200):
    deliverable = service.get_deliverable(
        session=session, actor=user, deliverable_id=deliverable_id
    )
    case = session.get(Case, deliverable.case_id)
    versions = service.versions_by_deliverable(session, [deliverable.id])[deliverable.id]
    messages = service.sharing_messages(session, versions)
    steps = (
        list_steps(session=session, actor=user, case_id=case.id)
        if deliverable.includes_action_plan
        else []
    )
    return render(
        request,
        "deliverables/documents/edit.html",
        {
            "deliverable": deliverable,
            "kind": session.get(DeliverableKind, deliverable.kind_id),
            "case": case,
            "beneficiary": session.get(Beneficiary, case.beneficiary_id),
            "versions": versions,
            "messages": messages,
            "revokers": link_revokers(session, versions),
            "steps": steps,
            "tz": case_time_zone(session, case),
            "errors": errors or {},
            "form": form or {},
        },
        status_code=status_code,
    )


def _act(request, form, session, user, deliverable_id, perform):
    """Run one action in a savepoint; show the page with the error, or come back to it."""
    try:
        with session.begin_nested():
            perform(form)
    except (Invalid, Conflict, PdfUnavailable) as exc:
        errors = form_errors(exc)
        return _page(request, session, user, deliverable_id, errors=errors, form=dict(form))
    return RedirectResponse(f"/deliverables/{deliverable_id}", status_code=303)


@router.post("/cases/{case_id}/deliverables")
def draft(
    request: Request, session: SessionDep, user: CaseWorker, case_id: RowId, form: SubmittedForm
):
    data = parse_form(DeliverableDraft, form)
    deliverable = service.start_draft(session=session, actor=user, case_id=case_id, data=data)
    return RedirectResponse(f"/deliverables/{deliverable.id}", status_code=303)


@router.get("/deliverables/{deliverable_id}")
def edit_page(request: Request, session: SessionDep, user: CaseWorker, deliverable_id: RowId):
    return _page(request, session, user, deliverable_id)


def _section_bodies(form) -> dict[str, str]:
    prefix = "section-"
    return {k[len(prefix) :]: str(v) for k, v in form.items() if k.startswith(prefix)}


@router.post("/deliverables/{deliverable_id}/draft")
def save(
    request: Request,
    session: SessionDep,
    user: CaseWorker,
    deliverable_id: RowId,
    form: SubmittedForm,
):
    """Autosave (htmx answers with the save status) or plain save (back to the page)."""
    try:
        with session.begin_nested():
            deliverable = service.save_draft(
                session=session,
                actor=user,
                deliverable_id=deliverable_id,
                bodies=_section_bodies(form),
            )
    except (Invalid, Conflict) as exc:
        errors = form_errors(exc)
        if not is_htmx(request):
            return _page(request, session, user, deliverable_id, errors=errors, form=dict(form))
        return render(
            request,
            "deliverables/documents/_partials/draft_status.html",
            {"saved_at": None, "problem": next(iter(errors.values())), "tz": None},
        )
    if not is_htmx(request):
        return RedirectResponse(f"/deliverables/{deliverable_id}", status_code=303)
    case = session.get(Case, deliverable.case_id)
    return render(
        request,
        "deliverables/documents/_partials/draft_status.html",
        {
            "saved_at": utcnow(),
            "problem": None,
            "tz": case_time_zone(session, case),
            "deliverable": deliverable,
        },
    )


@router.post("/deliverables/{deliverable_id}/issue")
def issue(
    request: Request,
    session: SessionDep,
    user: CaseWorker,
    deliverable_id: RowId,
    form: SubmittedForm,
):
    def perform(form):
        bodies = _section_bodies(form)
        if bodies:  # the issue button submits the editor: keep what was typed last
            service.save_draft(
                session=session, actor=user, deliverable_id=deliverable_id, bodies=bodies
            )
        service.issue_deliverable(session=session, actor=user, deliverable_id=deliverable_id)

    return _act(request, form, session, user, deliverable_id, perform)


@router.post("/deliverables/{deliverable_id}/versions/{number}/share")
def share(
    request: Request,
    session: SessionDep,
    user: CaseWorker,
    deliverable_id: RowId,
    number: VersionNumber,
    form: SubmittedForm,
):
    def perform(_form):
        share_version(session=session, actor=user, deliverable_id=deliverable_id, number=number)

    return _act(request, form, session, user, deliverable_id, perform)


@router.post("/deliverables/{deliverable_id}/versions/{number}/revoke-link")
def revoke(
    request: Request,
    session: SessionDep,
    user: CaseWorker,
    deliverable_id: RowId,
    number: VersionNumber,
    form: SubmittedForm,
):
    def perform(_form):
        revoke_link(session=session, actor=user, deliverable_id=deliverable_id, number=number)

    return _act(request, form, session, user, deliverable_id, perform)


def scanned_version(
    session: SessionDep, user: CaseWorker, deliverable_id: RowId, number: VersionNumber
) -> DeliverableVersion:
    """The version a signed scan is for: a 404 before a byte of the file is read."""
    version = service.get_version(
        session=session, actor=user, deliverable_id=deliverable_id, number=number
    )
    session.commit()  # release the database while the file streams in (see routes/attachments)
    return version


@router.post("/deliverables/{deliverable_id}/versions/{number}/scan")
@streams_upload
def signed_scan(
    request: Request,
    session: SessionDep,
    user: CaseWorker,
    deliverable_id: RowId,
    number: VersionNumber,
    version: Annotated[DeliverableVersion, Depends(scanned_version)],
    received: ReceivedUpload,
):
    """The paper copy the beneficiary signed, scanned: kept with the case, it acknowledges."""
    deliverable = session.get(Deliverable, version.deliverable_id)
    if version.acknowledged_at is not None:  # refuse without storing anything
        errors = {"__all__": "Le bénéficiaire a déjà pris connaissance de cette version."}
        return _page(request, session, user, deliverable_id, errors=errors, status_code=409)
    try:
        if received.refused is not None:
            raise received.refused
        with session.begin_nested():
            attachment = add_attachment(
                session=session,
                actor=user,
                case_id=deliverable.case_id,
                upload=received.upload,
                description=f"Exemplaire signé : {deliverable.title}, version {number}",
            )
            record_signed_scan(
                session=session,
                actor=user,
                deliverable_id=deliverable_id,
                number=number,
                attachment=attachment,
            )
    except (UploadRefused, Invalid, Conflict) as exc:
        message = exc.fields.get("file", exc.message) if isinstance(exc, Invalid) else exc.message
        errors = {f"scan-{number}": message}
        return _page(request, session, user, deliverable_id, errors=errors, status_code=422)
    return RedirectResponse(f"/deliverables/{deliverable_id}", status_code=303)


@router.get("/deliverables/{deliverable_id}/versions/{number}/pdf")
def download(session: SessionDep, user: CaseWorker, deliverable_id: RowId, number: VersionNumber):
    return _pdf_response(session, user, deliverable_id, number)


def _pdf_response(session, user, deliverable_id: int, number: int) -> Response:
    version = service.get_version(
        session=session, actor=user, deliverable_id=deliverable_id, number=number
    )
    deliverable = service.get_deliverable(
        session=session, actor=user, deliverable_id=deliverable_id
    )
    case = session.get(Case, deliverable.case_id)
    return pdf_download(
        service.version_pdf(version), service.pdf_filename(case, deliverable, number)
    )


def pdf_download(pdf: bytes, filename: str) -> Response:
    """A stored PDF as a download: never rendered inline from our origin, never cached."""
    return Response(
        pdf,
        media_type="application/pdf",
        headers={
            "Content-Disposition": attachment_disposition(filename),
            "X-Content-Type-Options": "nosniff",
            "Cache-Control": "no-store",
        },
    )


# ---- API ----------------------------------------------------------------------------------


def _public(session, deliverable, versions) -> DeliverablePublic:
    kind = session.get(DeliverableKind, deliverable.kind_id)
    return DeliverablePublic.model_validate(
        {
            **deliverable.model_dump(),
            "kind_code": kind.code,
            "versions": [DeliverableVersionPublic.model_validate(v.model_dump()) for v in versions],
        }
    )


@api_router.get("/cases/{case_id}/deliverables", response_model=list[DeliverablePublic])
def api_list(session: SessionDep, user: ApiCaseWorker, case_id: RowId):
    """The case's deliverables with their issued versions, newest version first."""
    found = service.deliverables_of_case(session=session, actor=user, case_id=case_id)
    versions = service.versions_by_deliverable(session, [d.id for d in found])
    return [_public(session, d, versions[d.id]) for d in found]


@api_router.post("/cases/{case_id}/deliverables", response_model=DeliverablePublic, status_code=201)
def api_draft(session: SessionDep, user: ApiCaseWorker, case_id: RowId, data: DeliverableDraft):
    """Start a draft of the given kind, pre-filled from the case."""
    deliverable = service.start_draft(session=session, actor=user, case_id=case_id, data=data)
    return _public(session, deliverable, [])


@api_router.put("/deliverables/{deliverable_id}/sections", response_model=DeliverablePublic)
def api_save(
    session: SessionDep, user: ApiCaseWorker, deliverable_id: RowId, bodies: dict[str, str]
):
    """Replace section bodies, by section key; unknown keys are ignored."""
    deliverable = service.save_draft(
        session=session, actor=user, deliverable_id=deliverable_id, bodies=bodies
    )
    versions = service.versions_by_deliverable(session, [deliverable.id])[deliverable.id]
    return _public(session, deliverable, versions)


@api_router.post(
    "/deliverables/{deliverable_id}/issue",
    response_model=DeliverableVersionPublic,
    status_code=201,
)
def api_issue(session: SessionDep, user: ApiCaseWorker, deliverable_id: RowId):
    """Freeze the draft as the next version (PDF stored with its SHA-256)."""
    version = service.issue_deliverable(session=session, actor=user, deliverable_id=deliverable_id)
    return DeliverableVersionPublic.model_validate(version.model_dump())


@api_router.get(
    "/deliverables/{deliverable_id}/versions/{number}/pdf",
    response_class=Response,
    responses={200: {"content": {"application/pdf": {}}}},
)
def api_download(
    session: SessionDep, user: ApiCaseWorker, deliverable_id: RowId, number: VersionNumber
):
    """The PDF of any issued version."""
    return _pdf_response(session, user, deliverable_id, number)
