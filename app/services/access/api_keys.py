"""Personal API keys (« clés d'API »): what a script gives the token endpoint in place of the
password when its account signs in with a second factor. A person with a second factor
creates them from « Mon compte » (with a code of the app), names them, sees each once, and
revokes them; deactivating the account revokes them all. Only a key's SHA-256 is kept
(app/core/otp.py says why a fast hash is right for it)."""

from sqlmodel import Session, col, select

from app.core.errors import Invalid, NotFound
from app.core.otp import new_api_key
from app.core.security import token_digest
from app.models.base import utcnow
from app.models.credentials import ApiKey, ApiKeyCreate
from app.models.staff import StaffEventKind, StaffUser
from app.services.access.login_limits import check_login_allowed, login_email, record_attempt
from app.services.access.two_factor import NOT_ENROLLED, check_code, second_factor_of
from app.services.admin.staff import record_staff_event

WRONG_KEY = "Adresse e-mail ou clé d'API incorrecte"


def list_api_keys(*, session: Session, user: StaffUser) -> list[ApiKey]:
    """The account's keys still in force, newest first."""
    query = select(ApiKey).where(ApiKey.staff_id == user.id, col(ApiKey.revoked_at).is_(None))
    return list(session.exec(query.order_by(col(ApiKey.created_at).desc(), col(ApiKey.id).desc())))


def create_api_key(
    *, session: Session, user: StaffUser, data: ApiKeyCreate, ip: str
) -> tuple[ApiKey, str]:
    """A new key for the account, against a code of its app: the row, and the key itself,
    shown this once. A wrong code stays counted (login limits)."""
    if second_factor_of(session=session, user=user) is None:
        raise Invalid({"code": NOT_ENROLLED})
    check_code(session=session, user=user, code=data.code, ip=ip)
    key = new_api_key()
    row = ApiKey(staff_id=user.id, name=data.name, key_hash=token_digest(key), hint=key[:8])
    session.add(row)
    session.flush()
    record_staff_event(
        session=session,
        user=user,
        actor=user,
        kind=StaffEventKind.API_KEY_CREATED,
        detail=f"« {data.name} » ({row.hint}…)",
    )
    return row, key


def revoke_api_key(*, session: Session, user: StaffUser, key_id: int) -> ApiKey:
    """The person revokes one of their keys; tokens already issued with it run to their end."""
    row = session.get(ApiKey, key_id) if key_id >= 1 else None
    if row is None or row.staff_id != user.id or row.revoked_at is not None:
        raise NotFound()
    row.revoked_at = utcnow()
    session.add(row)
    record_staff_event(
        session=session,
        user=user,
        actor=user,
        kind=StaffEventKind.API_KEY_REVOKED,
        detail=f"« {row.name} » ({row.hint}…)",
    )
    return row


def authenticate_with_api_key(*, session: Session, email: str, key: str, ip: str) -> StaffUser:
    """The account of this e-mail, if `key` is one of its keys in force; counted like a
    password (login limits), and refused with the same message whatever was wrong."""
    now, email, ip = utcnow(), login_email(email), ip[:45]
    check_login_allowed(session=session, email=email, ip=ip, now=now)
    user = session.exec(select(StaffUser).where(StaffUser.email == email)).first()
    row = None
    if user is not None and user.active:
        row = session.exec(
            select(ApiKey).where(
                ApiKey.staff_id == user.id,
                ApiKey.key_hash == token_digest(key),
                col(ApiKey.revoked_at).is_(None),
            )
        ).first()
    record_attempt(session=session, email=email, ip=ip, user=user, ok=row is not None, now=now)
    if row is None:
        raise Invalid({"password": WRONG_KEY})
    row.last_used_at = now
    session.add(row)
    return user
