"""« Mon compte »: enrolling an authenticator app, recovery codes, turning it off, personal API
keys; and the token endpoint, which takes a key in place of the password of an account that
signs in with a second factor."""

import pytest
from sqlmodel import select

from app.models.credentials import ApiKey, RecoveryCode, StaffTotp
from app.models.nomenclatures import Role
from app.models.staff import StaffEvent, StaffEventKind
from app.services.admin.staff import deactivate_staff_user
from tests.factories import PASSWORD, code_now, enrol, log_in, make_staff, read


def wrong(secret: str) -> str:
    return "000000" if code_now(secret) != "000000" else "111111"


def kinds(session, user) -> list[str]:
    query = select(StaffEvent.kind).where(StaffEvent.staff_id == user.id).order_by(StaffEvent.id)
    return list(session.exec(query))


def token_for(client, email: str, secret: str):
    return client.post("/api/v1/auth/token", data={"username": email, "password": secret})


@pytest.fixture
def signed_in_enrolled(client, session, ara):
    """A counsellor with an authenticator app, signed in: (user, secret, csrf)."""
    user = make_staff(session, ara)
    secret = enrol(session, user)
    return user, secret, log_in(client, session, user)


# ---- enrolment from the account page ----------------------------------------------------------


def test_the_account_page_offers_enrolment_to_a_person_without_second_factor(client, session, csrf):
    page = read(client.get("/compte"))
    assert "Mon compte" in page and "Non activée" in page
    assert 'href="/compte/double-authentification"' in page
    assert "Les clés d'API se créent une fois la double authentification activée" in page


def test_enrolling_from_the_account_page_needs_a_first_right_code(
    client, session, counsellor, csrf
):
    page = client.get("/compte/double-authentification")
    assert page.status_code == 200 and '<svg role="img"' in page.text
    secret = session.exec(select(StaffTotp.secret).where(StaffTotp.staff_id == counsellor.id)).one()
    refused = client.post(
        "/compte/double-authentification", data={"code": wrong(secret), "csrf_token": csrf}
    )
    assert "Code incorrect" in read(refused)
    done = client.post(
        "/compte/double-authentification", data={"code": code_now(secret), "csrf_token": csrf}
    )
    assert done.status_code == 200 and read(done).count("<li><code>") == 10
    assert kinds(session, counsellor)[-1] == StaffEventKind.TOTP_ENROLLED
    account = read(client.get("/compte"))
    assert "Activée" in account and "Codes de secours restants : <strong>10</strong>" in account


def test_enrolling_needs_the_csrf_token(client, session, counsellor, csrf):
    client.get("/compte/double-authentification")
    secret = session.exec(select(StaffTotp.secret).where(StaffTotp.staff_id == counsellor.id)).one()
    response = client.post("/compte/double-authentification", data={"code": code_now(secret)})
    assert response.status_code == 403


def test_regenerating_recovery_codes_needs_a_code_and_replaces_them(
    client, session, signed_in_enrolled
):
    user, secret, csrf = signed_in_enrolled
    refused = client.post(
        "/compte/codes-de-secours", data={"codes_code": wrong(secret), "csrf_token": csrf}
    )
    assert refused.status_code == 200
    assert 'id="codes_code-error"' in refused.text
    done = client.post(
        "/compte/codes-de-secours", data={"codes_code": code_now(secret), "csrf_token": csrf}
    )
    assert read(done).count("<li><code>") == 10
    rows = session.exec(select(RecoveryCode).where(RecoveryCode.staff_id == user.id)).all()
    assert len(rows) == 10
    assert kinds(session, user)[-1] == StaffEventKind.CODES_REGENERATED


def test_a_person_whose_role_does_not_require_it_may_turn_it_off(
    client, session, signed_in_enrolled
):
    user, secret, csrf = signed_in_enrolled
    response = client.post(
        "/compte/double-authentification/desactiver",
        data={"off_code": code_now(secret), "csrf_token": csrf},
        follow_redirects=False,
    )
    assert response.status_code == 303
    assert session.exec(select(StaffTotp).where(StaffTotp.staff_id == user.id)).first() is None
    assert kinds(session, user)[-1] == StaffEventKind.TOTP_DISABLED


def test_a_role_that_requires_it_cannot_turn_it_off(client, session, ara):
    manager = make_staff(session, ara, Role.MANAGER)
    secret = enrol(session, manager)
    csrf = log_in(client, session, manager)
    assert "Désactiver la double authentification" not in read(client.get("/compte"))
    response = client.post(
        "/compte/double-authentification/desactiver",
        data={"off_code": code_now(secret), "csrf_token": csrf},
    )
    assert "Votre rôle impose la double authentification" in read(response)
    assert session.exec(select(StaffTotp).where(StaffTotp.staff_id == manager.id)).first()


# ---- API keys ----------------------------------------------------------------------------------


def create_key(client, csrf: str, secret: str, name: str = "Tableur mensuel") -> str:
    response = client.post(
        "/compte/cles-api",
        data={"key_name": name, "key_code": code_now(secret), "csrf_token": csrf},
    )
    assert response.status_code == 200
    return read(response).split('<code class="hash" id="new-key">')[1].split("</code>")[0]


def test_a_key_is_created_with_a_code_shown_once_and_kept_hashed(
    client, session, signed_in_enrolled
):
    user, secret, csrf = signed_in_enrolled
    key = create_key(client, csrf, secret)
    assert key.startswith("frk_")
    row = session.exec(select(ApiKey).where(ApiKey.staff_id == user.id)).one()
    assert row.name == "Tableur mensuel" and key not in row.key_hash and row.hint == key[:8]
    page = read(client.get("/compte"))
    assert "Tableur mensuel" in page and key not in page
    assert kinds(session, user)[-1] == StaffEventKind.API_KEY_CREATED


def test_a_key_is_not_created_without_the_right_code_nor_without_a_name(
    client, session, signed_in_enrolled
):
    user, secret, csrf = signed_in_enrolled
    response = client.post(
        "/compte/cles-api",
        data={"key_name": "Script", "key_code": wrong(secret), "csrf_token": csrf},
    )
    assert 'id="key_code-error"' in response.text and 'value="Script"' in response.text
    response = client.post(
        "/compte/cles-api", data={"key_name": " ", "key_code": code_now(secret), "csrf_token": csrf}
    )
    assert 'id="key_name-error"' in response.text
    assert session.exec(select(ApiKey).where(ApiKey.staff_id == user.id)).first() is None


def test_a_person_without_second_factor_creates_no_key(client, session, counsellor, csrf):
    response = client.post(
        "/compte/cles-api", data={"key_name": "Script", "key_code": "123456", "csrf_token": csrf}
    )
    assert "Activez d'abord la double authentification" in read(response)
    assert session.exec(select(ApiKey)).first() is None


def test_the_token_endpoint_refuses_the_password_of_an_enrolled_account_and_takes_its_key(
    client, session, signed_in_enrolled
):
    user, secret, csrf = signed_in_enrolled
    refused = token_for(client, user.email, PASSWORD)
    assert refused.status_code == 401
    assert "l'API demande une clé d'API" in refused.json()["detail"]
    key = create_key(client, csrf, secret)
    response = token_for(client, user.email, key)
    assert response.status_code == 200
    bearer = {"Authorization": f"Bearer {response.json()['access_token']}"}
    assert client.get("/api/v1/cases", headers=bearer).status_code == 200
    row = session.exec(select(ApiKey).where(ApiKey.staff_id == user.id)).one()
    session.refresh(row)
    assert row.last_used_at is not None


def test_the_token_endpoint_refuses_the_password_of_a_role_that_requires_a_second_factor(
    client, session, ara
):
    manager = make_staff(session, ara, Role.MANAGER)  # not enrolled yet: the role requires it
    response = token_for(client, manager.email, PASSWORD)
    assert response.status_code == 401
    assert "clé d'API" in response.json()["detail"]


def test_a_counsellor_without_second_factor_still_gets_a_token_with_the_password(
    client, session, counsellor
):
    assert token_for(client, counsellor.email, PASSWORD).status_code == 200


def test_a_key_of_another_account_or_a_revoked_key_gives_no_token(
    client, session, ara, signed_in_enrolled
):
    user, secret, csrf = signed_in_enrolled
    key = create_key(client, csrf, secret)
    colleague = make_staff(session, ara)
    refused = token_for(client, colleague.email, key)
    assert refused.status_code == 401
    assert refused.json()["detail"] == "Adresse e-mail ou clé d'API incorrecte"
    row = session.exec(select(ApiKey).where(ApiKey.staff_id == user.id)).one()
    revoked = client.post(
        f"/compte/cles-api/{row.id}/revoquer", data={"csrf_token": csrf}, follow_redirects=False
    )
    assert revoked.status_code == 303
    assert token_for(client, user.email, key).status_code == 401
    assert kinds(session, user)[-1] == StaffEventKind.API_KEY_REVOKED


def test_deactivation_revokes_every_key(client, session, signed_in_enrolled):
    user, secret, csrf = signed_in_enrolled
    key = create_key(client, csrf, secret)
    deactivate_staff_user(session=session, email=user.email)
    row = session.exec(select(ApiKey).where(ApiKey.staff_id == user.id)).one()
    session.refresh(row)
    assert row.revoked_at is not None
    assert token_for(client, user.email, key).status_code == 401


def test_wrong_keys_are_throttled_like_passwords(client, session, signed_in_enrolled):
    user, _secret, _csrf = signed_in_enrolled
    for _ in range(5):
        assert token_for(client, user.email, "frk_" + "x" * 43).status_code == 401
    assert token_for(client, user.email, "frk_" + "x" * 43).status_code == 429
