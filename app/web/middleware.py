"""What every request gets: an id and one log line (RequestLog), the security headers, and an
answer to an unhandled error (SecurityHeaders). Plain ASGI middleware: Starlette's
BaseHTTPMiddleware costs an extra task and a response stream on every request."""

import logging
import re
import secrets
import time

from starlette.datastructures import MutableHeaders
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.core.logging import bind_request_id, current_request_id
from app.core.metrics import observe_request
from app.core.security import new_token
from app.web.deps import ANON_CSRF_COOKIE, cookie_secure
from app.web.rendering import render

access_log = logging.getLogger("app.access")
error_log = logging.getLogger("app.errors")

REQUEST_ID_HEADER = "X-Request-ID"
# An id a proxy or a client sends is kept when it is one: a UUID, hex, a ULID... Anything
# longer or with other characters (spaces, @, quotes, line breaks) is replaced by one of ours,
# so that a header can neither forge log lines nor slip personal data into them.
_SANE_REQUEST_ID = re.compile(rb"[A-Za-z0-9._:-]{1,64}")

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
# Answered to machines (load balancers, Prometheus), in JSON when not in their own format.
PROBES = frozenset({"/healthz", "/readyz", "/metrics"})
# A developer's machine: pinning it to HTTPS for a year would break every plain-HTTP app
# served there afterwards.
LOCAL_HOSTS = frozenset({"localhost", "127.0.0.1", "::1", "testserver"})


def wants_json(request: Request) -> bool:
    return request.url.path.startswith("/api/") or request.url.path in PROBES


def sends_hsts(request: Request) -> bool:
    """HSTS wherever cookies are Secure (FILROUGE_COOKIE_SECURE=false turns both off), never
    on a local host."""
    return request.url.hostname not in LOCAL_HOSTS and cookie_secure(request)


def incoming_request_id(scope: Scope) -> str | None:
    """The request's X-Request-ID when it is a sane one."""
    for name, value in scope["headers"]:
        if name == b"x-request-id":
            return value.decode("ascii") if _SANE_REQUEST_ID.fullmatch(value) else None
    return None


def new_request_id() -> str:
    """16 hex digits: unique enough to find a request in the logs, short enough to read out."""
    return secrets.token_hex(8)


def route_template(scope: Scope) -> str | None:
    """The matched route's path with its parameters unfilled (`/cases/{case_id}`): the
    address itself may carry a signed link's token or the id of a person."""
    return getattr(scope.get("route"), "path_format", None)


class RequestLog:
    """Gives each request its id (from X-Request-ID, or a new one), returns it in the response's
    X-Request-ID, and writes one line when the response is sent: method, route template,
    status, duration in ms. The outermost middleware, so that it times and sees everything."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        request_id = incoming_request_id(scope) or new_request_id()
        # Not reset on the way out: every request runs in a task of its own, with a copy of the
        # context, and the server's line about an unhandled error, written after the app has
        # returned, is one of the request's lines too.
        bind_request_id(request_id)
        status = 500  # what the server answers if the app raises before its response starts
        logged = False

        def log_line() -> None:
            nonlocal logged
            logged = True
            route = route_template(scope)
            seconds = time.perf_counter() - started
            duration_ms = round(seconds * 1000, 1)
            observe_request(route=route, method=scope["method"], status=status, seconds=seconds)
            access_log.info(
                "%s %s %d %.1f ms", scope["method"], route or "-", status, duration_ms,
                extra={"method": scope["method"], "route": route, "status": status,
                       "duration_ms": duration_ms},
            )  # fmt: skip

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                MutableHeaders(scope=message).append(REQUEST_ID_HEADER, request_id)
            await send(message)
            # Written when the response is sent: background tasks run after it, their time
            # is not the request's.
            if message["type"] == "http.response.body" and not message.get("more_body"):
                log_line()

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            if not logged:
                log_line()


def server_error(request: Request) -> Response:
    """The answer to an unhandled error: the 500 page (or JSON) with the request id, which a
    user can quote and the logs carry."""
    request_id = current_request_id()
    if wants_json(request):
        body = {"detail": "Erreur interne du serveur", "request_id": request_id}
        return JSONResponse(body, status_code=500)
    try:
        # No user: the one the request loaded may be unusable after the error.
        context = {
            "status": 500,
            "message": "Erreur interne du serveur",
            "user": None,
            "request_id": request_id,
        }
        return render(request, "errors/error.html", context, status_code=500)
    except Exception:  # the page failing too must not hide the id
        error_log.exception("the 500 page could not be rendered")
        text = f"Erreur interne du serveur. Référence : {request_id}"
        return PlainTextResponse(text, status_code=500)


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
            # middleware, without these headers: answer here. The error goes on up to the
            # server, which logs it with its traceback (and the request id: RequestLog).
            if not started:
                await server_error(request)(scope, receive, send_with_headers)
            raise


def _csrf_cookie(token: str, *, secure: bool) -> str:
    """The Set-Cookie value, formatted by Starlette as any other cookie."""
    carrier = Response()
    carrier.set_cookie(ANON_CSRF_COOKIE, token, httponly=True, samesite="lax", secure=secure)
    return carrier.headers["set-cookie"]
