"""Rate limits on the public endpoints, per IP, e-mail and phone, counted in the database so that
every app process shares them (setting FILROUGE_PUBLIC_RATE_LIMIT, e.g. "20/minute").

The address is the one app/web/client_address.py gives; e-mails count in lower case and phones in
their E.164 form, so that writing them differently does not open a fresh allowance."""

import re
from datetime import datetime, timedelta

from sqlalchemy import delete, func, insert
from sqlalchemy.engine import Connection, Engine
from sqlmodel import Session, col, select

from app.core.config import get_settings
from app.core.errors import TooManyAttempts
from app.models.appointments import RateLimitHit
from app.models.base import utcnow
from app.models.fields import normalise_phone

_PERIODS = {
    "second": timedelta(seconds=1),
    "minute": timedelta(minutes=1),
    "hour": timedelta(hours=1),
    "day": timedelta(days=1),
}
_WAIT = {
    "second": "quelques secondes",
    "minute": "une minute",
    "hour": "une heure",
    "day": "demain",
}
# Every listing of free slots (booking pages, API, the move page of an appointment link)
# shares one allowance per address: a scraper gains nothing by switching from one to another.
SLOT_LISTING = "public_slots"
# Hits older than this are deleted now and then; no window is longer.
_KEEP = timedelta(days=1)
_PURGE_EVERY = 50


def parse_rate(text: str) -> tuple[int, str]:
    """ "20/minute" → (20, "minute"); raises ValueError on anything else."""
    match = re.fullmatch(r"\s*(\d+)\s*/\s*(second|minute|hour|day)s?\s*", text or "")
    if not match or int(match.group(1)) < 1:
        raise ValueError(f"Limite invalide : {text!r} (ex. 20/minute)")
    return int(match.group(1)), match.group(2)


def rate_limit_target(session: Session) -> Session | Engine:
    """Where hits are written: an own committed transaction on the session's engine, so that a
    rolled-back booking still counts — unless the session already holds a transaction (on
    SQLite that is the write lock, which a second connection would wait for) or is bound to a
    connection (tests), in which case the hits go with the session's work."""
    bind = session.get_bind()
    if isinstance(bind, Engine) and not session.in_transaction():
        return bind
    return session


def _count_and_record(
    db: Session | Connection, bucket: str, keys: list[str], now: datetime, limit: int, period: str
) -> bool:
    """Plain statements, no ORM objects: this runs before every public request."""
    since = now - _PERIODS[period]
    counts = db.execute(
        select(func.count())
        .where(
            RateLimitHit.bucket == bucket, col(RateLimitHit.key).in_(keys), RateLimitHit.at > since
        )
        .group_by(RateLimitHit.key)
    ).scalars()
    over = any(count >= limit for count in counts)
    hits = [{"bucket": bucket, "key": key, "at": now} for key in keys]
    ids = db.execute(insert(RateLimitHit).returning(RateLimitHit.id), hits).scalars().all()
    # Opportunistic purge: about one request in _PURGE_EVERY clears what no window needs.
    if any(hit_id % _PURGE_EVERY == 0 for hit_id in ids):
        db.execute(delete(RateLimitHit).where(col(RateLimitHit.at) < now - _KEEP))
    return over


def check_rate(
    *,
    session_or_engine: Session | Engine,
    bucket: str,
    keys: list[str | None],
    now: datetime | None = None,
) -> None:
    """Count this request against each key (IP, e-mail, phone); refuse it when any key already
    used up the window. Refused requests count too, so hammering keeps the door shut."""
    limit, period = parse_rate(get_settings().public_rate_limit)
    now = now or utcnow()
    # A NUL is typed by no one, and PostgreSQL cannot store it: a key keeps the rest.
    cleaned = (key.replace("\x00", "").strip().lower()[:200] for key in keys if key)
    wanted = sorted({key for key in cleaned if key})
    if not wanted:
        return
    if isinstance(session_or_engine, Engine):
        with session_or_engine.begin() as own:
            over = _count_and_record(own, bucket, wanted, now, limit, period)
    else:
        over = _count_and_record(session_or_engine, bucket, wanted, now, limit, period)
    if over:
        raise TooManyAttempts(
            f"Vous avez fait beaucoup de demandes en peu de temps. Réessayez dans {_WAIT[period]}."
        )


def phone_key(raw: str | None) -> str | None:
    """One key per number however it is typed: « 06 12 34 56 78 », « 0612345678 » and
    « +33 6 12 34 56 78 » are +33612345678; a number that does not read counts by its digits."""
    if not raw or not raw.strip():
        return None
    try:
        return normalise_phone(raw)
    except ValueError:
        return "".join(c for c in raw if c.isdigit()) or None


def contact_keys(*, ip: str | None, email: str | None, phone: str | None) -> list[str | None]:
    """The keys a public booking or callback request counts against."""
    return [ip, email, phone_key(phone)]


def check_slot_listing(*, session: Session, ip: str) -> None:
    """Count a listing of free slots against the client's address."""
    check_rate(session_or_engine=rate_limit_target(session), bucket=SLOT_LISTING, keys=[ip])
