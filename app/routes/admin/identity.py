"""« Nom et logo »: the operator's administrators upload the logo its public pages show beside
its name; and the logo itself, public, at an address that names only the operator."""

from typing import Annotated

from fastapi import Depends, Request, Response
from fastapi.responses import RedirectResponse

from app.core.errors import Invalid
from app.core.files import UploadRefused
from app.models.fields import OperatorCode
from app.models.staff import StaffUser
from app.services.admin.operator_identity import (
    LOGO_FIELD,
    LOGO_MAX_BYTES,
    brand_of,
    identity_of,
    logo_file,
    remove_logo,
    require_identity_admin,
    set_logo,
)
from app.web.deps import CurrentStaff, SessionDep, streams_upload
from app.web.rendering import render
from app.web.routing import new_router
from app.web.uploads import FileRules, Received, streamed_upload_under

router = new_router(include_in_schema=False)

# Typed by Pillow in the service, not by the attachments' list of accepted types.
LOGO_FILE = FileRules(
    field=LOGO_FIELD,
    max_bytes=LOGO_MAX_BYTES,
    too_large_message="Image trop volumineuse : 2 Mo au maximum.",
    missing_message="Choisissez une image PNG ou JPEG",
    typed=False,
)
ReceivedLogo = Annotated[Received, Depends(streamed_upload_under(LOGO_FILE))]
# The address changes with each upload (?v=…): a day in caches costs nothing.
LOGO_CACHE = "public, max-age=86400"


def _page(request, session, user, *, notice="", errors=None, status_code=200):
    operator = identity_of(session=session, actor=user)
    context = {"identity": operator, "shown": brand_of(operator), "notice": notice}
    context |= {"errors": errors or {}}
    return render(request, "admin/identity/identity.html", context, status_code=status_code)


def logo_admin(user: CurrentStaff) -> StaffUser:
    """Refused before a byte of the file is read."""
    return require_identity_admin(user)


LogoAdmin = Annotated[StaffUser, Depends(logo_admin)]


@router.get("/admin/identite")
def identity_page(request: Request, session: SessionDep, user: CurrentStaff, fait: str = ""):
    notice = {"logo": "Logo enregistré.", "retire": "Logo retiré."}.get(fait, "")
    return _page(request, session, user, notice=notice)


@router.post("/admin/identite/logo")
@streams_upload
def upload_logo(request: Request, session: SessionDep, user: LogoAdmin, received: ReceivedLogo):
    try:
        if received.refused is not None:
            raise received.refused
        assert received.upload is not None
        set_logo(session=session, actor=user, raw=received.upload.path.read_bytes())
    except UploadRefused as exc:
        errors = {LOGO_FIELD: exc.message}
        return _page(request, session, user, errors=errors, status_code=422)
    except Invalid as exc:
        return _page(request, session, user, errors=exc.fields, status_code=422)
    return RedirectResponse("/admin/identite?fait=logo#fait", 303)


@router.post("/admin/identite/logo/retirer")
def drop_logo(session: SessionDep, user: CurrentStaff):
    remove_logo(session=session, actor=user)
    return RedirectResponse("/admin/identite?fait=retire#fait", 303)


@router.get("/logos/{code}")
def operator_logo(request: Request, session: SessionDep, code: OperatorCode):
    """Public: shown on the operator's public pages, to people without an account."""
    png, version = logo_file(session=session, code=code)
    etag = f'"{version}"'
    headers = {"Cache-Control": LOGO_CACHE, "ETag": etag, "X-Content-Type-Options": "nosniff"}
    if request.headers.get("if-none-match") == etag:
        return Response(status_code=304, headers=headers)
    return Response(png, media_type="image/png", headers=headers)
