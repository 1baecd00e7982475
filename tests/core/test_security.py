import re
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from jose import jwt

from app.core.config import get_settings
from app.core.security import (
    InvalidToken,
    Pseudonyms,
    create_api_token,
    create_jwt,
    decode_jwt,
    hash_password,
    read_api_token,
    verify_password,
)
from app.models.staff import StaffUser


def test_api_token_round_trips_the_staff_id_and_token_version():
    assert read_api_token(create_api_token(StaffUser(id=42, token_version=3))) == (42, 3)


@pytest.mark.parametrize("version", [None, "3", True, 2.5])
def test_api_token_without_an_integer_version_is_refused(version):
    claims = {} if version is None else {"ver": version}
    token = create_jwt(
        subject="42", audience="filrouge-api", lifetime=timedelta(minutes=5), claims=claims
    )
    with pytest.raises(InvalidToken):
        read_api_token(token)


def test_expired_token_is_refused():
    token = create_jwt(subject="1", audience="filrouge-api", lifetime=timedelta(seconds=-1))
    with pytest.raises(InvalidToken):
        read_api_token(token)


def test_token_for_another_audience_is_refused():
    token = create_jwt(subject="1", audience="partenaire", lifetime=timedelta(minutes=5))
    with pytest.raises(InvalidToken):
        read_api_token(token)


def test_unsigned_token_is_refused():
    claims = {"sub": "1", "aud": "filrouge-api", "iss": "filrouge", "exp": 9999999999}
    forged = jwt.encode(claims, "", algorithm="HS256").rsplit(".", 1)[0] + "."
    with pytest.raises(InvalidToken):
        decode_jwt(forged, audience="filrouge-api")


def test_token_signed_with_another_key_is_refused():
    settings = get_settings()
    claims = {
        "sub": "1",
        "aud": settings.jwt_audience,
        "iss": settings.jwt_issuer,
        "exp": 9999999999,
    }
    with pytest.raises(InvalidToken):
        read_api_token(jwt.encode(claims, "une-autre-cle", algorithm="HS256"))


def test_passwords_are_argon2_hashed_and_checked():
    digest = hash_password("correct horse battery")
    assert digest.startswith("$argon2")
    assert verify_password("correct horse battery", digest)
    assert not verify_password("wrong", digest)


def test_a_hash_made_with_older_parameters_is_replaced_at_login(session):
    from argon2 import PasswordHasher

    from app.core.security import needs_rehash, verify_password
    from app.services.access.auth import authenticate
    from tests.factories import make_operator, make_staff

    older = PasswordHasher(time_cost=3, memory_cost=64 * 1024, parallelism=4)
    user = make_staff(
        session, make_operator(session), password_hash=older.hash("ancien-mot-de-passe")
    )
    assert needs_rehash(user.password_hash)
    authenticate(session=session, email=user.email, password="ancien-mot-de-passe", ip="::1")
    assert not needs_rehash(user.password_hash)
    assert verify_password("ancien-mot-de-passe", user.password_hash)


def test_every_response_carries_the_security_headers_and_forms_get_a_csrf_cookie(client):
    page = client.get("/login")
    api = client.get("/healthz")

    for response in (page, api):
        assert response.headers["x-content-type-options"] == "nosniff"
        assert response.headers["x-frame-options"] == "DENY"
        assert response.headers["referrer-policy"] == "same-origin"
    assert "csrf" in page.headers["set-cookie"].lower()
    assert "httponly" in page.headers["set-cookie"].lower()
    assert "set-cookie" not in api.headers


def policy_of(response) -> dict[str, str]:
    """The Content-Security-Policy header as {directive: sources}."""
    directives = (
        part.strip().split(" ", 1)
        for part in response.headers["content-security-policy"].split(";")
    )
    return {name: sources for name, sources in directives}


@pytest.mark.parametrize(
    ("path", "status"),
    [
        ("/login", 200),  # a page
        ("/nulle-part", 404),  # an error page
        ("/api/v1/cases", 401),  # a JSON API error
        ("/api/v1/nulle-part", 404),
        ("/static/app.css", 200),
    ],
)
def test_every_response_carries_the_content_security_and_permissions_policies(client, path, status):
    response = client.get(path)

    assert response.status_code == status
    assert policy_of(response) == {
        "default-src": "'self'",
        "script-src": "'self'",
        "style-src": "'self'",
        "img-src": "'self'",
        "object-src": "'none'",
        "base-uri": "'self'",
        "frame-ancestors": "'none'",
        "form-action": "'self'",
    }
    features = response.headers["permissions-policy"].split(", ")
    assert {"camera=()", "microphone=()", "geolocation=()", "payment=()", "usb=()"} <= set(features)


def test_an_unhandled_error_still_answers_with_the_security_headers(own_app):
    app = own_app

    @app.get("/casse")
    def broken() -> None:
        raise RuntimeError("boom")

    response = TestClient(app, raise_server_exceptions=False).get("/casse")

    assert response.status_code == 500
    assert policy_of(response)["script-src"] == "'self'"
    assert response.headers["x-content-type-options"] == "nosniff"


def test_pages_hold_no_inline_script_nor_style(client):
    page = client.get("/login").text

    assert re.search(r"<script(?![^>]*\bsrc=)", page) is None
    assert "<style" not in page and "style=" not in page
    assert '"includeIndicatorStyles": false' in page  # htmx injects no <style> either


@pytest.mark.parametrize("base_url", ["http://localhost", "http://127.0.0.1:8000", "http://[::1]"])
def test_no_hsts_on_a_local_host(app, base_url):
    response = TestClient(app, base_url=base_url).get("/login")

    assert "strict-transport-security" not in response.headers


def test_hsts_on_any_other_host(app):
    response = TestClient(app, base_url="https://filrouge.example").get("/login")

    assert response.headers["strict-transport-security"] == "max-age=31536000; includeSubDomains"


def test_no_hsts_when_cookies_are_configured_not_secure(app, monkeypatch):
    monkeypatch.setattr(get_settings(), "cookie_secure", False)

    response = TestClient(app, base_url="http://filrouge.example").get("/login")

    assert "strict-transport-security" not in response.headers


def test_a_pseudonym_is_stable_keyed_and_of_its_purpose(monkeypatch):
    feed = Pseudonyms("flux-unites", length=16)
    code = feed.of("episode", 42)
    assert re.fullmatch(r"[A-Z2-7]{16}", code)
    assert Pseudonyms("flux-unites", length=16).of("episode", 42) == code
    assert feed.of("episode", 43) != code
    assert Pseudonyms("pseudonyme", length=16).of("episode", 42) != code
    assert Pseudonyms("flux-unites", length=10).of("episode", 42) == code[:10]
    monkeypatch.setattr(get_settings(), "secret_key", "une-autre-cle")
    assert Pseudonyms("flux-unites", length=16).of("episode", 42) != code
