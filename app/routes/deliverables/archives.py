"""« Archive des livrables »: the form (with the count of documents it covers), the list of
archives, one archive's progress (polled by htmx), its cancellation and its download."""

from fastapi import Request
from fastapi.responses import RedirectResponse

from app.core.errors import Conflict, Invalid
from app.models.bounds import RowId
from app.models.deliverable_archives import ArchiveContent, ArchiveFilters, DeliverableArchive
from app.services.audit import accesses
from app.services.deliverables.archive_selection import archive_choices
from app.services.deliverables.period_archive import (
    PAGE,
    archive_filename,
    archive_list,
    archive_path,
    available,
    cancel_archive,
    count_documents,
    load_archive,
    ready_archive,
    request_archive,
    size_refusal,
)
from app.services.reports.activity import default_period
from app.web.deps import CurrentStaff, SessionDep, SubmittedForm
from app.web.export_purpose import export_reason
from app.web.exports import stored_zip_download
from app.web.forms import form_errors, parse_form
from app.web.rendering import render
from app.web.routing import new_router

router = new_router(include_in_schema=False)

LISTS = ("site_ids", "counsellor_ids", "kind_ids")


def _typed(form) -> dict:
    """The form's fields as the model reads them; the period as « du » and « au »."""
    typed = {key: str(value) for key, value in form.items() if key not in LISTS}
    typed.update({name: [str(v) for v in form.getlist(name)] for name in LISTS})
    return typed


def _filters(typed: dict) -> ArchiveFilters:
    values = {**typed, "start": typed.get("du", ""), "end": typed.get("au", "")}
    try:
        return parse_form(ArchiveFilters, values)
    except Invalid as exc:  # the period's fields are named « du » and « au » on the form
        renamed = {{"start": "du", "end": "au"}.get(k, k): v for k, v in exc.fields.items()}
        raise Invalid(renamed) from exc


def _archives_page(request, session, user, *, form=None, errors=None, status_code=200):
    choices = archive_choices(session=session, actor=user)
    if form is None:
        start, end = default_period(session=session, actor=user)
        form = {"du": start.isoformat(), "au": end.isoformat()}
    context = {
        "choices": choices,
        "contents": ArchiveContent.choices(),
        "archives": archive_list(session=session, actor=user),
        "form": form,
        "errors": errors or {},
        **_count(session, user, form),
    }
    return render(request, "deliverables/archives/archives.html", context, status_code=status_code)


def _count(session, user, typed: dict) -> dict:
    """The count the form shows under its choices, and why it is too many (or the choices'
    first error)."""
    try:
        count = count_documents(session=session, actor=user, filters=_filters(typed))
    except Invalid as exc:
        return {"count": None, "refusal": next(iter(exc.fields.values()), exc.message)}
    return {"count": count, "refusal": size_refusal(count)}


@router.get(PAGE)
def archives_page(request: Request, session: SessionDep, user: CurrentStaff):
    return _archives_page(request, session, user)


@router.get(PAGE + "/decompte")
def count_page(request: Request, session: SessionDep, user: CurrentStaff):
    """How many documents the form's choices cover: the form asks on every change (htmx)."""
    context = _count(session, user, _typed(request.query_params))
    return render(request, "deliverables/archives/_partials/count.html", context)


@router.post(PAGE)
def ask_archive(request: Request, session: SessionDep, user: CurrentStaff, form: SubmittedForm):
    typed = _typed(form)
    try:
        archive = request_archive(session=session, actor=user, filters=_filters(typed))
    except Invalid as exc:
        errors = form_errors(exc)
        return _archives_page(request, session, user, form=typed, errors=errors, status_code=422)
    return RedirectResponse(archive_path(archive.id), status_code=303)


def _archive_context(session, user, archive: DeliverableArchive) -> dict:
    choices = archive_choices(session=session, actor=user)
    return {"archive": archive, "time_zone": choices.time_zone, "available": available(archive)}


@router.get(PAGE + "/{archive_id}")
def archive_page(request: Request, session: SessionDep, user: CurrentStaff, archive_id: RowId):
    archive = load_archive(session=session, actor=user, archive_id=archive_id)
    context = _archive_context(session, user, archive)
    return render(request, "deliverables/archives/archive.html", context)


@router.get(PAGE + "/{archive_id}/progression")
def archive_progress(request: Request, session: SessionDep, user: CurrentStaff, archive_id: RowId):
    """The progress panel alone, polled by the page while the archive is being built."""
    archive = load_archive(session=session, actor=user, archive_id=archive_id)
    context = {**_archive_context(session, user, archive), "out_of_band": True}
    return render(request, "deliverables/archives/_partials/progress.html", context)


@router.post(PAGE + "/{archive_id}/annuler")
def cancel_page(request: Request, session: SessionDep, user: CurrentStaff, archive_id: RowId):
    try:
        cancel_archive(session=session, actor=user, archive_id=archive_id)
    except Conflict:
        pass  # finished meanwhile: the page shows how
    return RedirectResponse(archive_path(archive_id), status_code=303)


@router.get(PAGE + "/{archive_id}/archive.zip")
def archive_download(request: Request, session: SessionDep, user: CurrentStaff, archive_id: RowId):
    archive = ready_archive(session=session, actor=user, archive_id=archive_id)
    purpose = export_reason(request)  # once the reader is known to be allowed
    accesses.exported(
        session,
        actor=user,
        record_type="deliverable_archive",
        record_id=archive.id,
        purpose=purpose,
    )
    return stored_zip_download(
        archive.storage_key,
        filename=archive_filename(archive),
        size=archive.size_bytes,
        sha256=archive.sha256,
        gone="Cette archive n'est plus disponible : demandez-en une nouvelle.",
    )
