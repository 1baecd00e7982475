"""TOTP codes, recovery codes and API keys as app/core/otp.py makes and reads them."""

from datetime import UTC, datetime, timedelta

import pyotp

from app.core.otp import (
    looks_like_api_key,
    matching_step,
    new_api_key,
    new_recovery_codes,
    new_totp_secret,
    qr_code_svg,
    shown_recovery_code,
    totp_code_at,
    typed_recovery_code,
)

MOMENT = datetime(2026, 12, 2, 9, 0, 10, tzinfo=UTC)


def test_a_secret_is_160_random_bits_in_base32():
    secret = new_totp_secret()
    assert len(secret) == 32 and secret != new_totp_secret()
    pyotp.TOTP(secret).now()  # valid base32


def test_the_code_of_this_step_and_of_each_neighbour_is_matched_to_its_step():
    secret = new_totp_secret()
    now = pyotp.TOTP(secret).timecode(MOMENT)
    for offset in (-1, 0, 1):
        code = totp_code_at(secret, MOMENT, offset)
        assert matching_step(secret, code, at=MOMENT, after=None) == now + offset


def test_a_code_two_steps_away_matches_nothing():
    secret = new_totp_secret()
    code = totp_code_at(secret, MOMENT + timedelta(seconds=60))
    if code not in {totp_code_at(secret, MOMENT, offset) for offset in (-1, 0, 1)}:
        assert matching_step(secret, code, at=MOMENT, after=None) is None


def test_a_step_already_used_or_older_is_refused():
    secret = new_totp_secret()
    now = pyotp.TOTP(secret).timecode(MOMENT)
    code = totp_code_at(secret, MOMENT)
    assert matching_step(secret, code, at=MOMENT, after=now) is None
    assert matching_step(secret, totp_code_at(secret, MOMENT, -1), at=MOMENT, after=now) is None
    assert matching_step(secret, totp_code_at(secret, MOMENT, 1), at=MOMENT, after=now) == now + 1


def test_spaces_in_a_typed_code_are_ignored_and_anything_else_is_refused():
    secret = new_totp_secret()
    code = totp_code_at(secret, MOMENT)
    assert matching_step(secret, f" {code[:3]} {code[3:]} ", at=MOMENT, after=None) is not None
    for typed in ("", "12345", "1234567", "abcdef", "١٢٣٤٥٦"):
        assert matching_step(secret, typed, at=MOMENT, after=None) is None


def test_ten_recovery_codes_of_80_bits_each_read_back_however_they_are_typed():
    codes = new_recovery_codes()
    assert len(codes) == 10 and len(set(codes)) == 10
    assert all(len(code) == 16 for code in codes)
    shown = shown_recovery_code(codes[0])
    assert shown.count("-") == 3
    assert typed_recovery_code(shown.lower()) == codes[0]
    assert typed_recovery_code(" ".join(shown.split("-"))) == codes[0]
    # Letters a person reads for digits are taken for them (Crockford's base32).
    assert typed_recovery_code("O1L1-I000") == "01111000"


def test_an_api_key_is_told_from_a_password_by_its_prefix():
    key = new_api_key()
    assert looks_like_api_key(key) and len(key) > 40
    assert not looks_like_api_key("frk_court")
    assert not looks_like_api_key("un mot de passe assez long pour passer")


def test_the_qr_code_is_an_inline_svg_image_with_its_title():
    svg = qr_code_svg("otpauth://totp/Fil%20rouge:a@b.fr?secret=ABC", title="QR code à scanner")
    assert svg.startswith('<svg role="img" ')
    assert "<title>QR code à scanner</title>" in svg
    assert "<script" not in svg and "style=" not in svg
