"""« Demandes d'exercice des droits »: the queue of the people's requests (access,
rectification, erasure, objection, restriction) and what answers each, for the operator's
administrators."""

import logging

from fastapi import BackgroundTasks, Request
from fastapi.responses import RedirectResponse

from app.core.errors import Conflict, Invalid
from app.models.base import utcnow
from app.models.bounds import RowId
from app.models.rights import (
    ReceivedVia,
    RightKind,
    RightsOutcome,
    RightsRequestCreate,
)
from app.services.jobs.leases import Bind
from app.services.privacy import rights
from app.services.privacy.access_archive import (
    ARCHIVE_DAYS,
    available,
    build_archive,
    download_archive,
    latest_archive,
    request_archive,
)
from app.web.deps import CurrentStaff, SessionDep, SubmittedForm
from app.web.exports import stored_zip_download
from app.web.forms import form_errors, parse_form
from app.web.rendering import render
from app.web.routing import new_router

router = new_router(include_in_schema=False)
log = logging.getLogger(__name__)

PAGE = "/admin/droits"


def _queue_page(request, session, user, *, query="", form=None, errors=None):
    queue = rights.rights_queue(session=session, actor=user)
    query = query.strip()[:100]
    candidates = rights.find_people(session=session, actor=user, query=query) if query else []
    return render(
        request,
        "admin/rights/requests.html",
        {
            "queue": queue,
            "query": query,
            "candidates": candidates,
            "kinds": RightKind.choices(),
            # The personal space files its own requests: staff record the other ways.
            "vias": [c for c in ReceivedVia.choices() if c[0] != ReceivedVia.PERSONAL_SPACE],
            "form": form or {"received_on": queue.today.isoformat()},
            "errors": errors or {},
        },
    )


@router.get(PAGE)
def requests_page(request: Request, session: SessionDep, user: CurrentStaff, q: str = ""):
    return _queue_page(request, session, user, query=q)


@router.post(PAGE)
def record_request(request: Request, session: SessionDep, user: CurrentStaff, form: SubmittedForm):
    typed = {key: str(value) for key, value in form.items() if key != "csrf_token"}
    try:
        data = parse_form(RightsRequestCreate, typed)
        created = rights.record_request(session=session, actor=user, data=data)
    except Invalid as exc:  # a person of another operator is a 404, like any row of theirs
        errors = form_errors(exc)
        query = typed.get("q", "")
        return _queue_page(request, session, user, query=query, form=typed, errors=errors)
    return RedirectResponse(f"{PAGE}/{created.id}", status_code=303)


def _request_page(request, session, user, request_id, *, form=None, errors=None):
    row = rights.request_row(session=session, actor=user, request_id=request_id)
    now = utcnow()
    archive = latest_archive(session=session, request=row.request)
    refusal = rights.erasure_refusal(session=session, person=row.person, now=now)
    return render(
        request,
        "admin/rights/request.html",
        {
            "row": row,
            "time_zone": row.time_zone,
            "archive": archive,
            "archive_available": archive is not None and available(archive, now),
            "archive_days": ARCHIVE_DAYS,
            "refusal": refusal if row.request.kind == RightKind.ERASURE else None,
            "form": form or {},
            "errors": errors or {},
        },
    )


@router.get(PAGE + "/{request_id}")
def request_page(request: Request, session: SessionDep, user: CurrentStaff, request_id: RowId):
    return _request_page(request, session, user, request_id)


def _back(request_id: int, anchor: str = "") -> RedirectResponse:
    return RedirectResponse(f"{PAGE}/{request_id}{anchor}", status_code=303)


@router.post(PAGE + "/{request_id}/prise-en-charge")
def take_request(session: SessionDep, user: CurrentStaff, request_id: RowId):
    rights.take_request(session=session, actor=user, request_id=request_id)
    return _back(request_id)


@router.post(PAGE + "/{request_id}/reponse")
def answer_request(
    request: Request,
    session: SessionDep,
    user: CurrentStaff,
    request_id: RowId,
    form: SubmittedForm,
):
    typed = {"outcome": str(form.get("outcome") or "")}
    refused = form.get("refus") == "1"
    try:
        data = parse_form(RightsOutcome, typed)
        rights.answer_request(
            session=session,
            actor=user,
            request_id=request_id,
            refused=refused,
            outcome=data.outcome,
        )
    except (Invalid, Conflict) as exc:
        errors = form_errors(exc)
        return _request_page(request, session, user, request_id, form=typed, errors=errors)
    return _back(request_id)


@router.post(PAGE + "/{request_id}/effacement")
def erase_person(
    request: Request,
    session: SessionDep,
    user: CurrentStaff,
    request_id: RowId,
    form: SubmittedForm,
):
    typed = str(form.get("reference") or "")[:100]
    try:
        rights.erase_person(
            session=session, actor=user, request_id=request_id, typed_reference=typed
        )
    except (Invalid, Conflict) as exc:
        errors = form_errors(exc)
        form_values = {"reference": typed}
        return _request_page(request, session, user, request_id, form=form_values, errors=errors)
    return _back(request_id)


@router.post(PAGE + "/{request_id}/opposition")
def record_objection(request: Request, session: SessionDep, user: CurrentStaff, request_id: RowId):
    try:
        rights.record_objection(session=session, actor=user, request_id=request_id)
    except Conflict as exc:
        return _request_page(request, session, user, request_id, errors=form_errors(exc))
    return _back(request_id)


# ---- the access archive ---------------------------------------------------------------------


@router.post(PAGE + "/{request_id}/archive")
def prepare_archive(
    request: Request,
    session: SessionDep,
    user: CurrentStaff,
    request_id: RowId,
    background: BackgroundTasks,
):
    try:
        archive = request_archive(session=session, actor=user, request_id=request_id)
    except Conflict as exc:
        return _request_page(request, session, user, request_id, errors=form_errors(exc))
    # Commit now, then build once the answer is sent; the worker would pick it up otherwise
    # (the lease makes sure only one of them builds it).
    session.commit()
    background.add_task(_build, session.get_bind(), archive.id)
    return _back(request_id, "#archive")


def _build(bind: Bind, archive_id: int) -> None:
    try:
        build_archive(bind, archive_id)
    except Exception:  # recorded on the archive as failed; the page shows it
        log.exception("Access archive %s failed", archive_id)


@router.get(PAGE + "/{request_id}/archive")
def archive_progress(request: Request, session: SessionDep, user: CurrentStaff, request_id: RowId):
    """The archive's panel alone, polled by the page while it is being built."""
    row = rights.request_row(session=session, actor=user, request_id=request_id)
    archive = latest_archive(session=session, request=row.request)
    context = {
        "row": row,
        "archive": archive,
        "archive_available": archive is not None and available(archive, utcnow()),
        "archive_days": ARCHIVE_DAYS,
        "time_zone": row.time_zone,
    }
    return render(request, "admin/rights/_partials/archive.html", context)


@router.get(PAGE + "/archives/{archive_id}.zip")
def archive_download(session: SessionDep, user: CurrentStaff, archive_id: RowId):
    archive, filename = download_archive(session=session, actor=user, archive_id=archive_id)
    return stored_zip_download(
        archive.archive_key,
        filename=filename,
        size=archive.archive_size,
        gone="Cette archive n'est plus disponible : préparez-la de nouveau.",
    )
