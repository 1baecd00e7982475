"""API clients: an operator admin creates one, sees its secret once, revokes it; the client
exchanges its identifier and secret for a token that opens the documents' feed and nothing
else."""

import hashlib
import re

import pytest
from sqlmodel import select

from app.core.config import get_settings
from app.models.api_clients import ApiClient, ApiClientCreate
from app.models.audit import AuditEvent
from app.models.nomenclatures import Role
from app.services.access.api_clients import WRONG_CLIENT, create_api_client
from app.web import deps
from tests.factories import log_in, make_case, make_deliverable, make_staff, read

PAGE = "/admin/clients-api"
TOKEN = "/api/v1/auth/client-token"
FEED = "/api/v1/deliverable-versions"


@pytest.fixture
def admin_csrf(client, session, admin) -> str:
    return log_in(client, session, admin)


def _create(client, csrf, name="GED du siège"):
    page = client.post(PAGE, data={"name": name, "scope": "documents:read", "csrf_token": csrf})
    assert page.status_code == 200
    client_id = re.search(r'id="new-client-id">([^<]+)<', page.text).group(1)
    secret = re.search(r'id="new-client-secret">([^<]+)<', page.text).group(1)
    return page, client_id, secret


def _token(client, client_id, secret):
    form = {"grant_type": "client_credentials", "client_id": client_id, "client_secret": secret}
    return client.post(TOKEN, data=form)


def _with_token(client, token):
    return {"Authorization": f"Bearer {token}"}


def test_the_secret_is_shown_once_and_only_its_hash_is_kept(client, session, admin_csrf):
    page, client_id, secret = _create(client, admin_csrf)
    assert "il ne sera plus jamais affiché" in read(page)
    row = session.exec(select(ApiClient).where(ApiClient.client_id == client_id)).one()
    assert row.secret_hash == hashlib.sha256(secret.encode()).hexdigest()
    assert secret not in row.model_dump_json()
    later = client.get(PAGE)
    assert client_id in later.text and secret not in later.text
    assert row.scope == "documents:read" and "Lecture des documents" in later.text


def test_the_client_exchanges_its_secret_for_a_token_that_reads_the_feed(
    client, session, case, admin_csrf
):
    make_deliverable(session, case, "document_synthese")
    _, client_id, secret = _create(client, admin_csrf)
    client.cookies.clear()
    answer = _token(client, client_id, secret)
    assert answer.status_code == 200
    body = answer.json()
    assert body["token_type"] == "bearer" and body["expires_in"] > 0
    assert answer.headers["cache-control"] == "no-store"
    feed = client.get(FEED, headers=_with_token(client, body["access_token"]))
    assert feed.status_code == 200 and len(feed.json()["versions"]) == 1


@pytest.mark.parametrize("wrong", ["secret", "client_id"])
def test_a_wrong_secret_or_identifier_gets_401(client, admin_csrf, wrong):
    _, client_id, secret = _create(client, admin_csrf)
    if wrong == "client_id":
        answer = _token(client, "frc_faux", secret)
    else:
        answer = _token(client, client_id, "frs_faux")
    assert answer.status_code == 401
    assert answer.json() == {"error": "invalid_client", "error_description": WRONG_CLIENT}
    assert answer.headers["www-authenticate"].startswith("Basic")


def test_a_refused_attempt_is_in_the_audit_trail_without_the_secret(
    client, session, ara, admin_csrf
):
    _, client_id, _secret = _create(client, admin_csrf)
    _token(client, client_id, "frs_devine")
    _token(client, "frc_inconnu", "frs_devine")
    query = select(AuditEvent).where(
        AuditEvent.record_type == "api_client", AuditEvent.action == "login_failed"
    )
    known, unknown = session.exec(query.order_by(AuditEvent.id)).all()
    assert known.operator_id == ara.id and known.record_id is not None
    assert unknown.record_id is None
    assert all("frs_devine" not in event.model_dump_json() for event in (known, unknown))


def test_token_requests_are_rate_limited_per_address_and_identifier(
    client, session, admin_csrf, monkeypatch
):
    monkeypatch.setattr(get_settings(), "public_rate_limit", "3/minute")
    _, client_id, secret = _create(client, admin_csrf)
    for _ in range(3):
        assert _token(client, client_id, "frs_devine").status_code == 401
    refused = _token(client, client_id, secret)
    assert refused.status_code == 429 and refused.json()["error"] == "invalid_request"


def test_the_client_may_authenticate_with_http_basic(client, admin_csrf):
    _, client_id, secret = _create(client, admin_csrf)
    client.cookies.clear()
    answer = client.post(TOKEN, data={"grant_type": "client_credentials"}, auth=(client_id, secret))
    assert answer.status_code == 200 and answer.json()["token_type"] == "bearer"
    assert answer.headers["cache-control"] == "no-store"
    wrong = client.post(TOKEN, data={"grant_type": "client_credentials"}, auth=(client_id, "x"))
    assert wrong.status_code == 401 and wrong.json()["error"] == "invalid_client"
    assert wrong.headers["www-authenticate"].startswith("Basic")


def test_another_grant_type_is_unsupported(client, admin_csrf):
    _, client_id, secret = _create(client, admin_csrf)
    form = {"client_id": client_id, "client_secret": secret, "grant_type": "password"}
    answer = client.post(TOKEN, data=form)
    assert answer.status_code == 400
    assert answer.json()["error"] == "unsupported_grant_type"


def test_the_grant_type_is_required(client, admin_csrf):
    _, client_id, secret = _create(client, admin_csrf)
    answer = client.post(TOKEN, data={"client_id": client_id, "client_secret": secret})
    assert answer.status_code == 400
    assert answer.json()["error"] == "invalid_request"
    assert "access_token" not in answer.json()


def test_missing_credentials_are_an_invalid_client(client):
    answer = client.post(TOKEN, data={"grant_type": "client_credentials"})
    assert answer.status_code == 401 and answer.json()["error"] == "invalid_client"


def test_a_revoked_client_is_refused_at_once(client, session, admin_csrf):
    _, client_id, secret = _create(client, admin_csrf)
    token = _token(client, client_id, secret).json()["access_token"]
    row = session.exec(select(ApiClient).where(ApiClient.client_id == client_id)).one()
    revoked = client.post(
        f"{PAGE}/{row.id}/revoquer", data={"csrf_token": admin_csrf}, follow_redirects=False
    )
    assert revoked.status_code == 303
    assert "Client d'API révoqué" in read(client.get(revoked.headers["location"]))
    client.cookies.clear()
    assert client.get(FEED, headers=_with_token(client, token)).status_code == 401
    assert _token(client, client_id, secret).status_code == 401


def test_creation_and_revocation_are_in_the_audit_trail(client, session, admin, admin_csrf):
    _, client_id, _secret = _create(client, admin_csrf)
    row = session.exec(select(ApiClient).where(ApiClient.client_id == client_id)).one()
    client.post(f"{PAGE}/{row.id}/revoquer", data={"csrf_token": admin_csrf})
    query = select(AuditEvent).where(
        AuditEvent.record_type == "api_client", AuditEvent.record_id == row.id
    )
    events = session.exec(query.order_by(AuditEvent.id)).all()
    assert [e.reason for e in events] == [
        "Client d'API « GED du siège » créé",
        "Client d'API « GED du siège » révoqué",
    ]
    assert {e.actor_id for e in events} == {admin.id}


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/cases",
        "/api/v1/beneficiaries",
        "/api/v1/units",
        "/api/v1/reports/activity",
        "/api/v1/control-campaigns",
        "/api/v1/exports/units",
    ],
)
def test_a_clients_token_opens_nothing_else_in_the_api(client, admin_csrf, path):
    _, client_id, secret = _create(client, admin_csrf)
    token = _token(client, client_id, secret).json()["access_token"]
    client.cookies.clear()
    assert client.get(path, headers=_with_token(client, token)).status_code == 403


def test_a_clients_token_cannot_end_api_sessions(client, admin_csrf):
    _, client_id, secret = _create(client, admin_csrf)
    token = _token(client, client_id, secret).json()["access_token"]
    client.cookies.clear()
    answer = client.post("/api/v1/auth/logout", headers=_with_token(client, token))
    assert answer.status_code == 403


def test_a_client_reads_only_its_operators_documents(client, session, bre, case, admin_csrf):
    theirs = make_deliverable(session, make_case_of(session, bre), "document_synthese")
    _, client_id, secret = _create(client, admin_csrf)
    token = _token(client, client_id, secret).json()["access_token"]
    client.cookies.clear()
    assert client.get(FEED, headers=_with_token(client, token)).json()["versions"] == []
    version_id = theirs.id  # a deliverable id is a fine guess at a version id too
    answer = client.get(f"{FEED}/{version_id}/pdf", headers=_with_token(client, token))
    assert answer.status_code == 404


def make_case_of(session, operator):
    return make_case(session, make_staff(session, operator))


@pytest.mark.parametrize("role", [Role.COUNSELLOR, Role.MANAGER])
def test_only_operator_admins_manage_clients(client, session, ara, role):
    csrf = log_in(client, session, make_staff(session, ara, role))
    assert client.get(PAGE).status_code == 403
    assert client.post(PAGE, data={"name": "x", "csrf_token": csrf}).status_code == 403


def test_another_operators_client_cannot_be_revoked(client, session, bre, admin_csrf):
    other_admin = make_staff(session, bre, Role.OPERATOR_ADMIN)
    theirs, _ = create_api_client(
        session=session, actor=other_admin, data=ApiClientCreate(name="GED Bretagne")
    )
    answer = client.post(f"{PAGE}/{theirs.id}/revoquer", data={"csrf_token": admin_csrf})
    assert answer.status_code == 404
    assert session.get(ApiClient, theirs.id).revoked_at is None


def test_a_nameless_client_is_refused_next_to_the_field(client, admin_csrf):
    page = client.post(PAGE, data={"name": "  ", "csrf_token": admin_csrf})
    assert page.status_code == 422
    assert 'id="name-error"' in page.text
    assert "new-client-secret" not in page.text


def test_a_client_without_the_documents_scope_cannot_read_the_feed(
    client, session, admin_csrf, monkeypatch
):
    _, client_id, secret = _create(client, admin_csrf)
    token = _token(client, client_id, secret).json()["access_token"]
    client.cookies.clear()
    # Every scope stored today is this one: the feed is made to ask for another.
    monkeypatch.setattr(deps, "FEED_SCOPE", "documents:write")
    assert client.get(FEED, headers=_with_token(client, token)).status_code == 403


def test_the_openapi_document_says_how_a_client_gets_its_token(client):
    schema = client.app.openapi()
    flows = schema["components"]["securitySchemes"]["ApiClientCredentials"]["flows"]
    assert flows["clientCredentials"]["tokenUrl"] == TOKEN
    assert "documents:read" in flows["clientCredentials"]["scopes"]
    for path in (FEED, FEED + "/{version_id}/pdf"):
        schemes = {name for entry in schema["paths"][path]["get"]["security"] for name in entry}
        assert {"ApiClientCredentials", "OAuth2PasswordBearer"} <= schemes
