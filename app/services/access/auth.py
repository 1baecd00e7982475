"""Logging staff in and out: credentials, throttling, server-side sessions."""

import logging
from datetime import datetime, timedelta

from sqlmodel import Session, select

from app.core.config import get_settings
from app.core.errors import Invalid
from app.core.security import (
    create_api_token,
    hash_password,
    needs_rehash,
    new_token,
    token_digest,
    verify_password,
)
from app.models.base import utcnow
from app.models.staff import StaffSession, StaffUser
from app.services.access.login_limits import check_login_allowed, login_email, record_attempt

log = logging.getLogger(__name__)


def authenticate(
    *, session: Session, email: str, password: str, ip: str, now: datetime | None = None
) -> StaffUser:
    """Check credentials, within the login limits (services/login_limits.py): the address is
    refused after too many failures for this e-mail or for all, never the account itself."""
    now = now or utcnow()
    email, ip = login_email(email), ip[:45]
    check_login_allowed(session=session, email=email, ip=ip, now=now)
    user = session.exec(select(StaffUser).where(StaffUser.email == email)).first()
    ok = verify_password(password, user.password_hash if user else None) and bool(
        user and user.active
    )
    record_attempt(session=session, email=email, ip=ip, user=user, ok=ok, now=now)
    # The account by its id, never the e-mail typed (a mistyped one may be anybody's).
    staff_id = user.id if user else None
    if not ok:
        log.info("sign-in refused", extra={"staff_id": staff_id})
        raise Invalid({"password": "Adresse e-mail ou mot de passe incorrect"})
    log.info("staff account %d signed in", staff_id, extra={"staff_id": staff_id})
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


def sign_in(*, session: Session, email: str, password: str, ip: str) -> str:
    """Check the credentials (authenticate) and open a browser session: its cookie value.

    Not all or nothing: a refused attempt is recorded and stays, for the login limits."""
    user = authenticate(session=session, email=email, password=password, ip=ip)
    token, _row = start_session(session=session, user=user)
    return token


def sign_in_api(*, session: Session, email: str, password: str, ip: str) -> str:
    """Check the credentials (authenticate, a refused attempt stays recorded): a Bearer token."""
    user = authenticate(session=session, email=email, password=password, ip=ip)
    return create_api_token(user)


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
