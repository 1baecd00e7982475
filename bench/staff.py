"""Staff clients: a browser-like session (cookie + CSRF token), the login request, API tokens."""

import re

import httpx

from bench.measure import Send

SESSION_COOKIE = "filrouge_session"
ANON_CSRF_COOKIE = "filrouge_csrf"
_CSRF_META = re.compile(r'<meta name="csrf-token" content="([^"]+)"')
TIMEOUT = httpx.Timeout(300)


class StaffClient(httpx.Client):
    """Logged in as one staff member, with the session's CSRF token for unsafe requests."""

    csrf_token: str = ""


def _anon_csrf(client: httpx.Client) -> str:
    client.get("/login")
    return client.cookies[ANON_CSRF_COOKIE]


def logged_in(base_url: str, email: str, password: str) -> StaffClient:
    client = StaffClient(base_url=base_url, timeout=TIMEOUT)
    form = {"email": email, "password": password, "next": "/", "csrf_token": _anon_csrf(client)}
    response = client.post("/login", data=form)
    if response.status_code != 303 or SESSION_COOKIE not in client.cookies:
        raise SystemExit(f"cannot log in as {email}: is the password right? (--password)")
    found = _CSRF_META.search(client.get("/", follow_redirects=True).text)
    client.csrf_token = found.group(1) if found else ""
    return client


def login_request(base_url: str, email: str, password: str) -> tuple[Send, httpx.Client]:
    """A login as a new visitor: the anonymous CSRF cookie only, no session cookie kept."""
    client = httpx.Client(base_url=base_url, timeout=TIMEOUT)
    token = _anon_csrf(client)
    form = {"email": email, "password": password, "next": "/", "csrf_token": token}

    def send(headers: dict[str, str]) -> httpx.Response:
        client.cookies.clear()
        cookie = {"Cookie": f"{ANON_CSRF_COOKIE}={token}"}
        return client.post("/login", data=form, headers=cookie | headers)

    return send, client


def api_token(base_url: str, email: str, password: str) -> str:
    response = httpx.post(
        f"{base_url}/api/v1/auth/token",
        data={"username": email, "password": password},
        timeout=TIMEOUT,
    )
    response.raise_for_status()
    return response.json()["access_token"]
