"""Partner directory: search, add and edit partners, CSV import and export; pages and API."""

import base64
from typing import Annotated

from fastapi import Depends, Query, Request
from fastapi.responses import RedirectResponse, StreamingResponse
from pydantic import AfterValidator, StringConstraints
from sqlmodel import SQLModel

from app.core.errors import Invalid
from app.core.files import UploadRefused
from app.models.bounds import Count, Limit, RowId
from app.models.fields import (
    DEPARTEMENT_OR_NONE,
    QueryFlag,
    blank_to_none,
    display_phone,
    normalise_departement,
)
from app.models.nomenclatures import PartnerType
from app.models.partners import Partner, PartnerCreate, PartnerPublic, PartnerUpdate
from app.models.staff import StaffUser
from app.services.referrals.partners import (
    SEARCH_LIMIT,
    can_edit_partners,
    create_partner,
    get_partner,
    require_editor,
    search_partners,
    set_active,
    update_partner,
)
from app.services.referrals.partners_csv import (
    MAX_BYTES,
    TOO_LARGE,
    check_import,
    csv_chunks,
    decode_csv,
    export_rows,
    run_import,
)
from app.web.api_errors import API_ERRORS
from app.web.deps import (
    ApiCaseWorker,
    CaseWorker,
    SessionDep,
    SubmittedForm,
    carries_large_field,
    streams_upload,
)
from app.web.forms import parse_form
from app.web.rendering import render
from app.web.routing import new_router
from app.web.uploads import FileRules, Received, streamed_upload_under

pages = new_router(include_in_schema=False)
api = new_router(prefix="/api/v1", tags=["partenaires"], responses=API_ERRORS)
router = new_router()

Departement = Annotated[str, AfterValidator(normalise_departement)]


class PartnerFilters(SQLModel):
    """The search form of « Partenaires », named as the GET form sends them."""

    type: Annotated[PartnerType | None, blank_to_none] = None
    departement: Annotated[Departement | None, blank_to_none] = None
    q: Annotated[str, StringConstraints(strip_whitespace=True, max_length=100)] = ""
    inactifs: bool = False


def _search(session, user: StaffUser, params) -> tuple[list[Partner], dict[str, str]]:
    """The partners the search form asks for, or the French message of each bad filter."""
    try:
        filters = parse_form(PartnerFilters, params)
    except Invalid as exc:
        return [], exc.fields
    found = search_partners(
        session=session,
        actor=user,
        type=filters.type,
        departement=filters.departement,
        query=filters.q,
        active_only=not filters.inactifs,
    )
    return found, {}


def _as_typed(partner: Partner) -> dict[str, str]:
    """A partner as its form would have submitted it, so that one template shows both."""
    values = {name: getattr(partner, name) or "" for name in PartnerUpdate.model_fields}
    return values | {"phone": display_phone(partner.phone), "active": "1" if partner.active else ""}


def _partner_page(request, user, partner, *, form, errors=None, saved=False):
    context = {"partner": partner, "form": form, "errors": errors or {}, "saved": saved}
    return render(
        request, "referrals/partners/detail.html", context | {"can_edit": can_edit_partners(user)}
    )


# ---- pages: search, add, edit --------------------------------------------------------------


@pages.get("/partenaires")
def partners_page(
    request: Request, session: SessionDep, user: CaseWorker, crees: Count = 0, maj: Count = 0
):
    partners, errors = _search(session, user, request.query_params)
    context = {
        "partners": partners,
        "errors": errors,
        "form": dict(request.query_params),
        "limit": SEARCH_LIMIT,
        "can_edit": can_edit_partners(user),
        "created": crees,
        "updated": maj,
    }
    return render(
        request,
        "referrals/partners/list.html",
        context,
        fragment="referrals/partners/_partials/results.html",
    )


@pages.get("/partenaires/nouveau")
def new_partner_page(request: Request, user: CaseWorker):
    require_editor(user)
    return render(request, "referrals/partners/new.html", {"form": {"active": "1"}})


@pages.post("/partenaires/nouveau")
def add_partner_page(
    request: Request, session: SessionDep, user: CaseWorker, submitted: SubmittedForm
):
    require_editor(user)
    form = dict(submitted.items())
    try:
        data = parse_form(PartnerCreate, form)
        partner = create_partner(session=session, actor=user, data=data)
    except Invalid as exc:
        return render(request, "referrals/partners/new.html", {"form": form, "errors": exc.fields})
    return RedirectResponse(f"/partenaires/{partner.id}?enregistre=1", status_code=303)


# ---- pages: CSV import and export (before /partenaires/{id}, which would take their names) ---


def _import_page(request, *, report=None, content="", errors=None):
    context = {"report": report, "content": content, "errors": errors or {}}
    context["types"] = PartnerType.choices()
    return render(request, "referrals/partners/import.html", context)


# The file is refused while it streams in, as soon as it passes MAX_BYTES; nothing is kept.
CSV_FILE = FileRules(
    field="fichier",
    max_bytes=MAX_BYTES,
    too_large_message=TOO_LARGE,
    missing_message="Choisissez un fichier CSV",
    typed=False,
)
ReceivedCsv = Annotated[Received, Depends(streamed_upload_under(CSV_FILE))]
# The checked file goes back and forth in base64 (4 characters for 3 bytes), in the URL-safe
# alphabet that a browser sends as is: the confirmation's field is no larger than this.
CARRIED_MAX = 4 * -(-MAX_BYTES // 3)


def partner_editor(user: CaseWorker) -> StaffUser:
    """Refused before a byte of the file is read."""
    require_editor(user)
    return user


PartnerEditor = Annotated[StaffUser, Depends(partner_editor)]


def _uploaded_bytes(received: Received) -> bytes:
    if received.refused is not None:
        raise received.refused
    assert received.upload is not None
    return received.upload.path.read_bytes()  # at most MAX_BYTES, in the endpoint's thread


def _carried(raw: bytes) -> str:
    """The checked file, carried by the confirmation form: nothing is kept on the server."""
    return base64.urlsafe_b64encode(raw).decode("ascii")


def _carried_back(value) -> str:
    if not isinstance(value, str) or not value or len(value) > CARRIED_MAX:
        raise Invalid({"fichier": "Le fichier à confirmer est absent : envoyez-le à nouveau"})
    try:
        raw = base64.b64decode(value, altchars=b"-_", validate=True)
    except ValueError:  # not base64 (binascii.Error), or not even ASCII
        raise Invalid(
            {"fichier": "Le fichier à confirmer est illisible : envoyez-le à nouveau"}
        ) from None
    return decode_csv(raw)  # the same checks as the first time


@pages.get("/partenaires/import")
def import_page(request: Request, user: CaseWorker):
    require_editor(user)
    return _import_page(request)


@pages.post("/partenaires/import")
@streams_upload
def check_import_page(
    request: Request, session: SessionDep, user: PartnerEditor, received: ReceivedCsv
):
    """Check the file line by line; nothing is written until the user confirms."""
    try:
        raw = _uploaded_bytes(received)
        text = decode_csv(raw)
    except UploadRefused as exc:
        return _import_page(request, errors={"fichier": exc.message})
    except Invalid as exc:
        return _import_page(request, errors=exc.fields)
    report = check_import(session=session, actor=user, text=text)
    # Carried as sent, so that the confirmation decodes it exactly as this check did.
    return _import_page(request, report=report, content=_carried(raw) if report.valid else "")


@pages.post("/partenaires/import/confirmer")
@carries_large_field(CARRIED_MAX + 16)  # and "=" padding, which a browser escapes
def confirm_import_page(
    request: Request, session: SessionDep, user: PartnerEditor, form: SubmittedForm
):
    """Check the file again (the directory may have changed), then import all of it or nothing."""
    try:
        text = _carried_back(form.get("contenu"))
    except Invalid as exc:
        return _import_page(request, errors=exc.fields)
    report = run_import(session=session, actor=user, text=text)
    if not report.valid:
        return _import_page(request, report=report)
    return RedirectResponse(
        f"/partenaires?crees={report.to_create}&maj={report.to_update}", status_code=303
    )


@pages.get("/partenaires/export.csv")
def export_page(session: SessionDep, user: CaseWorker):
    """The whole directory, inactive partners included, in the format the import reads."""
    rows = export_rows(session=session, actor=user)
    headers = {
        "Content-Disposition": 'attachment; filename="partenaires.csv"',
        "Cache-Control": "no-store",
    }
    return StreamingResponse(
        csv_chunks(rows), media_type="text/csv; charset=utf-8", headers=headers
    )


# ---- pages: one partner --------------------------------------------------------------------


@pages.get("/partenaires/{partner_id}")
def partner_page(
    request: Request,
    session: SessionDep,
    user: CaseWorker,
    partner_id: RowId,
    enregistre: Count = 0,
):
    partner = get_partner(session=session, actor=user, partner_id=partner_id)
    return _partner_page(request, user, partner, form=_as_typed(partner), saved=bool(enregistre))


@pages.post("/partenaires/{partner_id}")
def save_partner_page(
    request: Request,
    session: SessionDep,
    user: CaseWorker,
    partner_id: RowId,
    submitted: SubmittedForm,
):
    partner = get_partner(session=session, actor=user, partner_id=partner_id)  # 404 first
    require_editor(user)
    form = dict(submitted.items())
    try:
        data = parse_form(PartnerUpdate, form)
        update_partner(session=session, actor=user, partner_id=partner_id, data=data)
    except Invalid as exc:
        return _partner_page(request, user, partner, form=form, errors=exc.fields)
    return RedirectResponse(f"/partenaires/{partner_id}?enregistre=1", status_code=303)


@pages.post("/partenaires/{partner_id}/activation")
def activation_page(
    request: Request, session: SessionDep, user: CaseWorker, partner_id: RowId, form: SubmittedForm
):
    active = form.get("actif") == "oui"
    set_active(session=session, actor=user, partner_id=partner_id, active=active)
    return RedirectResponse(f"/partenaires/{partner_id}?enregistre=1", status_code=303)


# ---- API -----------------------------------------------------------------------------------


@api.get("/partners", response_model=list[PartnerPublic])
def get_partners(
    session: SessionDep,
    user: ApiCaseWorker,
    type: PartnerType | None = None,
    departement: Annotated[
        str | None,
        Query(
            max_length=3,
            description="ex. 69, 2A, 974 ; vide : tous",
            json_schema_extra={"pattern": DEPARTEMENT_OR_NONE},
        ),
    ] = None,
    q: Annotated[str, Query(max_length=100)] = "",
    active_only: QueryFlag = True,
    limit: Limit = SEARCH_LIMIT,
):
    """Search the operator's partner directory, sorted by name (case and accents ignored).

    A partner with no département serves the whole territory: it matches every département."""
    return search_partners(
        session=session,
        actor=user,
        type=type,
        departement=departement,
        query=q,
        active_only=active_only,
        limit=limit,
    )


@api.post("/partners", response_model=PartnerPublic, status_code=201)
def post_partner(session: SessionDep, user: ApiCaseWorker, data: PartnerCreate):
    """Add a partner (managers and operator admins); its name must be new in the directory."""
    return create_partner(session=session, actor=user, data=data)


@api.get("/partners/{partner_id}", response_model=PartnerPublic)
def get_one_partner(session: SessionDep, user: ApiCaseWorker, partner_id: RowId):
    return get_partner(session=session, actor=user, partner_id=partner_id)


@api.put("/partners/{partner_id}", response_model=PartnerPublic)
def put_partner(session: SessionDep, user: ApiCaseWorker, partner_id: RowId, data: PartnerUpdate):
    """Replace every field of a partner (managers and operator admins)."""
    return update_partner(session=session, actor=user, partner_id=partner_id, data=data)


router.include_router(pages)
router.include_router(api)
