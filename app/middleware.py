"""Headers every response carries, as a plain ASGI middleware: Starlette's `@app.middleware`
(BaseHTTPMiddleware) costs an extra task and a response stream on every request."""

from starlette.datastructures import MutableHeaders
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.deps import ANON_CSRF_COOKIE, cookie_secure
from app.security import new_token

SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
}


def wants_json(request: Request) -> bool:
    return request.url.path.startswith("/api/") or request.url.path == "/healthz"


class SecurityHeaders:
    """The security headers, and a CSRF token for forms shown before login (the login form)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request = Request(scope)
        cookie = None
        if ANON_CSRF_COOKIE not in request.cookies and not wants_json(request):
            request.state.anon_csrf = token = new_token()
            cookie = _csrf_cookie(token, secure=cookie_secure(request))

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                if cookie:
                    headers.append("set-cookie", cookie)
                for name, value in SECURITY_HEADERS.items():
                    headers.setdefault(name, value)
            await send(message)

        await self.app(scope, receive, send_with_headers)


def _csrf_cookie(token: str, *, secure: bool) -> str:
    """The Set-Cookie value, formatted by Starlette as any other cookie."""
    carrier = Response()
    carrier.set_cookie(ANON_CSRF_COOKIE, token, httponly=True, samesite="lax", secure=secure)
    return carrier.headers["set-cookie"]
