"""Headers every response carries, as a plain ASGI middleware: Starlette's `@app.web.middleware`
(BaseHTTPMiddleware) costs an extra task and a response stream on every request."""

from starlette.datastructures import MutableHeaders
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.core.security import new_token
from app.web.deps import ANON_CSRF_COOKIE, cookie_secure

# Scripts and styles only from the app's own files: no inline <script>, event handler
# attribute, style attribute or <style> block runs, so markup slipped into a page stays inert.
# htmx is told not to inject its indicator style (base.html); app.css carries that rule.
CSP_DIRECTIVES = {
    "default-src": "'self'",
    "script-src": "'self'",
    "style-src": "'self'",
    "img-src": "'self'",
    "object-src": "'none'",
    "base-uri": "'self'",
    "frame-ancestors": "'none'",
    "form-action": "'self'",
}


def content_security_policy(**changed: str) -> str:
    """The policy, with some directives changed: `img_src="'self' data:"`."""
    directives = CSP_DIRECTIVES | {name.replace("_", "-"): v for name, v in changed.items()}
    return "; ".join(f"{name} {value}" for name, value in directives.items())


CONTENT_SECURITY_POLICY = content_security_policy()
# Browser features the app never uses, refused to the page and to anything it embeds.
PERMISSIONS_POLICY = ", ".join(
    f"{feature}=()"
    for feature in (
        "accelerometer",
        "autoplay",
        "camera",
        "display-capture",
        "geolocation",
        "gyroscope",
        "magnetometer",
        "microphone",
        "midi",
        "payment",
        "publickey-credentials-get",
        "screen-wake-lock",
        "serial",
        "usb",
        "xr-spatial-tracking",
    )
)
STRICT_TRANSPORT_SECURITY = "max-age=31536000; includeSubDomains"
SECURITY_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "Permissions-Policy": PERMISSIONS_POLICY,
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
}
# A developer's machine: pinning it to HTTPS for a year would break every plain-HTTP app
# served there afterwards.
LOCAL_HOSTS = frozenset({"localhost", "127.0.0.1", "::1", "testserver"})


def wants_json(request: Request) -> bool:
    return request.url.path.startswith("/api/") or request.url.path == "/healthz"


def sends_hsts(request: Request) -> bool:
    """HSTS wherever cookies are Secure (FILROUGE_COOKIE_SECURE=false turns both off), never
    on a local host."""
    return request.url.hostname not in LOCAL_HOSTS and cookie_secure(request)


class SecurityHeaders:
    """The security headers, and a CSRF token for forms shown before login (the login form).

    A response that sets one of these headers itself keeps its own (downloads' CSP)."""

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
        hsts = sends_hsts(request)
        started = False

        async def send_with_headers(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                headers = MutableHeaders(scope=message)
                if cookie:
                    headers.append("set-cookie", cookie)
                for name, value in SECURITY_HEADERS.items():
                    headers.setdefault(name, value)
                if hsts:
                    headers.setdefault("Strict-Transport-Security", STRICT_TRANSPORT_SECURITY)
            await send(message)

        try:
            await self.app(scope, receive, send_with_headers)
        except Exception:
            # Starlette's ServerErrorMiddleware answers an unhandled error from outside this
            # middleware, without these headers: answer here, it then only re-raises and logs.
            if not started:
                error = PlainTextResponse("Internal Server Error", status_code=500)
                await error(scope, receive, send_with_headers)
            raise


def _csrf_cookie(token: str, *, secure: bool) -> str:
    """The Set-Cookie value, formatted by Starlette as any other cookie."""
    carrier = Response()
    carrier.set_cookie(ANON_CSRF_COOKIE, token, httponly=True, samesite="lax", secure=secure)
    return carrier.headers["set-cookie"]
