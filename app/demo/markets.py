"""Demo markets: « Marché 2020-2023 » (its units proven by acknowledgement) and « Marché
2024-2027 » (proven once handed over, flat fees per appointment), a lot of each demo operator
in both, their prices (revised once under the current market) and the current lots' UO4
budget. Seeded before any episode, so that each episode takes the lot of its first day."""

from datetime import date, datetime, time
from decimal import Decimal
from zoneinfo import ZoneInfo

from sqlmodel import Session, col, select

from app.models.catalogue import ServiceUnit
from app.models.markets import Lot, LotPrice, Market, MarketUnit, ProofRule
from app.models.operators import Operator

OLD_MARKET = ("Marché 2020-2023", date(2020, 1, 1), date(2023, 12, 31), ProofRule.ACKNOWLEDGED)
CURRENT_MARKET = ("Marché 2024-2027", date(2024, 1, 1), date(2027, 12, 31), ProofRule.HANDED_OVER)
REVISION = date(2025, 7, 1)  # the current lots' prices were revised that day

# Prices per lot (operator, market), in euros, for UO0, UO1, UO2.1 and UO2.2.
PRICES = {
    ("ARA", "Marché 2020-2023"): ("18", "95", "390", "160"),
    ("ARA", "Marché 2024-2027"): ("22", "110", "420", "175"),
    ("BRE", "Marché 2020-2023"): ("17.50", "92", "375", "155"),
    ("BRE", "Marché 2024-2027"): ("21", "108.50", "410", "170"),
}
# From REVISION on, under the current market.
REVISED = {"ARA": {"UO1": "115.50", "UO2.2": "182.40"}, "BRE": {"UO1": "112"}}
UO4_BUDGETS = {"ARA": Decimal("1250000"), "BRE": Decimal("480000")}
CODES = ("UO0", "UO1", "UO2.1", "UO2.2")


def _market(session: Session, name: str, starts_on: date, ends_on: date, rule: str) -> Market:
    """The market of that name (the migrations create the current one), with every unit of the
    catalogue under `rule`."""
    market = session.exec(select(Market).where(Market.name == name)).first()
    if market is None:
        market = Market(name=name, starts_on=starts_on, ends_on=ends_on)
        session.add(market)
        session.flush()
    existing = {
        terms.unit_id: terms
        for terms in session.exec(select(MarketUnit).where(MarketUnit.market_id == market.id))
    }
    units = session.exec(select(ServiceUnit).where(col(ServiceUnit.active).is_(True)))
    for unit in units:
        terms = existing.get(unit.id) or MarketUnit(
            market_id=market.id, unit_id=unit.id, billable=unit.billable, position=unit.position
        )
        terms.proof_rule = rule.value
        session.add(terms)
    session.flush()
    return market


def _price(session: Session, lot: Lot, unit_id: int, amount: str, day: date, zone: str) -> None:
    session.add(
        LotPrice(
            lot_id=lot.id,
            unit_id=unit_id,
            amount=Decimal(amount),
            effective_from=day,
            effective_at=datetime.combine(day, time(), ZoneInfo(zone)),
        )
    )


def seed_markets(*, session: Session, operators: list[Operator]) -> None:
    units = dict(session.exec(select(ServiceUnit.code, ServiceUnit.id)).all())
    for name, starts_on, ends_on, rule in (OLD_MARKET, CURRENT_MARKET):
        market = _market(session, name, starts_on, ends_on, rule)
        for operator in operators:
            lot = Lot(
                market_id=market.id,
                operator_id=operator.id,
                starts_on=starts_on,
                ends_on=ends_on,
                uo4_budget=UO4_BUDGETS[operator.code] if market.name == CURRENT_MARKET[0] else None,
            )
            session.add(lot)
            session.flush()
            zone = operator.time_zone
            for code, amount in zip(CODES, PRICES[(operator.code, name)], strict=True):
                _price(session, lot, units[code], amount, starts_on, zone)
            if market.name == CURRENT_MARKET[0]:
                for code, amount in REVISED[operator.code].items():
                    _price(session, lot, units[code], amount, REVISION, zone)
    session.flush()
