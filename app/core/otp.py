"""Second factors: TOTP codes (RFC 6238, computed by pyotp), the QR code that hands the secret
to an authenticator app (drawn as SVG on the server by segno: no image service sees the
secret), recovery codes and personal API keys.

Recovery codes and API keys are kept as a SHA-256 (`token_digest`), not as an argon2 hash like
passwords: the server draws them with 80 bits of randomness (a key, 256), nobody chooses them,
so no dictionary holds them and a leaked hash cannot be reversed by trying them all. A slow
hash protects guessable secrets; here it would only add 30 ms per code to each sign-in, and it
would forbid finding a code by its hash with one indexed lookup."""

import hmac
import re
import secrets
from datetime import datetime

import pyotp
import segno

TOTP_DIGITS = 6
# Codes one step (30 s) either side of the server's clock are accepted: a phone's clock drifts,
# and a code typed in its last seconds arrives in the next step.
ACCEPTED_STEPS = (-1, 0, 1)
RECOVERY_CODE_COUNT = 10
# Crockford's base32: no I, L, O nor U, so that a code read on paper is typed right.
_RECOVERY_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
_RECOVERY_LENGTH = 16  # 16 × 5 bits = 80 bits
_CROCKFORD_READINGS = str.maketrans({"O": "0", "I": "1", "L": "1"})
API_KEY_PREFIX = "frk_"
_NOT_DIGITS = re.compile(r"[\s.-]")


def new_totp_secret() -> str:
    """160 random bits in base32, the length RFC 4226 recommends for HMAC-SHA1."""
    return pyotp.random_base32(32)


def grouped(text: str, size: int = 4, separator: str = " ") -> str:
    """« ABCD EFGH … »: a long secret cut into groups, to be read and typed by hand."""
    return separator.join(text[i : i + size] for i in range(0, len(text), size))


def provisioning_uri(secret: str, *, account: str, issuer: str) -> str:
    """The otpauth:// address that the QR code carries (what authenticator apps scan)."""
    return pyotp.TOTP(secret).provisioning_uri(name=account, issuer_name=issuer)


def qr_code_svg(data: str, *, title: str) -> str:
    """An inline <svg> of the QR code of `data`, black on white, with its accessible title."""
    svg = segno.make(data, error="m").svg_inline(
        scale=4, border=4, dark="#000", light="#fff", title=title, svgclass="qr-code", omitsize=True
    )
    # An image to assistive technologies, named by its <title>.
    return svg.replace("<svg ", '<svg role="img" ', 1)


def totp_code_at(secret: str, moment: datetime, step_offset: int = 0) -> str:
    """The code an authenticator app shows at `moment` (tests and the demo use it)."""
    totp = pyotp.TOTP(secret)
    return totp.generate_otp(totp.timecode(moment) + step_offset)


def matching_step(secret: str, typed: str, *, at: datetime, after: int | None) -> int | None:
    """The time step whose code was typed, among those accepted around `at`, if any.

    Steps up to `after` (the last one accepted) are refused: a code serves once, and an
    older code is never taken once a newer one was."""
    code = _NOT_DIGITS.sub("", typed)
    if len(code) != TOTP_DIGITS or not code.isascii() or not code.isdigit():
        return None
    totp = pyotp.TOTP(secret)
    now = totp.timecode(at)
    for step in (now + offset for offset in ACCEPTED_STEPS):
        if after is not None and step <= after:
            continue
        if hmac.compare_digest(totp.generate_otp(step), code):
            return step
    return None


def new_recovery_codes(count: int = RECOVERY_CODE_COUNT) -> list[str]:
    return [
        "".join(secrets.choice(_RECOVERY_ALPHABET) for _ in range(_RECOVERY_LENGTH))
        for _ in range(count)
    ]


def shown_recovery_code(code: str) -> str:
    """« 7KQ2-M9XD-4TFA-0ZRB »: how a recovery code is printed for the person."""
    return grouped(code, separator="-")


def typed_recovery_code(typed: str) -> str:
    """A recovery code as typed (any case, with or without dashes and spaces, O for 0)
    written as it was drawn, so that its digest can be looked up."""
    compact = re.sub(r"[\s-]", "", typed).upper().translate(_CROCKFORD_READINGS)
    return compact[: _RECOVERY_LENGTH * 2]


def new_api_key() -> str:
    """« frk_ » and 256 random bits: the prefix tells a key from a password at a glance."""
    return API_KEY_PREFIX + secrets.token_urlsafe(32)


def looks_like_api_key(secret: str) -> bool:
    return secret.startswith(API_KEY_PREFIX) and len(secret) > len(API_KEY_PREFIX) + 20
