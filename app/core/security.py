"""Passwords, opaque session tokens, CSRF tokens, pseudonyms and every JWT (python-jose) call."""

import base64
import hashlib
import hmac
import secrets
from datetime import UTC, datetime, timedelta
from typing import Any, NamedTuple, Protocol

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from jose import JWTError, jwt

from app.core.config import get_settings

# argon2id at the OWASP Password Storage Cheat Sheet's first configuration (19 MiB, 2 passes,
# 1 lane): about 30 ms a login here, where the library's defaults (64 MiB, 3, 4) took 250 ms.
_hasher = PasswordHasher(time_cost=2, memory_cost=19 * 1024, parallelism=1)
_JWT_ALGORITHM = "HS256"
# A hash to verify against when the e-mail is unknown, so both cases take the same time.
_DUMMY_HASH = _hasher.hash(secrets.token_urlsafe(16))


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def needs_rehash(password_hash: str) -> bool:
    """True for a hash made with other parameters: it is replaced at the next login."""
    return _hasher.check_needs_rehash(password_hash)


def verify_password(password: str, password_hash: str | None) -> bool:
    try:
        return _hasher.verify(password_hash or _DUMMY_HASH, password) and password_hash is not None
    except (VerificationError, InvalidHashError):
        return False


def new_token() -> str:
    return secrets.token_urlsafe(32)


def token_digest(token: str) -> str:
    """What we store for a session token: a leaked table gives no usable cookie."""
    return hashlib.sha256(token.encode()).hexdigest()


def tokens_match(expected: str | None, given: str | None) -> bool:
    return bool(expected and given) and hmac.compare_digest(expected, given)


class Pseudonyms:
    """Stable codes standing for ids: HMAC-SHA256 of « purpose:id:… » under the app's secret
    key, in base32. The same ids give the same code on every call and in every file; without
    the key, a code gives no id back, and another purpose gives unrelated codes."""

    def __init__(self, purpose: str, *, length: int = 10):
        key = get_settings().resolved_secret_key().encode()
        # Keyed once: a feed codes every row, and the key may be read from a file.
        self._mac = hmac.new(key, digestmod=hashlib.sha256)
        self._purpose = purpose
        self._length = length

    def of(self, *ids: object) -> str:
        mac = self._mac.copy()
        mac.update(":".join([self._purpose, *map(str, ids)]).encode())
        # Only the bytes the code's characters (5 bits each) are drawn from: the same code,
        # and base32 is slow, written in Python.
        needed = (self._length * 5 + 7) // 8
        return base64.b32encode(mac.digest()[:needed])[: self._length].decode()


class InvalidToken(Exception):
    """A JWT (or a signed value) that is malformed, tampered with, expired or meant for someone
    else."""


def _value_mac(purpose: str, payload: bytes) -> bytes:
    key = get_settings().resolved_secret_key().encode()
    return hmac.new(key, purpose.encode() + b"\0" + payload, hashlib.sha256).digest()


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def sign_value(purpose: str, value: str) -> str:
    """`value` (ASCII) with an HMAC-SHA256 of it under the app's secret key and `purpose`, in
    one URL-safe string: opaque to the holder, who can hand it back but not alter it."""
    payload = value.encode("ascii")
    return f"{_b64(payload)}.{_b64(_value_mac(purpose, payload))}"


def read_signed_value(purpose: str, signed: str) -> str:
    """The value `sign_value(purpose, …)` signed; InvalidToken if anything was changed.

    The whole string is signed again and compared with the one received: base64 decoding
    forgives stray characters, padding, `+/` and the unused bits of the last character, so a
    string that merely decodes to a valid pair could still be an altered one."""
    try:
        encoded, _mac = signed.split(".")
        value = _unb64(encoded).decode("ascii")
    except (ValueError, UnicodeError) as exc:  # binascii.Error is a ValueError
        raise InvalidToken("malformed") from exc
    if not hmac.compare_digest(
        sign_value(purpose, value).encode(), signed.encode(errors="replace")
    ):
        raise InvalidToken("bad signature")
    return value


def create_jwt(
    *, subject: str, audience: str, lifetime: timedelta, claims: dict[str, Any] | None = None
) -> str:
    settings = get_settings()
    now = datetime.now(UTC)
    payload = {
        **(claims or {}),
        "sub": subject,
        "aud": audience,
        "iss": settings.jwt_issuer,
        "iat": int(now.timestamp()),
        "exp": int((now + lifetime).timestamp()),
    }
    return jwt.encode(payload, settings.resolved_secret_key(), algorithm=_JWT_ALGORITHM)


def decode_jwt(token: str, *, audience: str) -> dict[str, Any]:
    settings = get_settings()
    try:
        return jwt.decode(
            token,
            settings.resolved_secret_key(),
            algorithms=[_JWT_ALGORITHM],
            audience=audience,
            issuer=settings.jwt_issuer,
            options={"require_exp": True, "require_aud": True, "require_iss": True},
        )
    except JWTError as exc:
        raise InvalidToken(str(exc)) from exc


class ApiTokenClaims(NamedTuple):
    staff_id: int
    # The account's token version when the token was issued (StaffUser.token_version).
    version: int


class TokenHolder(Protocol):
    """A staff account, as far as its API token is concerned."""

    id: int | None
    token_version: int


def create_api_token(user: TokenHolder) -> str:
    settings = get_settings()
    return create_jwt(
        subject=str(user.id),
        audience=settings.jwt_audience,
        lifetime=timedelta(minutes=settings.api_token_minutes),
        claims={"ver": user.token_version},
    )


def read_api_token(token: str) -> ApiTokenClaims:
    """Who the token was issued to, and at which token version; the caller compares it."""
    claims = decode_jwt(token, audience=get_settings().jwt_audience)
    version = claims.get("ver")
    if not isinstance(version, int) or isinstance(version, bool):
        raise InvalidToken("no token version")  # issued before versions, or forged
    try:
        return ApiTokenClaims(int(claims["sub"]), version)
    except (KeyError, ValueError) as exc:
        raise InvalidToken("bad subject") from exc


def _client_audience() -> str:
    return f"{get_settings().jwt_audience}-client"


def create_client_token(client_row_id: int) -> str:
    """An API client's bearer token: the client's row, checked again (revoked?) on each call."""
    return create_jwt(
        subject=str(client_row_id),
        audience=_client_audience(),
        lifetime=timedelta(minutes=get_settings().api_token_minutes),
    )


def read_client_token(token: str) -> int:
    """The API client's row id; InvalidToken for anything else (a staff token among them)."""
    claims = decode_jwt(token, audience=_client_audience())
    try:
        return int(claims["sub"])
    except (KeyError, ValueError) as exc:
        raise InvalidToken("bad subject") from exc


def _link_audience(purpose: str) -> str:
    return f"{get_settings().jwt_audience}-link-{purpose}"


def create_link_token(
    *, purpose: str, subject_id: int, lifetime: timedelta | None = None, nonce: str | None = None
) -> str:
    """A signed, expiring token for a link sent by e-mail (e.g. purpose "document").

    A `nonce` makes a single-use link: the caller stores it and forgets it once used."""
    lifetime = lifetime or timedelta(days=get_settings().signed_link_days)
    claims = {"nonce": nonce} if nonce else None
    return create_jwt(
        subject=str(subject_id), audience=_link_audience(purpose), lifetime=lifetime, claims=claims
    )


def read_link_claims(token: str, *, purpose: str) -> tuple[int, str | None]:
    """(id, nonce) of a link token; InvalidToken when tampered, expired or for another use."""
    claims = decode_jwt(token, audience=_link_audience(purpose))
    try:
        return int(claims["sub"]), claims.get("nonce")
    except (KeyError, ValueError) as exc:
        raise InvalidToken("bad subject") from exc


def read_link_token(token: str, *, purpose: str) -> int:
    """The id a link token was made for; InvalidToken when tampered, expired or for another use."""
    return read_link_claims(token, purpose=purpose)[0]
