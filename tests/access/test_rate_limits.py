"""Public rate limits: per key, per window, counted in the database, with an injected clock."""

from datetime import UTC, datetime, timedelta

import pytest
from sqlmodel import Session, select

from app.core.config import get_settings
from app.core.errors import TooManyAttempts
from app.models.appointments import RateLimitHit
from app.services.access.rate_limits import check_rate, contact_keys, parse_rate, phone_key

NOW = datetime(2026, 12, 1, 10, 0, tzinfo=UTC)


@pytest.fixture
def three_per_minute(monkeypatch):
    monkeypatch.setattr(get_settings(), "public_rate_limit", "3/minute")


def hit(session, keys, now=NOW):
    check_rate(session_or_engine=session, bucket="booking", keys=keys, now=now)


@pytest.mark.parametrize(
    ("text", "expected"),
    [("20/minute", (20, "minute")), ("5/second", (5, "second")), (" 100 / day ", (100, "day"))],
)
def test_rates_are_read_from_the_setting(text, expected):
    assert parse_rate(text) == expected


@pytest.mark.parametrize("text", ["", "20", "0/minute", "20/week", "-1/hour"])
def test_unreadable_rates_are_refused(text):
    with pytest.raises(ValueError):
        parse_rate(text)


def test_requests_beyond_the_limit_get_429_in_french(session, three_per_minute):
    for _ in range(3):
        hit(session, ["1.2.3.4"])
    with pytest.raises(TooManyAttempts) as caught:
        hit(session, ["1.2.3.4"])
    assert caught.value.status_code == 429
    assert "Réessayez dans une minute" in caught.value.message


def test_each_key_is_counted_separately(session, three_per_minute):
    for n in range(3):
        hit(session, [f"10.0.0.{n}", "zoe@exemple.fr"])
    with pytest.raises(TooManyAttempts):
        hit(session, ["10.0.0.9", "ZOE@exemple.fr"])  # same e-mail from another address
    hit(session, ["10.0.0.8", "autre@exemple.fr"])


def test_the_window_slides_with_the_clock(session, three_per_minute):
    for second in range(3):
        hit(session, ["1.2.3.4"], now=NOW + timedelta(seconds=second))
    hit(session, ["1.2.3.4"], now=NOW + timedelta(seconds=61))


def test_missing_keys_are_ignored(session, three_per_minute):
    for _ in range(5):
        hit(session, [None, "", "  "])
    assert session.exec(select(RateLimitHit)).all() == []


def test_hits_survive_a_rolled_back_request(database_url, engine, three_per_minute):
    """Given the engine, hits commit on their own: the failed booking around them still counts."""
    key = f"rollback-{datetime.now().timestamp()}"
    with Session(engine) as request_session:
        for _ in range(3):
            check_rate(session_or_engine=engine, bucket="booking", keys=[key], now=NOW)
        request_session.rollback()
    with pytest.raises(TooManyAttempts):
        check_rate(session_or_engine=engine, bucket="booking", keys=[key], now=NOW)
    with engine.begin() as conn:
        conn.execute(RateLimitHit.__table__.delete().where(RateLimitHit.key == key))


@pytest.mark.parametrize(
    "typed", ["06 12 34 56 78", "0612345678", "+33612345678", "+33 6 12 34 56 78", "06.12.34.56.78"]
)
def test_a_phone_counts_as_one_number_however_it_is_typed(typed):
    assert phone_key(typed) == "+33612345678"


def test_a_phone_that_does_not_read_counts_by_its_digits():
    assert phone_key("06 12 34") == phone_key("061234") == "061234"
    assert phone_key("  ") is None and phone_key("pas de numéro") is None


def test_phone_variants_share_one_counter(session, three_per_minute):
    for n, typed in enumerate(["06 12 34 56 78", "0612345678", "+33612345678"]):
        hit(session, contact_keys(ip=f"10.0.0.{n}", email=f"p{n}@exemple.fr", phone=typed))
    with pytest.raises(TooManyAttempts):
        hit(session, contact_keys(ip="10.0.0.9", email="autre@exemple.fr", phone="06-12-34-56-78"))
