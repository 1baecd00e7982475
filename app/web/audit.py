"""Binds each request's origin (client address, user agent) for the audit trail's entries."""

from starlette.requests import Request
from starlette.types import ASGIApp, Receive, Scope, Send

from app.core.request_origin import Origin, bind_origin
from app.web.client_address import client_address


class AuditOrigin:
    """Sets the origin in the request's context, which the route's thread inherits."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            request = Request(scope)
            bind_origin(Origin(client_address(request), request.headers.get("user-agent", "")))
        await self.app(scope, receive, send)
