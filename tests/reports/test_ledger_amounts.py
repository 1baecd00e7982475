"""The ledger in euros: each billable proven unit at its lot's price in force when its episode
started, per market, per month; exact decimals from the database to the download."""

import csv
import io
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from sqlmodel import select

from app.models.markets import LotPrice, MarketUnit
from app.models.nomenclatures import Role
from app.services.admin.markets import episode_lot_id
from app.services.reports.ledger import unit_ledger
from tests.factories import (
    bearer,
    delivered,
    log_in,
    make_lot,
    make_market,
    make_staff,
    read,
    unit_id,
)

JANUARY_2024 = (date(2024, 1, 1), date(2024, 1, 31))


@pytest.fixture
def markets(session, ara):
    """ARA's lots: the old market at 100 € for UO1, the current one at 120,50 €."""
    old = make_market(
        session, "Marché 2020-2023", date(2020, 1, 1), date(2023, 12, 31), proof_rule="remis"
    )
    return {
        "old": make_lot(session, ara, old, UO1="100", UO2_1="250"),
        "new": make_lot(session, ara, UO1="120.50", UO2_1="300"),
    }


def ledger(session, actor, start, end):
    return unit_ledger(session=session, actor=actor, start=start, end=end)


def lines_of(found, market_name):
    market = next(m for m in found.markets if m.name == market_name)
    return {line.code: line for line in market.lines}


def ended(session, counsellor, code, started_at, ended_at, proofs="shared"):
    """An episode as the app records it, started at `started_at` (its lot chosen then)."""
    episode = delivered(session, counsellor, code, ended_at, proofs=proofs)
    episode.started_at = started_at
    episode.lot_id = episode_lot_id(session, episode.operator_id, started_at)
    session.add(episode)
    session.flush()
    return episode


def test_each_unit_counts_at_the_price_of_the_market_it_started_under(
    session, counsellor, manager, markets
):
    """Ended in January 2024, one UO1 started in December 2023 (the old market, 100 €) and
    two in January (the new one, 120,50 €); one of those has no proof and counts for nothing."""
    in_january = datetime(2024, 1, 20, 10, tzinfo=UTC)
    ended(session, counsellor, "UO1", datetime(2023, 12, 28, 10, tzinfo=UTC), in_january)
    ended(session, counsellor, "UO1", datetime(2024, 1, 3, 10, tzinfo=UTC), in_january)
    ended(session, counsellor, "UO1", datetime(2024, 1, 4, 10, tzinfo=UTC), in_january)
    ended(
        session, counsellor, "UO1", datetime(2024, 1, 5, 10, tzinfo=UTC), in_january, proofs="none"
    )
    found = ledger(session, manager, *JANUARY_2024)
    assert [market.name for market in found.markets] == ["Marché 2024-2027", "Marché 2020-2023"]
    new, old = lines_of(found, "Marché 2024-2027"), lines_of(found, "Marché 2020-2023")
    assert (new["UO1"].delivered, new["UO1"].billable_count) == (3, 2)
    assert new["UO1"].amount == Decimal("241.00") and new["UO1"].prices == [Decimal("120.50")]
    assert (old["UO1"].delivered, old["UO1"].amount) == (1, Decimal("100.00"))
    assert found.totals.amount == Decimal("341.00")


def test_a_new_price_applies_only_to_episodes_started_from_its_day(
    session, ara, counsellor, manager, markets
):
    lot = markets["new"]
    session.add(
        LotPrice(
            lot_id=lot.id,
            unit_id=unit_id(session, "UO1"),
            amount=Decimal("130"),
            effective_from=date(2026, 11, 10),
            effective_at=datetime(2026, 11, 9, 23, tzinfo=UTC),  # midnight in Paris
        )
    )
    session.flush()
    end = datetime(2026, 11, 20, 10, tzinfo=UTC)
    ended(session, counsellor, "UO1", datetime(2026, 11, 9, 22, 30, tzinfo=UTC), end)  # 23:30
    ended(session, counsellor, "UO1", datetime(2026, 11, 9, 23, 30, tzinfo=UTC), end)  # 0:30
    uo1 = lines_of(
        ledger(session, manager, date(2026, 11, 1), date(2026, 11, 30)), "Marché 2024-2027"
    )["UO1"]
    assert uo1.prices == [Decimal("120.50"), Decimal("130.00")]
    assert uo1.amount == Decimal("250.50")


def test_an_episode_keeps_its_market_after_a_new_market_begins(session, ara, counsellor, manager):
    """Started under the current market, it stays there when a next market (and its lot) is
    added later, even if it ends under the next one."""
    make_lot(session, ara, UO1="120")
    episode = ended(
        session,
        counsellor,
        "UO1",
        datetime(2027, 12, 30, 10, tzinfo=UTC),
        datetime(2027, 12, 31, 10, tzinfo=UTC),
    )
    lot_before = episode.lot_id
    nxt = make_market(session, "Marché 2028-2031", date(2028, 1, 1), date(2031, 12, 31))
    make_lot(session, ara, nxt, UO1="200")
    session.refresh(episode)
    assert episode.lot_id == lot_before
    found = ledger(session, manager, date(2027, 12, 1), date(2027, 12, 31))
    assert lines_of(found, "Marché 2024-2027")["UO1"].amount == Decimal("120.00")


def test_amounts_are_exact_decimals(session, ara, counsellor, manager):
    """0,10 € ten times is 1,00 €, not 0.9999999999999999 as floats would sum it."""
    make_lot(session, ara, UO1="0.10")
    for day in range(1, 11):
        start = datetime(2026, 11, day, 10, tzinfo=UTC)
        ended(session, counsellor, "UO1", start, start + timedelta(hours=1))
    found = ledger(session, manager, date(2026, 11, 1), date(2026, 11, 30))
    assert found.totals.amount == Decimal("1.00")
    assert isinstance(found.totals.amount, Decimal)


def test_a_unit_the_market_does_not_pay_brings_nothing(session, ara, counsellor, manager):
    lot = make_lot(session, ara, UO0="30", UO1="120")
    uo0 = session.get(MarketUnit, _terms_id(session, lot.market_id, "UO0"))
    uo0.billable = False
    session.add(uo0)
    start = datetime(2026, 11, 3, 10, tzinfo=UTC)
    ended(session, counsellor, "UO0", start, start + timedelta(hours=1))
    found = lines_of(
        ledger(session, manager, date(2026, 11, 1), date(2026, 11, 30)), "Marché 2024-2027"
    )
    assert (found["UO0"].delivered, found["UO0"].billable_count) == (1, 0)
    assert found["UO0"].amount == Decimal("0.00")


def _terms_id(session, market_id, code):
    return session.exec(
        select(MarketUnit.id).where(
            MarketUnit.market_id == market_id, MarketUnit.unit_id == unit_id(session, code)
        )
    ).one()


def test_billable_units_without_a_price_are_counted_apart(session, ara, counsellor, manager):
    make_lot(session, ara)  # no price at all
    start = datetime(2026, 11, 3, 10, tzinfo=UTC)
    ended(session, counsellor, "UO1", start, start + timedelta(hours=1))
    found = ledger(session, manager, date(2026, 11, 1), date(2026, 11, 30))
    assert (found.totals.amount, found.totals.unpriced) == (Decimal("0.00"), 1)


def test_months_split_the_amounts_by_market(session, counsellor, manager, markets):
    ended(
        session,
        counsellor,
        "UO1",
        datetime(2023, 12, 20, 10, tzinfo=UTC),
        datetime(2023, 12, 31, 22, 30, tzinfo=UTC),  # 31 December 23:30 in Paris
    )
    ended(
        session,
        counsellor,
        "UO1",
        datetime(2023, 12, 21, 10, tzinfo=UTC),
        datetime(2023, 12, 31, 23, 30, tzinfo=UTC),  # 1 January 0:30 in Paris
    )
    ended(
        session,
        counsellor,
        "UO2.1",
        datetime(2024, 1, 2, 10, tzinfo=UTC),
        datetime(2024, 1, 9, 10, tzinfo=UTC),
    )
    found = ledger(session, manager, date(2023, 12, 1), date(2024, 1, 31))
    months = [(m.month, m.market_name, m.billable_count, m.amount) for m in found.months]
    assert months == [
        (date(2023, 12, 1), "Marché 2020-2023", 1, Decimal("100.00")),
        (date(2024, 1, 1), "Marché 2024-2027", 1, Decimal("300.00")),
        (date(2024, 1, 1), "Marché 2020-2023", 1, Decimal("100.00")),
    ]


def test_the_page_shows_french_amounts_and_the_csv_exact_ones(
    client, session, ara, counsellor, markets
):
    lot = markets["new"]
    session.add(
        LotPrice(
            lot_id=lot.id,
            unit_id=unit_id(session, "UO2.2"),
            amount=Decimal("1234.5"),
            effective_from=lot.starts_on,
            effective_at=datetime(2023, 12, 31, 23, tzinfo=UTC),
        )
    )
    start = datetime(2026, 11, 3, 10, tzinfo=UTC)
    ended(session, counsellor, "UO2.2", start, start + timedelta(days=1))
    ended(session, counsellor, "UO1", start, start + timedelta(days=1))
    log_in(client, session, make_staff(session, ara, Role.MANAGER))
    period = "du=2026-11-01&au=2026-11-30"
    page = read(client.get(f"/rapports/etat-de-service?{period}"))
    nnbsp, nbsp = "\u202f", "\u00a0"
    assert f"1{nnbsp}234,50{nbsp}€" in page
    assert f"1{nnbsp}355,00{nbsp}€" in page  # the total
    assert "Marché 2024-2027" in page and "novembre 2026" in page
    text = client.get(f"/rapports/etat-de-service.csv?{period}").content.decode("utf-8-sig")
    rows = {row[0]: row for row in csv.reader(io.StringIO(text), delimiter=";")}
    # Exact, with the decimal comma French spreadsheets read as a number.
    # Then no réfaction: no official control closed on these units (tests/control).
    assert rows["UO2.2"][7:] == ["Marché 2024-2027", "1234,50", "1234,50", "0", "0", "0,00"]
    assert rows["Total"][9] == "1355,00"


def test_the_api_gives_amounts_as_exact_decimal_strings(client, session, ara, counsellor, markets):
    start = datetime(2026, 11, 3, 10, tzinfo=UTC)
    ended(session, counsellor, "UO1", start, start + timedelta(days=1))
    session.commit()
    manager = make_staff(session, ara, Role.MANAGER)
    answer = client.get(
        "/api/v1/ledger?from=2026-11-01&to=2026-11-30", headers=bearer(manager)
    ).json()
    uo1 = next(u for u in answer["units"] if u["code"] == "UO1" and u["market"])
    assert (uo1["market"], uo1["amount"]) == ("Marché 2024-2027", "120.50")
    assert answer["totals"]["amount"] == "120.50"
    assert answer["months"] == [
        {
            "month": "2026-11-01",
            "market": "Marché 2024-2027",
            "billable_count": 1,
            "amount": "120.50",
            "unpriced": 0,
        }
    ]
