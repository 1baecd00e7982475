"""Deliverables for staff: draft from the case, edit inline (saved as you go), issue, share,
download any version — and the same through /api/v1."""

from typing import Annotated, Literal

from fastapi import Depends, Request
from fastapi.responses import RedirectResponse, Response

from app.core.errors import Conflict, Invalid
from app.core.files import UploadRefused
from app.models.base import utcnow
from app.models.bounds import RowId, VersionNumber
from app.models.deliverables import (
    DeliverableDraft,
    DeliverablePublic,
    DeliverableVersion,
    DeliverableVersionPublic,
)
from app.services.audit import accesses
from app.services.cases.lifecycle import time_zone_of_case
from app.services.deliverables import documents as service
from app.services.deliverables import views
from app.services.deliverables.pdf import PdfUnavailable
from app.services.deliverables.sharing import (
    AlreadyAcknowledged,
    record_handover,
    record_signed_scan,
    revoke_link,
    share_version,
)
from app.services.messaging.sms import may_get_sms
from app.web.api_errors import API_ERRORS, CONFLICT, DOWNLOAD, OUTSIDE_READ, PDF_UNAVAILABLE
from app.web.deps import ApiCaseWorker, CaseWorker, SessionDep, SubmittedForm, streams_upload
from app.web.exports import attachment_disposition
from app.web.forms import form_errors, parse_form
from app.web.outside_reads import ReasonParam
from app.web.rendering import is_htmx, render
from app.web.routing import new_router
from app.web.uploads import ReceivedUpload

router = new_router(include_in_schema=False)
api_router = new_router(prefix="/api/v1", tags=["livrables"], responses=API_ERRORS)


# ---- pages --------------------------------------------------------------------------------


# What an action did, carried by the address it comes back to (the page is a plain form):
# `?fait=…` and, for a version, `&version=N`. Only these codes: no text travels in the URL.
Done = Literal["brouillon", "enregistre", "emise", "envoyee", "remise", "lien-revoque", "scan"]
_SAID = {
    "brouillon": "Brouillon créé, pré-rempli à partir du dossier.",
    "enregistre": "Brouillon enregistré.",
    "emise": "Version {version} émise.",
    "envoyee": "Version {version} envoyée à {email}.",
    "remise": "Version {version} remise en main propre.",
    "lien-revoque": "Lien de la version {version} révoqué.",
    "scan": "Exemplaire signé de la version {version} déposé : la version est accusée.",
}


def _back(deliverable_id: int, done: Done, version: int | None = None) -> RedirectResponse:
    """Back to the page, which confirms what was done next to where it was done. No #anchor:
    a browser skips autofocus when the address targets an element, and the focused message
    is scrolled into view anyway."""
    query = f"?fait={done}" + (f"&version={version}" if version else "")
    return RedirectResponse(f"/deliverables/{deliverable_id}{query}", status_code=303)


def _confirmation(page, done: Done | None, version: int | None) -> dict | None:
    """The message and where the page says it (« top », « save » or « version-N »), if the
    version named exists; none otherwise."""
    if done is None:
        return None
    if done in ("brouillon", "enregistre"):
        return {"message": _SAID[done], "at": "top" if done == "brouillon" else "save"}
    if version is None or version not in {v.number for v in page.versions}:
        return None
    email = page.beneficiary.email or ""
    message = _SAID[done].format(version=version, email=email)
    return {"message": message, "at": f"version-{version}"}


def _page(
    request,
    session,
    user,
    deliverable_id,
    *,
    errors=None,
    form=None,
    status_code=200,
    done: Done | None = None,
    version: int | None = None,
):
    page = views.deliverable_page(session=session, actor=user, deliverable_id=deliverable_id)
    return render(
        request,
        "deliverables/documents/edit.html",
        {
            "deliverable": page.deliverable,
            "kind": page.kind,
            "case": page.case,
            "beneficiary": page.beneficiary,
            # Without an e-mail address, the link goes by SMS to a mobile that accepts them.
            "sms_number": may_get_sms(page.beneficiary),
            "versions": page.versions,
            "messages": page.messages,
            "revokers": page.revokers,
            "steps": page.steps,
            "tz": page.time_zone,
            "errors": errors or {},
            "form": form or {},
            "confirmation": _confirmation(page, done, version),
        },
        status_code=status_code,
    )


def _act(request, form, session, user, deliverable_id, perform, done: Done):
    """Run one action; show the page with the error, or come back to it, which says it."""
    try:
        version = perform(form)
    except (Invalid, Conflict, PdfUnavailable) as exc:
        errors = form_errors(exc)
        return _page(request, session, user, deliverable_id, errors=errors, form=dict(form))
    return _back(deliverable_id, done, version)


@router.post("/cases/{case_id}/deliverables")
def draft(
    request: Request, session: SessionDep, user: CaseWorker, case_id: RowId, form: SubmittedForm
):
    data = parse_form(DeliverableDraft, form)
    deliverable = service.start_draft(session=session, actor=user, case_id=case_id, data=data)
    return _back(deliverable.id, "brouillon")


@router.get("/deliverables/{deliverable_id}")
def edit_page(
    request: Request,
    session: SessionDep,
    user: CaseWorker,
    deliverable_id: RowId,
    fait: Done | None = None,
    version: VersionNumber | None = None,
):
    """The editor; `fait` (and `version`) confirm the action that led here."""
    page = _page(request, session, user, deliverable_id, done=fait, version=version)
    accesses.deliverable_editor_read(session, actor=user, deliverable_id=deliverable_id)
    return page


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
        return _back(deliverable_id, "enregistre")
    time_zone = time_zone_of_case(session=session, actor=user, case_id=deliverable.case_id)
    return render(
        request,
        "deliverables/documents/_partials/draft_status.html",
        {
            "saved_at": utcnow(),
            "problem": None,
            "tz": time_zone,
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
        # The issue button submits the editor: what was typed last is saved with the version.
        return service.issue_deliverable(
            session=session,
            actor=user,
            deliverable_id=deliverable_id,
            bodies=_section_bodies(form),
        ).number

    return _act(request, form, session, user, deliverable_id, perform, "emise")


@router.get("/deliverables/{deliverable_id}/preview")
def preview(session: SessionDep, user: CaseWorker, deliverable_id: RowId):
    """The PDF the saved draft would issue now, marked as a preview; nothing is stored."""
    pdf, filename = service.preview_pdf(session=session, actor=user, deliverable_id=deliverable_id)
    accesses.deliverable_read(session, actor=user, deliverable_id=deliverable_id)
    return pdf_download(pdf, filename)


@router.post("/deliverables/{deliverable_id}/preview")
def preview_typed(
    request: Request,
    session: SessionDep,
    user: CaseWorker,
    deliverable_id: RowId,
    form: SubmittedForm,
):
    """The editor's « Aperçu du PDF » button: the text as typed, previewed without saving."""
    try:
        pdf, filename = service.preview_pdf(
            session=session,
            actor=user,
            deliverable_id=deliverable_id,
            bodies=_section_bodies(form),
        )
    except (Invalid, PdfUnavailable) as exc:
        errors = form_errors(exc)
        return _page(request, session, user, deliverable_id, errors=errors, form=dict(form))
    return pdf_download(pdf, filename)


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
        return number

    return _act(request, form, session, user, deliverable_id, perform, "envoyee")


@router.post("/deliverables/{deliverable_id}/versions/{number}/handed-over")
def handed_over(
    request: Request,
    session: SessionDep,
    user: CaseWorker,
    deliverable_id: RowId,
    number: VersionNumber,
    form: SubmittedForm,
):
    def perform(_form):
        record_handover(session=session, actor=user, deliverable_id=deliverable_id, number=number)
        return number

    return _act(request, form, session, user, deliverable_id, perform, "remise")


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
        return number

    return _act(request, form, session, user, deliverable_id, perform, "lien-revoque")


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
    _version: Annotated[DeliverableVersion, Depends(scanned_version)],
    received: ReceivedUpload,
):
    """The paper copy the beneficiary signed, scanned: kept with the case, it acknowledges."""
    try:
        record_signed_scan(
            session=session,
            actor=user,
            deliverable_id=deliverable_id,
            number=number,
            upload=received.upload,
            refused=received.refused,
        )
    except AlreadyAcknowledged as exc:  # refused before anything is stored
        errors = {"__all__": exc.message}
        return _page(request, session, user, deliverable_id, errors=errors, status_code=409)
    except (UploadRefused, Invalid, Conflict) as exc:
        message = exc.fields.get("file", exc.message) if isinstance(exc, Invalid) else exc.message
        errors = {f"scan-{number}": message}
        return _page(request, session, user, deliverable_id, errors=errors, status_code=422)
    return _back(deliverable_id, "scan", number)


@router.get("/deliverables/{deliverable_id}/versions/{number}/pdf")
def download(session: SessionDep, user: CaseWorker, deliverable_id: RowId, number: VersionNumber):
    return _pdf_response(session, user, deliverable_id, number)


def _pdf_response(
    session, user, deliverable_id: int, number: int, reason: str | None = None
) -> Response:
    pdf, filename = views.version_download(
        session=session, actor=user, deliverable_id=deliverable_id, number=number
    )
    accesses.deliverable_read(session, actor=user, deliverable_id=deliverable_id, reason=reason)
    return pdf_download(pdf, filename)


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


def _public(found: views.DeliverableWithVersions) -> DeliverablePublic:
    return DeliverablePublic.model_validate(
        {
            **found.deliverable.model_dump(),
            "kind_code": found.kind_code,
            "versions": [
                DeliverableVersionPublic.model_validate(v.model_dump()) for v in found.versions
            ],
        }
    )


@api_router.get("/cases/{case_id}/deliverables", response_model=list[DeliverablePublic])
def api_list(session: SessionDep, user: ApiCaseWorker, case_id: RowId):
    """The case's deliverables with their issued versions, newest version first."""
    found = views.deliverables_with_versions(session=session, actor=user, case_id=case_id)
    return [_public(row) for row in found]


@api_router.post(
    "/cases/{case_id}/deliverables",
    response_model=DeliverablePublic,
    status_code=201,
    responses=CONFLICT,
)
def api_draft(session: SessionDep, user: ApiCaseWorker, case_id: RowId, data: DeliverableDraft):
    """Start a draft of the given kind, pre-filled from the case."""
    deliverable = service.start_draft(session=session, actor=user, case_id=case_id, data=data)
    return _public(
        views.deliverable_with_versions(session=session, actor=user, deliverable_id=deliverable.id)
    )


@api_router.put(
    "/deliverables/{deliverable_id}/sections", response_model=DeliverablePublic, responses=CONFLICT
)
def api_save(
    session: SessionDep, user: ApiCaseWorker, deliverable_id: RowId, bodies: dict[str, str]
):
    """Replace section bodies, by section key; unknown keys are ignored."""
    service.save_draft(session=session, actor=user, deliverable_id=deliverable_id, bodies=bodies)
    return _public(
        views.deliverable_with_versions(session=session, actor=user, deliverable_id=deliverable_id)
    )


@api_router.post(
    "/deliverables/{deliverable_id}/issue",
    response_model=DeliverableVersionPublic,
    status_code=201,
    responses=CONFLICT | PDF_UNAVAILABLE,
)
def api_issue(session: SessionDep, user: ApiCaseWorker, deliverable_id: RowId):
    """Freeze the draft as the next version (PDF stored with its SHA-256)."""
    version = service.issue_deliverable(session=session, actor=user, deliverable_id=deliverable_id)
    return DeliverableVersionPublic.model_validate(version.model_dump())


@api_router.get(
    "/deliverables/{deliverable_id}/versions/{number}/pdf",
    response_class=Response,
    responses={
        200: {
            "content": {"application/pdf": {"schema": {"type": "string", "format": "binary"}}},
            "headers": {"Content-Disposition": DOWNLOAD},
        }
    }
    | OUTSIDE_READ,
)
def api_download(
    session: SessionDep,
    user: ApiCaseWorker,
    deliverable_id: RowId,
    number: VersionNumber,
    reason: ReasonParam = None,
):
    """The PDF of any issued version."""
    return _pdf_response(session, user, deliverable_id, number, reason=reason)
