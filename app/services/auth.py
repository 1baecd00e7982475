"""Logging staff in and out: credentials, throttling, server-side sessions."""

from datetime import timedelta

from sqlmodel import Session, func, select

from app.config import get_settings
from app.errors import Invalid, TooManyAttempts
from app.models.base import utcnow
from app.models.fields import without_nul
from app.models.staff import LoginAttempt, StaffSession, StaffUser
from app.security import hash_password, needs_rehash, new_token, token_digest, verify_password


def _recent_failures(session: Session, *, column, value: str) -> int:
    since = utcnow() - timedelta(minutes=get_settings().login_window_minutes)
    query = select(func.count()).where(
        column == value, LoginAttempt.succeeded.is_(False), LoginAttempt.attempted_at >= since
    )
    return session.exec(query).one()


def authenticate(*, session: Session, email: str, password: str, ip: str) -> StaffUser:
    """Check credentials; refuse while too many recent failures for this e-mail or address."""
    settings = get_settings()
    email = without_nul(email).strip().lower()
    limit = settings.login_max_failures
    if (
        _recent_failures(session, column=LoginAttempt.email, value=email) >= limit
        or _recent_failures(session, column=LoginAttempt.ip, value=ip) >= limit * 4
    ):
        raise TooManyAttempts(
            f"Trop de tentatives. Réessayez dans {settings.login_window_minutes} minutes."
        )
    user = session.exec(select(StaffUser).where(StaffUser.email == email)).first()
    ok = verify_password(password, user.password_hash if user else None) and bool(
        user and user.active
    )
    session.add(LoginAttempt(email=email[:254], ip=ip[:45], succeeded=ok))
    session.flush()
    if not ok:
        raise Invalid({"password": "Adresse e-mail ou mot de passe incorrect"})
    if needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
        session.add(user)
    return user


def start_session(*, session: Session, user: StaffUser) -> tuple[str, StaffSession]:
    """Create a server-side session; returns the cookie value (never stored) and the row."""
    token = new_token()
    row = StaffSession(
        token_hash=token_digest(token),
        staff_id=user.id,
        csrf_token=new_token(),
        expires_at=utcnow() + timedelta(hours=get_settings().session_hours),
    )
    session.add(row)
    session.flush()
    return token, row


def find_session(*, session: Session, token: str) -> tuple[StaffSession, StaffUser] | None:
    """The live session and its active user for a cookie value, if any."""
    query = (
        select(StaffSession, StaffUser)
        .join(StaffUser, StaffUser.id == StaffSession.staff_id)
        .where(
            StaffSession.token_hash == token_digest(token),
            StaffSession.revoked_at.is_(None),
            StaffSession.expires_at > utcnow(),
            StaffUser.active.is_(True),
        )
    )
    found = session.exec(query).first()
    return tuple(found) if found else None


def end_session(*, session: Session, staff_session: StaffSession) -> None:
    staff_session.revoked_at = utcnow()
    session.add(staff_session)
    session.flush()
