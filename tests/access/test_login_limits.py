"""Login limits: failures per (e-mail, address) and per address, a delay for an account under
attack rather than a lock, alerts on bursts — with an injected clock, three failures allowed."""

import logging
from datetime import UTC, datetime, timedelta

import pytest
from sqlmodel import select

from app.core.config import get_settings
from app.core.errors import Invalid, TooManyAttempts
from app.models.nomenclatures import Role
from app.models.staff import LoginAlert
from app.services.access.auth import authenticate
from app.services.access.login_limits import login_alerts, login_delay, reads_login_alerts
from tests.factories import PASSWORD, make_operator, make_staff

NOW = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
ATTACKER = "203.0.113.66"


@pytest.fixture(autouse=True)
def three_failures(monkeypatch):
    monkeypatch.setattr(get_settings(), "login_max_failures", 3)
    monkeypatch.setattr(get_settings(), "login_window_minutes", 15)


@pytest.fixture
def colleague(session):
    return make_staff(session, make_operator(session))


def attempt(session, email: str, *, ip: str, password: str = "faux", now=NOW):
    return authenticate(session=session, email=email, password=password, ip=ip, now=now)


def fail(session, email: str, *, ip: str, times: int = 1, now=NOW) -> None:
    for _ in range(times):
        with pytest.raises(Invalid):
            attempt(session, email, ip=ip, now=now)


def alerts(session) -> list[LoginAlert]:
    return list(session.exec(select(LoginAlert).order_by(LoginAlert.id)))


# ---- who is refused ----------------------------------------------------------------------


def test_wrong_passwords_from_another_address_never_lock_a_colleague_out(session, colleague):
    fail(session, colleague.email, ip=ATTACKER, times=3)
    assert attempt(session, colleague.email, ip="198.51.100.7", password=PASSWORD) == colleague


def test_the_address_that_failed_is_refused_even_the_right_password(session, colleague):
    fail(session, colleague.email, ip=ATTACKER, times=3)
    with pytest.raises(TooManyAttempts) as caught:
        attempt(session, colleague.email, ip=ATTACKER, password=PASSWORD)
    assert "Réessayez dans 15 minutes" in caught.value.message


def test_an_address_is_refused_for_every_account_after_four_times_the_limit(session, colleague):
    for n in range(4):
        fail(session, f"inconnu{n}@exemple.fr", ip=ATTACKER, times=3)
    with pytest.raises(TooManyAttempts):
        attempt(session, colleague.email, ip=ATTACKER, password=PASSWORD)
    assert attempt(session, colleague.email, ip="198.51.100.7", password=PASSWORD) == colleague


def test_failures_older_than_the_window_are_forgotten(session, colleague):
    fail(session, colleague.email, ip=ATTACKER, times=3, now=NOW - timedelta(minutes=16))
    assert login_delay(session=session, email=colleague.email, now=NOW) == 0
    assert attempt(session, colleague.email, ip=ATTACKER, password=PASSWORD) == colleague


def test_the_email_is_counted_as_accounts_are_looked_up(session, colleague):
    fail(session, f"  {colleague.email.upper()} ", ip=ATTACKER, times=3)
    with pytest.raises(TooManyAttempts):
        attempt(session, colleague.email, ip=ATTACKER, password=PASSWORD)


# ---- the delay for an account under attack -----------------------------------------------


def test_an_account_under_attack_answers_later_the_more_it_failed(session, colleague):
    delays = []
    for n in range(8):
        delays.append(login_delay(session=session, email=colleague.email, now=NOW))
        fail(session, colleague.email, ip=f"198.51.100.{n}")
    assert delays == [0, 0, 0, 0.25, 0.5, 1.0, 2.0, 2.0]


def test_other_accounts_do_not_wait(session, colleague):
    fail(session, colleague.email, ip=ATTACKER, times=3)
    assert login_delay(session=session, email="autre@exemple.fr", now=NOW) == 0


# ---- alerts ------------------------------------------------------------------------------


def test_one_address_trying_many_accounts_raises_one_alert_and_one_warning(session, caplog):
    caplog.set_level(logging.WARNING, logger="app.services.access.login_limits")
    for n in range(4):
        fail(session, f"agent{n}@exemple.fr", ip=ATTACKER, times=2)

    [alert] = alerts(session)
    assert (alert.kind, alert.ip, alert.failures, alert.spread) == ("address", ATTACKER, 6, 3)
    assert alert.operator_id is None and alert.staff_id is None
    [record] = caplog.records
    assert ATTACKER in record.getMessage() and "6 failures on 3 accounts" in record.getMessage()
    assert "@" not in record.getMessage() and "faux" not in record.getMessage()


def test_a_few_colleagues_mistyping_behind_one_address_raise_nothing(session):
    for n in range(5):
        fail(session, f"agent{n}@exemple.fr", ip="192.0.2.10")
    assert alerts(session) == []


def test_one_account_tried_from_several_addresses_raises_an_alert(session, colleague, caplog):
    caplog.set_level(logging.WARNING, logger="app.services.access.login_limits")
    for n in range(3):
        fail(session, colleague.email, ip=f"198.51.100.{n}", times=2)

    [alert] = alerts(session)
    assert (alert.kind, alert.staff_id, alert.operator_id) == (
        "account",
        colleague.id,
        colleague.operator_id,
    )
    assert (alert.failures, alert.spread) == (6, 3)
    [record] = caplog.records
    assert f"staff account {colleague.id}:" in record.getMessage()
    assert colleague.email not in record.getMessage() and "faux" not in record.getMessage()


def test_an_email_without_an_account_raises_no_account_alert(session):
    for n in range(3):
        fail(session, "personne@exemple.fr", ip=f"198.51.100.{n}", times=2)
    assert alerts(session) == []


def test_a_burst_that_goes_on_raises_one_alert_per_window(session, colleague):
    for n in range(5):
        fail(session, colleague.email, ip=f"198.51.100.{n}", times=2)
    assert len(alerts(session)) == 1
    later = NOW + timedelta(minutes=20)
    for n in range(3):
        fail(session, colleague.email, ip=f"198.51.100.{n}", times=2, now=later)
    assert len(alerts(session)) == 2


# ---- who reads the alerts ----------------------------------------------------------------


def test_alerts_are_read_by_administrators_within_their_scope(session):
    ara, bre = make_operator(session), make_operator(session, "BRE", name="Bretagne")
    ara_counsellor, bre_counsellor = make_staff(session, ara), make_staff(session, bre)
    for target in (ara_counsellor, bre_counsellor):
        session.add(
            LoginAlert(
                kind="account",
                operator_id=target.operator_id,
                staff_id=target.id,
                failures=10,
                spread=4,
            )
        )
    session.add(LoginAlert(kind="address", ip=ATTACKER, failures=12, spread=9))
    session.flush()

    def read_by(user):
        return {
            (row.alert.kind, row.alert.operator_id)
            for row in login_alerts(session=session, actor=user)
        }

    ara_admin = make_staff(session, ara, Role.OPERATOR_ADMIN)
    assert read_by(ara_admin) == {("account", ara.id), ("address", None)}
    sysadmin = make_staff(session, None, Role.SYSADMIN)
    assert read_by(sysadmin) == {("account", ara.id), ("account", bre.id), ("address", None)}
    manager = make_staff(session, ara, Role.MANAGER)
    assert not reads_login_alerts(manager) and read_by(manager) == set()


def test_an_account_alert_names_the_account(session, colleague):
    for n in range(3):
        fail(session, colleague.email, ip=f"198.51.100.{n}", times=2)
    admin = make_staff(session, make_operator(session), Role.OPERATOR_ADMIN)  # the same ARA
    [row] = login_alerts(session=session, actor=admin)
    assert row.account == f"{colleague.full_name} ({colleague.email})"
