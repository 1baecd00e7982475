"""The public side of SMS: short links (/s/{code}) and the gateway's callback."""

from typing import Annotated

from fastapi import Header, Request
from fastapi.responses import RedirectResponse

from app.services.messaging.short_links import resolve
from app.services.messaging.sms_callbacks import (
    SmsCallback,
    check_callback_token,
    record_callback,
)
from app.web.client_address import client_address
from app.web.deps import SessionDep
from app.web.routing import new_router

router = new_router(include_in_schema=False)


@router.get("/s/{code}")
def follow_short_link(request: Request, session: SessionDep, code: str):
    target = resolve(session=session, code=code, ip=client_address(request))
    response = RedirectResponse(target, status_code=303)
    # The target holds a signed token: keep it out of Referer headers and search engines.
    response.headers["Referrer-Policy"] = "no-referrer"
    response.headers["X-Robots-Tag"] = "noindex"
    response.headers["Cache-Control"] = "no-store"
    return response


@router.post("/api/sms/callback")
def gateway_callback(
    request: Request,
    session: SessionDep,
    report: SmsCallback,
    authorization: Annotated[str | None, Header()] = None,
):
    scheme, _, token = (authorization or "").partition(" ")
    check_callback_token(
        session=session,
        given=token if scheme.lower() == "bearer" else None,
        ip=client_address(request),
    )
    return {"changed": record_callback(session=session, report=report)}
