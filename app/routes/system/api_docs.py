"""The API's documentation: the OpenAPI document, Swagger UI and ReDoc, from files vendored
under app/static/vendor, for the readers FILROUGE_API_DOCS allows."""

import secrets
from typing import Annotated

from fastapi import Depends, HTTPException, Request
from fastapi.responses import HTMLResponse, JSONResponse

from app.core.config import get_settings
from app.models.staff import StaffSession
from app.web.deps import LoginRequired, current_browser_session
from app.web.middleware import content_security_policy
from app.web.rendering import render
from app.web.routing import new_router

OPENAPI_URL = "/openapi.json"


def docs_reader(
    browser: Annotated[StaffSession | None, Depends(current_browser_session)],
) -> None:
    """Staff only by default (anonymous readers are sent to the login form), anyone when
    public, no one when off."""
    readers = get_settings().api_docs
    if readers == "off":
        raise HTTPException(status_code=404)
    if readers == "staff" and browser is None:
        raise LoginRequired()


router = new_router(include_in_schema=False, dependencies=[Depends(docs_reader)])


@router.get(OPENAPI_URL)
def openapi_document(request: Request) -> JSONResponse:
    return JSONResponse(request.app.openapi())


@router.get("/docs")
def swagger_ui(request: Request) -> HTMLResponse:
    # Swagger UI's stylesheet draws its icons as data: images.
    response = render(request, "system/api_docs/swagger_ui.html", {"openapi_url": OPENAPI_URL})
    response.headers["Content-Security-Policy"] = content_security_policy(img_src="'self' data:")
    return response


@router.get("/redoc")
def redoc(request: Request) -> HTMLResponse:
    # ReDoc writes its styles into <style> elements at run time, each marked with the nonce
    # it reads from the page: this response's styles, and no one else's, are allowed. Its
    # icons are data: images and a data: font.
    nonce = secrets.token_urlsafe(18)
    response = render(
        request, "system/api_docs/redoc.html", {"openapi_url": OPENAPI_URL, "style_nonce": nonce}
    )
    response.headers["Content-Security-Policy"] = content_security_policy(
        style_src=f"'self' 'nonce-{nonce}'", img_src="'self' data:", font_src="'self' data:"
    )
    return response
