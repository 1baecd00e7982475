"""Logging staff in and out: credentials, throttling, server-side sessions, API tokens (the
login page's two steps are in login_steps.py)."""

import logging
from datetime import datetime, timedelta

from sqlmodel import Session, select

from app.core.config import get_settings
from app.core.errors import Invalid
from app.core.otp import looks_like_api_key
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
from app.services.access.api_keys import authenticate_with_api_key
from app.services.access.login_limits import check_login_allowed, login_email, record_attempt
from app.services.access.two_factor import must_use_second_factor
from app.services.admin.staff import end_api_tokens
from app.services.audit.sign_ins import signed_in, signed_out

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
    signed_in(session, user=user, via="staff_session")
    return token, row


API_NEEDS_KEY = (
    "Ce compte se connecte avec la double authentification : l'API demande une clé d'API "
    "(page « Mon compte ») à la place du mot de passe."
)


def sign_in_api(*, session: Session, email: str, password: str, ip: str) -> str:
    """A Bearer token for an e-mail and its password or one of its API keys (a refused
    attempt stays recorded). An account that signs in with a second factor, or whose role
    requires one, gets no token for its password alone: only for a key."""
    if looks_like_api_key(password):
        user = authenticate_with_api_key(session=session, email=email, key=password, ip=ip)
    else:
        user = authenticate(session=session, email=email, password=password, ip=ip)
        if must_use_second_factor(session=session, user=user):
            log.info("API sign-in of staff account %d needs a key", user.id)
            raise Invalid({"password": API_NEEDS_KEY})
    signed_in(session, user=user, via="api_token")
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
    signed_out(session, user=session.get(StaffUser, staff_session.staff_id), via="staff_session")


def sign_out_api(*, session: Session, user: StaffUser) -> None:
    """End every API token of the account (see end_api_tokens), recorded as a sign-out."""
    end_api_tokens(session=session, user=user)
    signed_out(session, user=user, via="api_token")
