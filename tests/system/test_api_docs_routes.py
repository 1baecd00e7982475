"""The API's documentation (/docs, /redoc, /openapi.json): vendored assets, no inline script,
and only for the readers FILROUGE_API_DOCS allows."""

import hashlib
import re
from pathlib import Path

import pytest

from app.core.config import get_settings
from tests.factories import log_in, make_operator, make_staff

DOC_PATHS = ("/docs", "/redoc", "/openapi.json")
STATIC = Path(__file__).resolve().parents[2] / "app" / "static"


@pytest.fixture
def signed_in(client, session):
    log_in(client, session, make_staff(session, make_operator(session)))
    return client


def scripts_and_styles(page: str) -> list[str]:
    """The src and href of the page's scripts and stylesheets."""
    return re.findall(r'<(?:script|link)[^>]*\b(?:src|href)="([^"]+)"', page)


@pytest.mark.parametrize("path", DOC_PATHS)
def test_anonymous_reader_is_sent_to_the_login_form(client, path):
    response = client.get(path, follow_redirects=False)

    assert response.status_code == 303
    assert response.headers["location"] == f"/login?next={path}"


def test_staff_reads_swagger_ui_from_vendored_files_without_inline_script(signed_in):
    response = signed_in.get("/docs")

    assert response.status_code == 200
    assert scripts_and_styles(response.text) == [
        "/static/vendor/swagger-ui/favicon-32x32.png",
        "/static/vendor/swagger-ui/swagger-ui.css",
        "/static/api-docs.css",
        "/static/vendor/swagger-ui/swagger-ui-bundle.js",
        "/static/swagger-init.js",
    ]
    assert 'data-spec-url="/openapi.json"' in response.text
    assert re.search(r"<script(?![^>]*\bsrc=)", response.text) is None
    assert not re.search(r"cdn\.|jsdelivr|unpkg", response.text)
    assert "script-src 'self';" in response.headers["content-security-policy"]


def test_staff_reads_redoc_whose_styles_carry_this_response_nonce(signed_in):
    response = signed_in.get("/redoc")

    assert response.status_code == 200
    assert "/static/vendor/redoc/redoc.standalone.js" in scripts_and_styles(response.text)
    assert '<redoc spec-url="/openapi.json" disable-telemetry="true">' in response.text
    assert re.search(r"<script(?![^>]*\bsrc=)", response.text) is None
    assert not re.search(r"cdn\.|jsdelivr|unpkg|fonts\.googleapis", response.text)
    nonce = re.search(r'<meta property="csp-nonce" content="([^"]+)">', response.text)[1]
    policy = response.headers["content-security-policy"]
    assert f"style-src 'self' 'nonce-{nonce}';" in policy
    assert "script-src 'self';" in policy
    assert nonce not in signed_in.get("/redoc").text  # a new one on every response


def test_staff_reads_the_openapi_document(signed_in):
    document = signed_in.get("/openapi.json").json()

    assert document["info"]["title"] == "Fil rouge"
    assert "/api/v1/cases" in document["paths"]
    assert not any(path in document["paths"] for path in DOC_PATHS)


@pytest.mark.parametrize("path", DOC_PATHS)
def test_public_docs_are_served_to_anyone(client, monkeypatch, path):
    monkeypatch.setattr(get_settings(), "api_docs", "public")

    assert client.get(path).status_code == 200


@pytest.mark.parametrize("path", DOC_PATHS)
def test_docs_turned_off_are_a_404_even_for_staff(signed_in, monkeypatch, path):
    monkeypatch.setattr(get_settings(), "api_docs", "off")

    assert signed_in.get(path).status_code == 404


@pytest.mark.parametrize("page", ["/docs", "/redoc"])
def test_every_asset_of_the_docs_is_served_by_the_app(signed_in, page):
    for url in scripts_and_styles(signed_in.get(page).text):
        asset = signed_in.get(url)
        assert asset.status_code == 200, url
        assert asset.content == (STATIC / url.removeprefix("/static/")).read_bytes()


@pytest.mark.parametrize("package", ["swagger-ui", "redoc", "htmx"])
def test_each_vendored_file_is_the_one_its_version_file_names(package):
    folder = STATIC / "vendor" / package
    version = (folder / "VERSION").read_text()
    hashes = dict(re.findall(r"sha256\((\S+)\) ([0-9a-f]{64})", version))

    assert "npm" in version and (folder / "LICENSE").read_text().strip()
    assert hashes, version
    for name, digest in hashes.items():
        assert hashlib.sha256((folder / name).read_bytes()).hexdigest() == digest, name
