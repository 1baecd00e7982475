"""Markets, lots and prices (« Marchés »): the system administrators define the national markets,
their units (billable, proof rule) and each operator's lot; an operator's administrators set
their lot's prices and UO4 budget.

Why the split: billability and the proof rule are terms of the market that France compétences
sets for every operator alike (the specification: « remis »), so they are national and change
only with a new market, which applies to what starts under it; prices are set per lot, as the
market is awarded, so each operator keeps its own. Which deliverables prove a unit stays the
operator's choice (« Types de livrables »), since the kinds of deliverable are its own.

A price applies to the episodes that start on or after its day; an episode keeps the lot it
started under (`lot_in_force`, called once when it starts). A price is never dated back over
episodes already started in the lot: that would rewrite what they were worth."""

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from sqlmodel import Session, col, select

from app.core.dates import format_day, local_today, to_local
from app.core.db import all_or_nothing
from app.core.errors import Forbidden, Invalid, NotFound
from app.models.cases import Episode
from app.models.catalogue import DeliverableKind, ServiceUnit, UnitProofRequirement
from app.models.markets import (
    BudgetEdit,
    Lot,
    LotCreate,
    LotPrice,
    Market,
    MarketCreate,
    MarketUnit,
    MarketUnitEdit,
    PriceCreate,
)
from app.models.nomenclatures import Role
from app.models.operators import Operator
from app.models.staff import StaffUser
from app.services.access.scope import get_owned, owned_by

ADMINS = frozenset({Role.OPERATOR_ADMIN, Role.SYSADMIN})


def _require_admin(actor: StaffUser) -> None:
    if actor.role not in ADMINS:
        raise Forbidden("Les marchés sont gérés par les administrateur·rices.")


def _require_sysadmin(actor: StaffUser) -> None:
    if actor.role != Role.SYSADMIN:
        raise Forbidden("Les marchés et leurs lots sont définis au niveau national.")


def _midnight(day: date, time_zone: str) -> datetime:
    return datetime.combine(day, time(), ZoneInfo(time_zone))


# ---- the lot an episode starts under --------------------------------------------------------


def lot_in_force(*, session: Session, operator_id: int, moment: datetime) -> Lot | None:
    """The operator's lot whose period holds the day of `moment` in the operator's time zone,
    or None: the database keeps an operator's lots from overlapping, so there is one at most."""
    operator = session.get(Operator, operator_id)
    day = to_local(moment, operator.time_zone).date()
    return session.exec(
        select(Lot).where(owned_by(Lot, operator_id), Lot.starts_on <= day, Lot.ends_on >= day)
    ).first()


def episode_lot_id(session: Session, operator_id: int, started_at: datetime) -> int | None:
    """What an episode starting at `started_at` stores, once, as its lot."""
    lot = lot_in_force(session=session, operator_id=operator_id, moment=started_at)
    return lot.id if lot else None


# ---- reading --------------------------------------------------------------------------------


@dataclass
class MarketRow:
    market: Market
    lots: list[tuple[Lot, Operator]]


@dataclass
class MarketsPage:
    rows: list[MarketRow]
    operators: list[Operator]  # every operator, for a system administrator's new lot
    is_sysadmin: bool


def _visible_lots(session: Session, actor: StaffUser):
    query = select(Lot, Operator).join(Operator, owned_by(Lot, Operator.id))
    if actor.role != Role.SYSADMIN:
        query = query.where(owned_by(Lot, actor.operator_id))
    return session.exec(query.order_by(Operator.code))


def markets_view(*, session: Session, actor: StaffUser) -> MarketsPage:
    """Every market, latest first, with the lots the actor manages (all for a sysadmin)."""
    _require_admin(actor)
    markets = list(session.exec(select(Market).order_by(col(Market.starts_on).desc())))
    lots: dict[int, list] = {market.id: [] for market in markets}
    for lot, operator in _visible_lots(session, actor):
        lots[lot.market_id].append((lot, operator))
    is_sysadmin = actor.role == Role.SYSADMIN
    operators = list(session.exec(select(Operator).order_by(Operator.code))) if is_sysadmin else []
    return MarketsPage(
        rows=[MarketRow(market, lots[market.id]) for market in markets],
        operators=operators,
        is_sysadmin=is_sysadmin,
    )


def get_market(*, session: Session, actor: StaffUser, market_id: int) -> Market:
    _require_admin(actor)
    market = session.get(Market, market_id) if market_id >= 1 else None
    if market is None:
        raise NotFound()
    return market


def load_lot(*, session: Session, actor: StaffUser, lot_id: int) -> Lot:
    """A lot the actor manages: their operator's, any for a sysadmin; 404 anywhere else."""
    _require_admin(actor)
    if actor.role == Role.SYSADMIN:
        lot = session.get(Lot, lot_id) if lot_id >= 1 else None
    else:
        lot = get_owned(session, Lot, lot_id, actor.operator_id)
    if lot is None:
        raise NotFound()
    return lot


@dataclass
class UnitRow:
    """One unit of the market, with the lot's prices (latest first) when there is a lot."""

    unit: ServiceUnit
    terms: MarketUnit
    proofs: list[str]  # labels of the deliverable kinds the operator requires
    prices: list[LotPrice] = field(default_factory=list)
    current: LotPrice | None = None  # the price in force today


@dataclass
class MarketPage:
    market: Market
    units: list[UnitRow]
    operator: Operator | None  # whose lot is shown
    lot: Lot | None
    lots: list[tuple[Lot, Operator]]  # the lots a sysadmin may choose from
    is_sysadmin: bool
    today: date
    free_operators: list[Operator] = field(default_factory=list)  # with no lot in it yet


def market_units(*, session: Session, market_id: int) -> list[tuple[MarketUnit, ServiceUnit]]:
    return list(
        session.exec(
            select(MarketUnit, ServiceUnit)
            .join(ServiceUnit, col(ServiceUnit.id) == MarketUnit.unit_id)
            .where(MarketUnit.market_id == market_id)
            .order_by(MarketUnit.position, ServiceUnit.code)
        )
    )


def _required_proofs(session: Session, operator_id: int | None) -> dict[int, list[str]]:
    if operator_id is None:
        return {}
    rows = session.exec(
        select(UnitProofRequirement.unit_id, DeliverableKind.label)
        .join(DeliverableKind, col(DeliverableKind.id) == UnitProofRequirement.kind_id)
        .where(owned_by(UnitProofRequirement, operator_id), col(DeliverableKind.active).is_(True))
        .order_by(DeliverableKind.position, DeliverableKind.id)
    )
    found: dict[int, list[str]] = {}
    for unit_id, label in rows:
        found.setdefault(unit_id, []).append(label)
    return found


def market_view(
    *, session: Session, actor: StaffUser, market_id: int, operator_id: int | None = None
) -> MarketPage:
    """A market's units with their terms, and the lot of the actor's operator (a sysadmin
    chooses among the market's lots) with its prices and their history."""
    market = get_market(session=session, actor=actor, market_id=market_id)
    is_sysadmin = actor.role == Role.SYSADMIN
    lots = [row for row in _visible_lots(session, actor) if row[0].market_id == market.id]
    if is_sysadmin:
        chosen = [row for row in lots if operator_id is None or row[1].id == operator_id]
        if operator_id is not None and not chosen:
            raise NotFound()
        lot, operator = chosen[0] if chosen else (None, None)
    else:
        lot = lots[0][0] if lots else None
        operator = session.get(Operator, actor.operator_id)
    prices: dict[int, list[LotPrice]] = {}
    if lot is not None:
        for price in session.exec(
            select(LotPrice)
            .where(LotPrice.lot_id == lot.id)
            .order_by(col(LotPrice.effective_from).desc())
        ):
            prices.setdefault(price.unit_id, []).append(price)
    today = local_today(operator.time_zone if operator else "Europe/Paris")
    proofs = _required_proofs(session, operator.id if operator else None)
    units = []
    for terms, unit in market_units(session=session, market_id=market.id):
        history = prices.get(unit.id, [])
        current = next((p for p in history if p.effective_from <= today), None)
        units.append(UnitRow(unit, terms, proofs.get(unit.id, []), history, current))
    free = []
    if is_sysadmin:
        taken = {row[1].id for row in lots}
        operators = session.exec(select(Operator).order_by(Operator.code))
        free = [found for found in operators if found.id not in taken]
    return MarketPage(market, units, operator, lot, lots, is_sysadmin, today, free)


# ---- the national side: markets, their units, lots ------------------------------------------


@all_or_nothing
def create_market(*, session: Session, actor: StaffUser, data: MarketCreate) -> Market:
    """A new market; its units start as the latest market's (or the catalogue's), to adjust."""
    _require_sysadmin(actor)
    if data.ends_on < data.starts_on:
        raise Invalid({"ends_on": "La fin ne peut précéder le début du marché"})
    if session.exec(select(Market.id).where(Market.name == data.name)).first():
        raise Invalid({"name": "Un marché porte déjà ce nom"})
    latest = session.exec(select(Market).order_by(col(Market.starts_on).desc())).first()
    market = Market(name=data.name, starts_on=data.starts_on, ends_on=data.ends_on)
    session.add(market)
    session.flush()
    if latest is not None:
        for terms, _unit in market_units(session=session, market_id=latest.id):
            session.add(
                MarketUnit(
                    market_id=market.id,
                    unit_id=terms.unit_id,
                    billable=terms.billable,
                    proof_rule=terms.proof_rule,
                    position=terms.position,
                )
            )
    else:
        units = session.exec(select(ServiceUnit).where(col(ServiceUnit.active).is_(True)))
        for unit in units:
            session.add(
                MarketUnit(
                    market_id=market.id,
                    unit_id=unit.id,
                    billable=unit.billable,
                    position=unit.position,
                )
            )
    session.flush()
    return market


@all_or_nothing
def edit_market_unit(
    *, session: Session, actor: StaffUser, market_id: int, unit_id: int, data: MarketUnitEdit
) -> MarketUnit:
    """Whether the market pays the unit, and the rule that proves it."""
    _require_sysadmin(actor)
    market = get_market(session=session, actor=actor, market_id=market_id)
    terms = session.exec(
        select(MarketUnit).where(MarketUnit.market_id == market.id, MarketUnit.unit_id == unit_id)
    ).first()
    if terms is None:
        raise NotFound()
    terms.billable = data.billable
    terms.proof_rule = data.proof_rule.value
    session.add(terms)
    session.flush()
    return terms


def _overlapping_lot(session: Session, operator_id: int, market: Market) -> Lot | None:
    return session.exec(
        select(Lot).where(
            owned_by(Lot, operator_id),
            Lot.starts_on <= market.ends_on,
            Lot.ends_on >= market.starts_on,
        )
    ).first()


@all_or_nothing
def create_lot(*, session: Session, actor: StaffUser, market_id: int, data: LotCreate) -> Lot:
    """The operator's lot in the market, over the market's period. Two lots of one operator
    never overlap: the database refuses it (a Conflict), this check only words it."""
    _require_sysadmin(actor)
    market = get_market(session=session, actor=actor, market_id=market_id)
    operator = session.get(Operator, data.operator_id)
    if operator is None:
        raise Invalid({"operator_id": "Opérateur inconnu"})
    if _overlapping_lot(session, operator.id, market) is not None:
        raise Invalid(
            {"operator_id": "Cet opérateur a déjà un lot sur une période qui chevauche ce marché"}
        )
    lot = Lot(
        market_id=market.id,
        operator_id=operator.id,
        starts_on=market.starts_on,
        ends_on=market.ends_on,
    )
    session.add(lot)
    session.flush()
    return lot


# ---- the operator's side: prices and budget of its lot --------------------------------------


def _first_start_from(session: Session, lot: Lot, unit_id: int, moment: datetime):
    """The earliest start, from `moment` on, of an episode of the unit counted in the lot."""
    return session.exec(
        select(Episode.started_at)
        .where(
            Episode.lot_id == lot.id,
            Episode.unit_id == unit_id,
            col(Episode.cancelled_at).is_(None),
            Episode.started_at >= moment,
        )
        .order_by(Episode.started_at)
        .limit(1)
    ).first()


@all_or_nothing
def set_price(*, session: Session, actor: StaffUser, lot_id: int, data: PriceCreate) -> LotPrice:
    """A unit's price in the lot from a day on (the same day again corrects it)."""
    lot = load_lot(session=session, actor=actor, lot_id=lot_id)
    in_market = session.exec(
        select(MarketUnit.id).where(
            MarketUnit.market_id == lot.market_id, MarketUnit.unit_id == data.unit_id
        )
    ).first()
    if in_market is None:
        raise Invalid({"unit_id": "Cette unité n'est pas au catalogue de ce marché"})
    if not lot.starts_on <= data.effective_from <= lot.ends_on:
        raise Invalid(
            {
                "effective_from": (
                    f"Choisissez un jour du marché, du {format_day(lot.starts_on)} "
                    f"au {format_day(lot.ends_on)}"
                )
            }
        )
    time_zone = session.get(Operator, lot.operator_id).time_zone
    effective_at = _midnight(data.effective_from, time_zone)
    started = _first_start_from(session, lot, data.unit_id, effective_at)
    if started is not None:
        day = to_local(started, time_zone).date() + timedelta(days=1)
        raise Invalid(
            {
                "effective_from": (
                    "Des unités ont déjà démarré à partir de ce jour au prix d'alors : "
                    f"choisissez le {format_day(day)} ou plus tard"
                )
            }
        )
    price = session.exec(
        select(LotPrice).where(
            LotPrice.lot_id == lot.id,
            LotPrice.unit_id == data.unit_id,
            LotPrice.effective_from == data.effective_from,
        )
    ).first()
    if price is None:
        price = LotPrice(
            lot_id=lot.id,
            unit_id=data.unit_id,
            effective_from=data.effective_from,
            effective_at=effective_at,
            amount=data.amount,
        )
    price.amount = data.amount
    price.created_by_id = actor.id
    session.add(price)
    session.flush()
    return price


@all_or_nothing
def set_uo4_budget(*, session: Session, actor: StaffUser, lot_id: int, data: BudgetEdit) -> Lot:
    """The lot's UO4 budget (quality and steering funds); blank when not known yet."""
    lot = load_lot(session=session, actor=actor, lot_id=lot_id)
    lot.uo4_budget = data.uo4_budget
    session.add(lot)
    session.flush()
    return lot


def price_total(count: int, amount: Decimal | None) -> Decimal | None:
    """What `count` units at `amount` are worth, exactly; None when the price is not set."""
    return None if amount is None else amount * count
