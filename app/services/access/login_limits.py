"""Login throttling that nobody can turn against a colleague: failures are counted per (e-mail,
address) and per address, an account under attack answers slowly rather than not at all, and
bursts of failures raise an alert for administrators (« Messages ») and in the logs.

N is FILROUGE_LOGIN_MAX_FAILURES, counted over FILROUGE_LOGIN_WINDOW_MINUTES:
- an address that failed N times for an e-mail is refused for that e-mail, and one that failed
  4 × N times in all is refused for every e-mail;
- once an e-mail has failed N times from all addresses together, every login for it waits
  before its password is checked (a quarter of a second, doubling with each failure, two
  seconds at most), whoever sends it: guessing slows down, the right password still works;
- 2 × N failures on N accounts or more from one address, or 2 × N failures on one account from
  several addresses, raise one alert per window."""

import logging
from datetime import datetime, timedelta
from typing import NamedTuple

from sqlalchemy import distinct, func, or_
from sqlmodel import Session, col, select

from app.core.config import get_settings
from app.core.errors import TooManyAttempts
from app.models.base import utcnow
from app.models.fields import without_nul
from app.models.nomenclatures import Role
from app.models.staff import LoginAlert, LoginAttempt, StaffUser
from app.services.access.scope import operator_of, owned_by
from app.services.audit.sign_ins import sign_in_refused

log = logging.getLogger(__name__)

FIRST_DELAY_SECONDS = 0.25
MAX_DELAY_SECONDS = 2.0
ADDRESS_FACTOR = 4  # failures allowed to one address for all e-mails, in multiples of N
SPRAY_FACTOR = 2  # failures that make a burst, in multiples of N
ALERT_READERS = frozenset({Role.OPERATOR_ADMIN, Role.SYSADMIN})


def login_email(typed: str) -> str:
    """An e-mail as logins are counted and accounts looked up."""
    return without_nul(typed).strip().lower()[:254]


def _window_start(now: datetime) -> datetime:
    return now - timedelta(minutes=get_settings().login_window_minutes)


def _failures(session: Session, since: datetime, *conditions) -> int:
    query = select(func.count()).where(
        col(LoginAttempt.succeeded).is_(False), LoginAttempt.attempted_at >= since, *conditions
    )
    return session.exec(query).one()


def _failures_and_spread(session: Session, since: datetime, spread_over, *conditions):
    """Recent failures and how many distinct values of `spread_over` they came with."""
    query = select(func.count(), func.count(distinct(spread_over))).where(
        col(LoginAttempt.succeeded).is_(False), LoginAttempt.attempted_at >= since, *conditions
    )
    return tuple(session.exec(query).one())


def check_login_allowed(*, session: Session, email: str, ip: str, now: datetime) -> None:
    """Refuse an address that failed too often for this e-mail, or for all e-mails."""
    settings = get_settings()
    since = _window_start(now)
    limit = settings.login_max_failures
    if (
        _failures(session, since, LoginAttempt.email == email, LoginAttempt.ip == ip) >= limit
        or _failures(session, since, LoginAttempt.ip == ip) >= limit * ADDRESS_FACTOR
    ):
        raise TooManyAttempts(
            f"Trop de tentatives. Réessayez dans {settings.login_window_minutes} minutes."
        )


def login_delay(*, session: Session, email: str, now: datetime | None = None) -> float:
    """Seconds a login for this e-mail waits before its password is checked."""
    limit = get_settings().login_max_failures
    failures = _failures(session, _window_start(now or utcnow()), LoginAttempt.email == email)
    beyond = failures - limit
    if beyond < 0:
        return 0.0
    return min(MAX_DELAY_SECONDS, FIRST_DELAY_SECONDS * 2 ** min(beyond, 8))


def record_attempt(
    *, session: Session, email: str, ip: str, user: StaffUser | None, ok: bool, now: datetime
) -> None:
    """Keep the attempt; after a failure, raise an alert if it completes a burst."""
    session.add(LoginAttempt(email=email, ip=ip, succeeded=ok, attempted_at=now))
    session.flush()
    if not ok:
        sign_in_refused(session, user=user)
        _watch_for_bursts(session, email=email, ip=ip, user=user, now=now)


def _recently_alerted(session: Session, since: datetime, kind: str, condition) -> bool:
    query = select(LoginAlert.id).where(
        LoginAlert.kind == kind, LoginAlert.created_at >= since, condition
    )
    return session.exec(query.limit(1)).first() is not None


def _watch_for_bursts(
    session: Session, *, email: str, ip: str, user: StaffUser | None, now: datetime
) -> None:
    _watch_address(session, ip=ip, now=now)
    if user is not None:  # no account behind the e-mail: nothing to protect, nothing to tell
        _watch_account(session, email=email, user=user, now=now)


def _watch_address(session: Session, *, ip: str, now: datetime) -> None:
    """Many accounts tried from one address."""
    settings = get_settings()
    since, limit = _window_start(now), settings.login_max_failures
    failures, accounts = _failures_and_spread(
        session, since, LoginAttempt.email, LoginAttempt.ip == ip
    )
    if failures < limit * SPRAY_FACTOR or accounts < limit:
        return
    if _recently_alerted(session, since, "address", LoginAlert.ip == ip):
        return
    session.add(
        LoginAlert(kind="address", ip=ip, failures=failures, spread=accounts, created_at=now)
    )
    session.flush()
    # The address is what an administrator acts on; the accounts tried are not named.
    log.warning(
        "login burst from address %s: %d failures on %d accounts in %d minutes",
        ip, failures, accounts, settings.login_window_minutes,
    )  # fmt: skip


def _watch_account(session: Session, *, email: str, user: StaffUser, now: datetime) -> None:
    """One account tried from several addresses (one address alone is refused sooner)."""
    settings = get_settings()
    since, limit = _window_start(now), settings.login_max_failures
    failures, addresses = _failures_and_spread(
        session, since, LoginAttempt.ip, LoginAttempt.email == email
    )
    if failures < limit * SPRAY_FACTOR:
        return
    if _recently_alerted(session, since, "account", LoginAlert.staff_id == user.id):
        return
    alert = LoginAlert(
        kind="account",
        operator_id=user.operator_id,
        staff_id=user.id,
        failures=failures,
        spread=addresses,
        created_at=now,
    )
    session.add(alert)
    session.flush()
    # The account by its id: the log needs no e-mail address to be acted on.
    log.warning(
        "login burst on staff account %d: %d failures from %d addresses in %d minutes",
        user.id, failures, addresses, settings.login_window_minutes,
    )  # fmt: skip


# ---------- What administrators read ----------


class LoginAlertRow(NamedTuple):
    alert: LoginAlert
    account: str | None  # « Name (e-mail) » of the account tried, for an `account` alert


def reads_login_alerts(actor: StaffUser) -> bool:
    return actor.role in ALERT_READERS


def login_alerts(*, session: Session, actor: StaffUser, limit: int = 20) -> list[LoginAlertRow]:
    """The most recent alerts the actor is told about, newest first: system administrators
    all of them; an operator's administrators the bursts from an address (they name no
    account) and those on their operator's accounts."""
    if not reads_login_alerts(actor):
        return []
    query = (
        select(LoginAlert, StaffUser.full_name, StaffUser.email)
        .outerjoin(StaffUser, col(StaffUser.id) == LoginAlert.staff_id)
        .order_by(col(LoginAlert.created_at).desc(), col(LoginAlert.id).desc())
        .limit(limit)
    )
    if actor.role != Role.SYSADMIN:
        query = query.where(
            or_(LoginAlert.kind == "address", owned_by(LoginAlert, operator_of(actor)))
        )
    return [
        LoginAlertRow(alert, f"{name} ({email})" if email else None)
        for alert, name, email in session.exec(query)
    ]
