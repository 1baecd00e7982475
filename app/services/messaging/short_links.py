"""Short links for SMS: an opaque code stands for a signed link of this site until it expires.

The code is random (96 bits, 16 base62 characters), never derived from the person or the
target, so that the address of an SMS carries no personal data and one code gives no clue to
another. The route that resolves codes is rate-limited like every public page."""

import secrets
import string
from datetime import datetime
from urllib.parse import urlsplit

from sqlalchemy import delete
from sqlmodel import Session, col, select

from app.core.config import get_settings
from app.core.errors import NotFound
from app.models.base import utcnow
from app.models.short_links import ShortLink
from app.services.access.rate_limits import check_rate, rate_limit_target

CODE_LENGTH = 16
_ALPHABET = string.ascii_letters + string.digits
RESOLVE_BUCKET = "short_links"
GONE = "Ce lien n'existe pas ou n'est plus valable."


def shorten(
    *, session: Session, link: str, expires_at: datetime, operator_id: int | None = None
) -> str:
    """The short address standing for `link` (an address of this site) until `expires_at`."""
    parts = urlsplit(link)
    target = parts.path + (f"?{parts.query}" if parts.query else "")
    row = ShortLink(operator_id=operator_id, code=new_code(), target=target, expires_at=expires_at)
    session.add(row)
    session.flush()
    return f"{get_settings().public_base_url.rstrip('/')}/s/{row.code}"


def new_code() -> str:
    return "".join(secrets.choice(_ALPHABET) for _ in range(CODE_LENGTH))


def resolve(*, session: Session, code: str, ip: str | None, now: datetime | None = None) -> str:
    """The path the code stands for; NotFound when unknown or expired (the same answer, so
    that nobody learns which codes once existed). Counts against the client's rate limit."""
    check_rate(session_or_engine=rate_limit_target(session), bucket=RESOLVE_BUCKET, keys=[ip])
    if len(code) != CODE_LENGTH or any(ch not in _ALPHABET for ch in code):
        raise NotFound(GONE)
    row = session.exec(select(ShortLink).where(ShortLink.code == code)).first()
    if row is None or row.expires_at <= (now or utcnow()):
        raise NotFound(GONE)
    return row.target


def purge_expired_links(*, session: Session, now: datetime | None = None) -> int:
    """Delete the codes past their expiry (they resolve to nothing already); the worker's job."""
    expired = delete(ShortLink).where(col(ShortLink.expires_at) <= (now or utcnow()))
    return session.exec(expired.execution_options(synchronize_session=False)).rowcount
