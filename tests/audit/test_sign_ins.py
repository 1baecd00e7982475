"""Signing in and out, and a refused sign-in, each leave an entry in the audit trail with who
and from where (never the e-mail or password typed)."""

from sqlmodel import select

from app.models.audit import AuditEvent
from tests.access.test_auth_routes import csrf_from
from tests.factories import PASSWORD, bearer, log_in

BROWSER = {"User-Agent": "Navigateur de test/1.0"}


def _entries(session) -> list[AuditEvent]:
    return list(session.exec(select(AuditEvent).order_by(AuditEvent.id)).all())


def test_a_login_is_recorded_with_its_origin(client, session, counsellor):
    response = client.post(
        "/login",
        data={"email": counsellor.email, "password": PASSWORD, "csrf_token": csrf_from(client)},
        headers=BROWSER,
        follow_redirects=False,
    )
    assert response.status_code == 303
    [entry] = _entries(session)
    assert (entry.action, entry.actor_id, entry.actor_role) == (
        "login",
        counsellor.id,
        "counsellor",
    )
    assert (entry.record_type, entry.operator_id) == ("staff_session", counsellor.operator_id)
    assert entry.ip == "testclient" and entry.user_agent == "Navigateur de test/1.0"


def test_a_wrong_password_is_recorded_for_the_account_tried(client, session, counsellor):
    form = {"email": counsellor.email, "password": "faux", "csrf_token": csrf_from(client)}
    client.post("/login", data=form)
    [entry] = _entries(session)
    assert (entry.action, entry.actor_id, entry.record_id) == (
        "login_failed",
        counsellor.id,
        counsellor.id,
    )


def test_an_unknown_address_is_recorded_for_nobody(client, session, counsellor):
    form = {"email": "personne@exemple.fr", "password": "faux", "csrf_token": csrf_from(client)}
    client.post("/login", data=form)
    [entry] = _entries(session)
    assert (entry.action, entry.actor_id, entry.operator_id) == ("login_failed", None, None)
    assert "personne" not in repr(entry.model_dump())


def test_a_logout_is_recorded(client, session, counsellor):
    csrf = log_in(client, session, counsellor)
    client.post("/logout", data={"csrf_token": csrf}, follow_redirects=False)
    assert [(e.action, e.actor_id) for e in _entries(session)] == [
        ("login", counsellor.id),
        ("logout", counsellor.id),
    ]


def test_an_api_token_and_its_end_are_recorded(client, session, counsellor):
    token = client.post(
        "/api/v1/auth/token",
        data={"username": counsellor.email, "password": PASSWORD},
    )
    assert token.status_code == 200
    client.post("/api/v1/auth/logout", headers=bearer(counsellor))
    assert [(e.action, e.record_type) for e in _entries(session)] == [
        ("login", "api_token"),
        ("logout", "api_token"),
    ]
