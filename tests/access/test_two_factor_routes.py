"""Signing in with a second factor: the code step between the password and the session, the
enrolment a role requires, and how neither half-finished login grants anything else."""

import pytest
from sqlmodel import select

from app.core.otp import totp_code_at
from app.models.base import utcnow
from app.models.credentials import LoginStep, RecoveryCode, StaffTotp
from app.models.nomenclatures import Role
from app.models.staff import LoginAttempt, StaffEvent, StaffEventKind
from tests.factories import PASSWORD, code_now, enrol, make_operator, make_staff, read

STEP_COOKIE = "filrouge_login_step"


def csrf_of(response) -> str:
    return response.text.split('name="csrf_token" value="')[1].split('"')[0]


def password_step(client, user, next_page: str = "/"):
    """The login form posted with the right password; the answer, not followed."""
    token = csrf_of(client.get("/login"))
    form = {"email": user.email, "password": PASSWORD, "csrf_token": token, "next": next_page}
    return client.post("/login", data=form, follow_redirects=False)


def send_code(client, *, code: str = "", recovery_code: str = "", next_page: str = "/"):
    page = client.get("/login/verification")
    form = {"code": code, "recovery_code": recovery_code, "next": next_page}
    return client.post(
        "/login/verification", data={**form, "csrf_token": csrf_of(page)}, follow_redirects=False
    )


@pytest.fixture
def enrolled(session, ara):
    """A counsellor with an authenticator app (counsellors need none at ARA): (user, secret)."""
    user = make_staff(session, ara)
    return user, enrol(session, user)


def events(session, user) -> list[str]:
    query = select(StaffEvent.kind).where(StaffEvent.staff_id == user.id).order_by(StaffEvent.id)
    return list(session.exec(query))


# ---- the code step ---------------------------------------------------------------------------


def test_a_counsellor_without_second_factor_still_signs_in_with_the_password(client, session, ara):
    user = make_staff(session, ara)
    response = password_step(client, user)
    assert response.status_code == 303 and response.headers["location"] == "/"
    assert "filrouge_session" in response.cookies


def test_the_right_password_of_an_enrolled_account_asks_for_a_code_and_opens_no_session(
    client, session, enrolled
):
    user, _secret = enrolled
    response = password_step(client, user, "/triage")
    assert response.status_code == 303
    assert response.headers["location"] == "/login/verification?next=/triage"
    assert "filrouge_session" not in response.cookies
    cookie = response.headers["set-cookie"]
    assert f"{STEP_COOKIE}=" in cookie and "HttpOnly" in cookie and "Path=/login" in cookie
    page = client.get("/login/verification")
    assert page.status_code == 200
    assert "Double authentification" in read(page) and 'autocomplete="one-time-code"' in page.text


@pytest.mark.parametrize("path", ["/", "/triage", "/compte", "/admin/equipe", "/compte/cles-api"])
def test_the_half_signed_state_grants_no_page(client, session, enrolled, path):
    password_step(client, enrolled[0])
    response = client.get(path, follow_redirects=False)
    assert response.status_code in (303, 405)
    if response.status_code == 303:
        assert response.headers["location"].startswith("/login?next=")


def test_the_half_signed_state_grants_no_api_call_even_as_a_session_cookie(
    client, session, enrolled
):
    response = password_step(client, enrolled[0])
    step_token = response.cookies[STEP_COOKIE]
    assert client.get("/api/v1/cases").status_code == 401
    client.cookies.set("filrouge_session", step_token)
    assert client.get("/", follow_redirects=False).status_code == 303
    assert client.get("/api/v1/cases").status_code == 401


def test_the_right_code_opens_the_session_and_goes_where_asked(client, session, enrolled):
    user, secret = enrolled
    password_step(client, user, "/triage")
    response = send_code(client, code=code_now(secret), next_page="/triage")
    assert response.status_code == 303 and response.headers["location"] == "/triage"
    assert "filrouge_session" in response.cookies
    assert client.get("/", follow_redirects=False).status_code == 200
    step = session.exec(select(LoginStep).where(LoginStep.staff_id == user.id)).one()
    assert step.ended_at is not None


def test_a_code_of_the_next_or_previous_time_step_is_accepted(client, session, ara):
    for steps in (-1, 1):
        user = make_staff(session, ara)
        secret = enrol(session, user)
        client.cookies.clear()
        password_step(client, user)
        assert send_code(client, code=code_now(secret, steps)).status_code == 303


def test_a_code_two_steps_away_is_refused(client, session, enrolled):
    user, secret = enrolled
    password_step(client, user)
    response = send_code(client, code=code_now(secret, 2))
    assert response.status_code == 200
    assert "Code incorrect" in read(response)


def test_a_wrong_code_is_refused_counted_and_keeps_the_step(client, session, enrolled):
    user, secret = enrolled
    password_step(client, user)
    response = send_code(client, code="000000" if code_now(secret) != "000000" else "111111")
    assert response.status_code == 200
    assert "Code incorrect, expiré ou déjà utilisé" in read(response)
    assert "filrouge_session" not in response.cookies
    failed = session.exec(
        select(LoginAttempt).where(LoginAttempt.email == user.email, ~LoginAttempt.succeeded)
    ).all()
    assert len(failed) == 1
    assert send_code(client, code=code_now(secret)).status_code == 303


def test_a_code_used_once_is_refused_the_second_time(client, session, app, enrolled):
    user, secret = enrolled
    code = code_now(secret)
    password_step(client, user)
    assert send_code(client, code=code).status_code == 303
    other = type(client)(app)
    password_step(other, user)
    response = send_code(other, code=code)
    assert response.status_code == 200 and "déjà utilisé" in read(response)
    assert "filrouge_session" not in response.cookies


def test_five_wrong_codes_end_the_step_and_send_back_to_the_password(client, session, enrolled):
    user, secret = enrolled
    password_step(client, user)
    wrong = "000000" if code_now(secret) != "000000" else "111111"
    for _ in range(4):
        assert send_code(client, code=wrong).status_code == 200
    response = send_code(client, code=wrong)
    assert response.status_code == 303
    assert response.headers["location"] == "/login?next=/&connexion=codes"
    assert "Trop de codes erronés" in read(client.get(response.headers["location"]))
    # The step is over: even the right code is refused now, back to the password.
    again = send_code(client, code=code_now(secret))
    assert again.status_code == 303 and "connexion=expiree" in again.headers["location"]


def test_the_code_step_is_throttled_like_the_password(client, session, enrolled, monkeypatch):
    """Failures of both steps count together for the address and the account: past the limit
    even the right code is refused, as the right password would be."""
    from app.core.config import get_settings

    monkeypatch.setattr(get_settings(), "login_max_failures", 3)
    user, secret = enrolled
    token = csrf_of(client.get("/login"))
    for _ in range(2):
        client.post("/login", data={"email": user.email, "password": "faux", "csrf_token": token})
    password_step(client, user)
    wrong = "000000" if code_now(secret) != "000000" else "111111"
    assert send_code(client, code=wrong).status_code == 200
    response = send_code(client, code=code_now(secret))
    assert response.status_code == 429
    assert "Trop de tentatives" in read(response)
    assert "filrouge_session" not in response.cookies


def test_an_expired_step_sends_back_to_the_password(client, session, enrolled):
    user, secret = enrolled
    password_step(client, user)
    step = session.exec(select(LoginStep).where(LoginStep.staff_id == user.id)).one()
    step.expires_at = utcnow()
    session.add(step)
    response = send_code(client, code=code_now(secret))
    assert response.status_code == 303 and "connexion=expiree" in response.headers["location"]


def test_a_deactivated_account_cannot_finish_its_login(client, session, enrolled):
    from app.services.admin.staff import deactivate_staff_user

    user, secret = enrolled
    password_step(client, user)
    deactivate_staff_user(session=session, email=user.email)
    response = send_code(client, code=code_now(secret))
    assert response.status_code == 303 and "connexion=expiree" in response.headers["location"]
    assert "filrouge_session" not in response.cookies


# ---- recovery codes --------------------------------------------------------------------------


def test_a_recovery_code_signs_in_once_and_is_recorded(client, session, app, ara):
    from app.services.access.two_factor import confirm_enrolment, enrolment

    user = make_staff(session, ara)
    enrolment(session=session, user=user)
    secret = session.exec(select(StaffTotp.secret).where(StaffTotp.staff_id == user.id)).one()
    codes = confirm_enrolment(session=session, user=user, code=code_now(secret), ip="10.0.0.1")
    password_step(client, user)
    typed = codes[0].lower().replace("-", " ")  # as a person may type it
    response = send_code(client, recovery_code=typed)
    assert response.status_code == 303
    assert response.headers["location"] == "/compte?fait=code-de-secours"
    account = read(client.get("/compte?fait=code-de-secours"))
    assert "il vous en reste 9" in account
    assert events(session, user)[-1] == StaffEventKind.RECOVERY_CODE_USED

    other = type(client)(app)
    password_step(other, user)
    again = send_code(other, recovery_code=codes[0])
    assert again.status_code == 200
    assert "Code de secours incorrect ou déjà utilisé" in read(again)
    used = session.exec(
        select(RecoveryCode).where(RecoveryCode.staff_id == user.id, RecoveryCode.used_at != None)  # noqa: E711
    ).all()
    assert len(used) == 1


# ---- enrolment required by the role ----------------------------------------------------------


@pytest.fixture
def manager_to_enrol(session, ara):
    """A manager of ARA, whose default setting requires managers to sign in with a second factor."""
    assert Role.MANAGER in ara.two_factor_roles
    return make_staff(session, ara, Role.MANAGER)


def secret_shown(page) -> str:
    """The manual key of the enrolment page, without its spaces."""
    return read(page).split('<code id="manual-key">')[1].split("</code>")[0].replace(" ", "")


def test_a_role_that_requires_it_is_sent_to_enrolment_right_after_the_password(
    client, session, manager_to_enrol
):
    response = password_step(client, manager_to_enrol, "/rapports/activite")
    assert response.status_code == 303
    assert response.headers["location"] == "/login/activation?next=/rapports/activite"
    assert "filrouge_session" not in response.cookies
    page = client.get("/login/activation")
    assert page.status_code == 200
    text = read(page)
    assert "Votre rôle (Responsable d'équipe) impose la double authentification" in text
    assert '<svg role="img" ' in page.text and "<title>QR code à scanner" in text
    assert len(secret_shown(page)) == 32
    # The same secret while the enrolment waits for its first code.
    assert secret_shown(client.get("/login/activation")) == secret_shown(page)


@pytest.mark.parametrize(
    "path",
    [
        "/",
        "/compte",
        "/compte/double-authentification",
        "/login/verification",
        "/rapports/activite",
    ],
)
def test_enrolment_cannot_be_skipped_by_visiting_another_page(
    client, session, manager_to_enrol, path
):
    password_step(client, manager_to_enrol)
    response = client.get(path, follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"].startswith("/login?")
    # Coming back: the enrolment still waits, and no session was opened meanwhile.
    assert client.get("/login/activation").status_code == 200
    assert client.get("/", follow_redirects=False).status_code == 303


def test_enrolling_at_login_shows_ten_codes_once_and_opens_the_session(
    client, session, manager_to_enrol
):
    user = manager_to_enrol
    password_step(client, user, "/rapports/activite")
    page = client.get("/login/activation")
    secret = secret_shown(page)
    form = {"code": code_now(secret), "next": "/rapports/activite", "csrf_token": csrf_of(page)}
    response = client.post("/login/activation", data=form, follow_redirects=False)
    assert response.status_code == 200
    assert "filrouge_session" in response.cookies
    text = read(response)
    assert "La double authentification est activée" in text
    assert text.count("<li><code>") == 10
    assert 'href="/rapports/activite"' in text
    hashes = session.exec(select(RecoveryCode.code_hash).where(RecoveryCode.staff_id == user.id))
    assert len(list(hashes)) == 10
    assert StaffEventKind.TOTP_ENROLLED in events(session, user)
    assert client.get("/rapports/activite", follow_redirects=False).status_code == 200
    # The codes are kept hashed only: the page shows them nowhere again.
    first = text.split("<li><code>")[1].split("</code>")[0]
    assert first not in read(client.get("/compte"))


def test_a_wrong_first_code_leaves_enrolment_pending(client, session, manager_to_enrol):
    password_step(client, manager_to_enrol)
    page = client.get("/login/activation")
    secret = secret_shown(page)
    wrong = "000000" if code_now(secret) != "000000" else "111111"
    form = {"code": wrong, "next": "/", "csrf_token": csrf_of(page)}
    response = client.post("/login/activation", data=form, follow_redirects=False)
    assert response.status_code == 200
    assert "Code incorrect" in read(response)
    assert "filrouge_session" not in response.cookies
    row = session.exec(select(StaffTotp).where(StaffTotp.staff_id == manager_to_enrol.id)).one()
    assert row.confirmed_at is None


def test_an_operator_that_requires_nothing_lets_its_manager_in_with_the_password(client, session):
    operator = make_operator(session, "NOR", "Normandie")
    operator.two_factor_managers = operator.two_factor_admins = False
    session.add(operator)
    manager = make_staff(session, operator, Role.MANAGER)
    response = password_step(client, manager)
    assert response.status_code == 303 and response.headers["location"] == "/"


def test_the_code_of_the_step_is_checked_at_the_moment_it_arrives(session, enrolled):
    """The app's code for a given moment is what pyotp computes: RFC 6238's SHA-1, 6 digits."""
    import pyotp

    _user, secret = enrolled
    moment = utcnow()
    assert totp_code_at(secret, moment) == pyotp.TOTP(secret).at(moment)
