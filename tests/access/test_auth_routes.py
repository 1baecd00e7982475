import asyncio

import pytest
from fastapi.testclient import TestClient

from app.models.nomenclatures import Role
from app.routes.access.auth import login_pause
from app.services.admin.staff import deactivate_staff_user
from tests.factories import PASSWORD, log_in, make_operator, make_staff, post_login

ATTACKER = ("203.0.113.66", 40000)


def csrf_from(client) -> str:
    page = client.get("/login")
    return page.text.split('name="csrf_token" value="')[1].split('"')[0]


def test_login_page_is_french_and_sets_csrf_cookie(client):
    page = client.get("/login")
    assert page.status_code == 200
    assert "Connexion" in page.text
    assert "filrouge_csrf" in page.cookies


def test_login_sets_an_httponly_lax_session_cookie(client, session):
    user = make_staff(session, make_operator(session))
    response = client.post(
        "/login",
        data={"email": user.email, "password": PASSWORD, "csrf_token": csrf_from(client)},
        follow_redirects=False,
    )
    assert response.status_code == 303
    cookie = response.headers["set-cookie"]
    assert "filrouge_session=" in cookie and "HttpOnly" in cookie and "SameSite=lax" in cookie


def test_wrong_password_shows_french_message_and_keeps_email(client, session):
    user = make_staff(session, make_operator(session))
    response = client.post(
        "/login", data={"email": user.email, "password": "faux", "csrf_token": csrf_from(client)}
    )
    assert "Adresse e-mail ou mot de passe incorrect" in response.text
    assert f'value="{user.email}"' in response.text


def test_login_without_csrf_token_is_refused(client, session):
    user = make_staff(session, make_operator(session))
    client.get("/login")
    response = client.post("/login", data={"email": user.email, "password": PASSWORD})
    assert response.status_code == 403


def test_repeated_failures_throttle_even_the_right_password(client, session):
    user = make_staff(session, make_operator(session))
    token = csrf_from(client)
    for _ in range(5):
        client.post("/login", data={"email": user.email, "password": "faux", "csrf_token": token})
    response = client.post(
        "/login", data={"email": user.email, "password": PASSWORD, "csrf_token": token}
    )
    assert response.status_code == 429
    assert "Trop de tentatives" in response.text


@pytest.fixture
def pauses(app) -> list[float]:
    """The waits of logins for an account under attack, recorded instead of slept."""
    waited: list[float] = []

    async def record(seconds: float) -> None:
        waited.append(seconds)

    app.dependency_overrides[login_pause] = lambda: record
    return waited


def test_a_colleague_is_not_locked_out_by_wrong_passwords_from_another_address(
    app, session, pauses
):
    user = make_staff(session, make_operator(session))
    for _ in range(5):
        post_login(app, ATTACKER, user.email, "faux")
    assert post_login(app, ATTACKER, user.email, PASSWORD).status_code == 429

    assert post_login(app, ("198.51.100.7", 1234), user.email, PASSWORD).status_code == 303


def test_the_right_password_from_a_new_address_during_an_attack_gets_in_after_a_wait(
    app, session, pauses
):
    user = make_staff(session, make_operator(session))
    for n in range(3):
        for _ in range(5):
            post_login(app, (f"203.0.113.{n}", 40000), user.email, "faux")
    pauses.clear()

    response = post_login(app, ("198.51.100.7", 1234), user.email, PASSWORD)

    assert response.status_code == 303
    assert pauses == [2.0]


def test_no_login_waits_while_nobody_attacks(app, session, pauses):
    user = make_staff(session, make_operator(session))
    post_login(app, ATTACKER, user.email, "faux")
    assert post_login(app, ATTACKER, user.email, PASSWORD).status_code == 303
    assert pauses == []


def test_api_tokens_follow_the_same_limits(app, session, pauses):
    user = make_staff(session, make_operator(session))
    attacker, colleague = (
        TestClient(app, client=ATTACKER),
        TestClient(app, client=("198.51.100.7", 1)),
    )
    for _ in range(6):
        answer = attacker.post(
            "/api/v1/auth/token", data={"username": user.email, "password": "faux"}
        )
    assert answer.status_code == 429
    good = colleague.post("/api/v1/auth/token", data={"username": user.email, "password": PASSWORD})
    assert good.status_code == 200
    assert pauses[-1] == 0.25


def test_the_default_wait_is_awaited_not_slept_in_a_thread():
    assert login_pause() is asyncio.sleep


def test_pages_redirect_to_login_when_logged_out(client):
    response = client.get("/", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"].startswith("/login")


def test_logout_revokes_the_session(client, session):
    user = make_staff(session, make_operator(session))
    csrf = log_in(client, session, user)
    assert client.get("/").status_code == 200
    client.post("/logout", data={"csrf_token": csrf})
    assert client.get("/", follow_redirects=False).status_code == 303


def test_unsafe_request_with_session_but_no_token_is_refused(client, session):
    user = make_staff(session, make_operator(session))
    log_in(client, session, user)
    assert client.post("/logout").status_code == 403


def test_api_token_flow_and_bearer_access(client, session):
    user = make_staff(session, make_operator(session))
    response = client.post(
        "/api/v1/auth/token", data={"username": user.email, "password": PASSWORD}
    )
    assert response.status_code == 200
    token = response.json()["access_token"]
    units = client.get("/api/v1/units", headers={"Authorization": f"Bearer {token}"})
    assert [u["code"] for u in units.json()] == ["UO0", "UO1", "UO2.1", "UO2.2"]


def test_api_refuses_bad_password_and_tampered_token(client, session):
    user = make_staff(session, make_operator(session))
    bad = client.post("/api/v1/auth/token", data={"username": user.email, "password": "x"})
    assert bad.status_code == 401
    good = client.post("/api/v1/auth/token", data={"username": user.email, "password": PASSWORD})
    token = good.json()["access_token"][:-3] + "abc"
    assert (
        client.get("/api/v1/units", headers={"Authorization": f"Bearer {token}"}).status_code == 401
    )


def api_token(client, user) -> dict[str, str]:
    response = client.post(
        "/api/v1/auth/token", data={"username": user.email, "password": PASSWORD}
    )
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


def test_api_logout_revokes_every_token_of_the_caller_only(client, session):
    operator = make_operator(session)
    user, colleague = make_staff(session, operator), make_staff(session, operator)
    first, second, theirs = (
        api_token(client, user),
        api_token(client, user),
        api_token(client, colleague),
    )
    assert client.post("/api/v1/auth/logout", headers=first).status_code == 204
    for headers in (first, second):
        refused = client.get("/api/v1/units", headers=headers)
        assert refused.status_code == 401 and refused.json() == {
            "detail": "Authentification requise"
        }
    assert client.post("/api/v1/auth/logout", headers=second).status_code == 401
    assert client.get("/api/v1/units", headers=theirs).status_code == 200
    assert client.get("/api/v1/units", headers=api_token(client, user)).status_code == 200


def test_signing_out_of_the_pages_leaves_api_tokens_alone(client, session):
    user = make_staff(session, make_operator(session))
    headers = api_token(client, user)
    csrf = log_in(client, session, user)
    client.post("/logout", data={"csrf_token": csrf})
    assert client.get("/api/v1/units", headers=headers).status_code == 200


def test_a_deactivated_account_loses_its_tokens_and_sessions_for_good(client, session):
    user = make_staff(session, make_operator(session))
    headers = api_token(client, user)
    log_in(client, session, user)
    deactivate_staff_user(session=session, email=user.email.upper())
    assert client.get("/api/v1/units", headers=headers).status_code == 401
    assert client.get("/", follow_redirects=False).status_code == 303
    user.active = True  # opened again: a new sign-in is needed everywhere
    session.add(user)
    assert client.get("/api/v1/units", headers=headers).status_code == 401
    assert client.get("/", follow_redirects=False).status_code == 303
    assert client.get("/api/v1/units", headers=api_token(client, user)).status_code == 200


def test_national_observer_home_shows_no_personal_data(client, session):
    observer = make_staff(session, None, Role.NATIONAL_OBSERVER)
    log_in(client, session, observer)
    page = client.get("/")
    assert "ne donne accès à aucune donnée personnelle" in page.text
    assert client.get("/triage").status_code == 403


def test_a_nul_character_in_the_login_email_is_just_a_wrong_login(client, session):
    response = client.post(
        "/login",
        data={"email": "a\x00@exemple.fr", "password": "x", "csrf_token": csrf_from(client)},
    )
    assert "Adresse e-mail ou mot de passe incorrect" in response.text
