"""The unit ledger (état de service fait): units delivered in a period, with their proof status."""

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, literal
from sqlalchemy.orm import aliased
from sqlmodel import Session, and_, case, col, func, or_, select

from app.core.dates import to_local
from app.core.errors import Forbidden, NotFound
from app.core.tables import Table, table_heading
from app.models.beneficiaries import Beneficiary
from app.models.cases import Case, Episode
from app.models.catalogue import ServiceUnit
from app.models.control import CampaignKind, CampaignPhase, ControlCampaign, ControlFinding, Verdict
from app.models.markets import Lot, LotPrice, Market, MarketUnit
from app.models.nomenclatures import Role
from app.models.operators import Operator, Site
from app.models.staff import StaffUser
from app.services.access.scope import operator_of, owned_by
from app.services.control.proofs import EpisodeProofs, lacks_a_proof, proof_status_for_episodes
from app.services.reports.headings import filters_label
from app.services.reports.periods import check_period

LEDGER_ROLES = frozenset({Role.MANAGER, Role.OPERATOR_ADMIN})
DRILL_DOWN_LIMIT = 500
ZERO = Decimal("0.00")


@dataclass
class LedgerLine:
    """One unit's deliveries in the period under one market (none: episodes started under no
    lot); billable ones are those with complete proofs, if the market pays the unit."""

    unit_id: int
    code: str
    label: str
    billable: bool
    delivered: int
    complete: int
    billable_count: int  # counted as `standing` says: BILLABLE
    market_id: int | None = None
    market_name: str = ""
    # Each billable unit at the price in force in its lot when its episode started, exactly.
    amount: Decimal = ZERO
    # The prices those units were counted at, lowest first (several when a price changed).
    prices: list[Decimal] = field(default_factory=list)
    unpriced: int = 0  # billable units whose lot had no price for the unit at their start
    # Units found not conform by a closed official campaign (`refactions`), and their amount.
    refactions: int = 0
    refaction_amount: Decimal = ZERO

    @property
    def incomplete(self) -> int:
        return self.delivered - self.complete


@dataclass
class LedgerMarket:
    """The lines of one market (or of none), with their totals."""

    market_id: int | None
    name: str  # "" for the episodes started under no lot
    lines: list[LedgerLine]

    @property
    def totals(self) -> "LedgerTotals":
        return LedgerTotals.of(self.lines)


@dataclass
class LedgerMonth:
    """What one calendar month of the period bills under one market."""

    month: date  # its first day
    market_name: str
    billable_count: int
    amount: Decimal
    unpriced: int


@dataclass
class Ledger:
    start: date
    end: date
    site_id: int | None
    time_zone: str
    markets: list[LedgerMarket]
    months: list[LedgerMonth] = field(default_factory=list)
    operator_name: str = ""  # for the download's title row, with the filter's site
    filters: str = ""

    @property
    def lines(self) -> list[LedgerLine]:
        return [line for market in self.markets for line in market.lines]

    @property
    def totals(self) -> "LedgerTotals":
        return LedgerTotals.of(self.lines)


@dataclass
class LedgerTotals:
    delivered: int
    complete: int
    incomplete: int
    billable_count: int
    amount: Decimal = ZERO
    unpriced: int = 0
    refactions: int = 0
    refaction_amount: Decimal = ZERO

    @classmethod
    def of(cls, lines: list[LedgerLine]) -> "LedgerTotals":
        return cls(
            refactions=sum(line.refactions for line in lines),
            refaction_amount=sum((line.refaction_amount for line in lines), ZERO),
            delivered=sum(line.delivered for line in lines),
            complete=sum(line.complete for line in lines),
            incomplete=sum(line.incomplete for line in lines),
            billable_count=sum(line.billable_count for line in lines),
            amount=sum((line.amount for line in lines), ZERO),
            unpriced=sum(line.unpriced for line in lines),
        )


@dataclass
class Refaction:
    """A unit France compétences found not conform in an official campaign now closed: its
    amount is taken off what the operator bills (« réfaction »)."""

    episode_id: int
    lot_id: int | None
    unit_id: int
    campaign_id: int
    amount: Decimal | None  # the unit's price when reviewed; None: unpriced


@dataclass
class LedgerCase:
    """An episode delivered in the period, for the drill-down."""

    episode: Episode
    case: Case
    beneficiary: Beneficiary
    referent: StaffUser | None
    site: Site | None
    complete: bool
    proofs: EpisodeProofs
    refaction: Refaction | None = None


def previous_month(today: date) -> tuple[date, date]:
    """The calendar month before `today`'s: the ledger's default period."""
    last = today.replace(day=1) - timedelta(days=1)
    return last.replace(day=1), last


def ledger_operator(session: Session, actor: StaffUser) -> Operator:
    operator_id = operator_of(actor)
    if actor.role not in LEDGER_ROLES:
        raise Forbidden("L'état de service fait est réservé aux responsables et administrateurs.")
    return session.get(Operator, operator_id)


def delivered_in(operator: Operator, start: date, end: date, site_id: int | None) -> list:
    """Episodes ended between `start` and `end` inclusive, as the operator's staff count days,
    cancelled ones aside."""
    check_period(start, end)
    zone = ZoneInfo(operator.time_zone)
    conditions = [
        owned_by(Episode, operator.id),
        col(Episode.cancelled_at).is_(None),  # started by mistake: never delivered
        col(Episode.ended_at).is_not(None),
        col(Episode.ended_at) >= datetime.combine(start, time(), zone),
        col(Episode.ended_at) < datetime.combine(end + timedelta(days=1), time(), zone),
    ]
    if site_id is not None:
        conditions.append(Case.site_id == site_id)
    return conditions


# What the ledger makes of an episode delivered in the period (`standing`).
INCOMPLETE, UNPAID, BILLABLE = 0, 1, 2


def paid_by_its_market() -> ColumnElement[bool]:
    """SQL, of an episode: the market it started under (its lot's) pays its unit; started under
    no lot, the catalogue says whether the unit is billable."""
    by_market = (
        select(1)
        .select_from(MarketUnit)
        .join(Lot, col(Lot.market_id) == MarketUnit.market_id)
        .where(
            Lot.id == Episode.lot_id,
            MarketUnit.unit_id == Episode.unit_id,
            col(MarketUnit.billable).is_(True),
        )
        .correlate(Episode)
        .exists()
    )
    by_catalogue = (
        select(1)
        .where(ServiceUnit.id == Episode.unit_id, col(ServiceUnit.billable).is_(True))
        .correlate(Episode)
        .exists()
    )
    return or_(
        and_(col(Episode.lot_id).is_not(None), by_market),
        and_(col(Episode.lot_id).is_(None), by_catalogue),
    )


def standing() -> ColumnElement[int]:
    """SQL, of an episode delivered in the period: INCOMPLETE (a required proof is missing),
    UNPAID (proven, but not paid: `paid_by_its_market`) or BILLABLE. The ledger's billable
    count and a control campaign's population are both read from it, so they always agree."""
    return case((lacks_a_proof(), INCOMPLETE), (paid_by_its_market(), BILLABLE), else_=UNPAID)


def billable_units(session: Session, operator: Operator, start: date, end: date) -> list[int]:
    """The ids of the episodes the ledger counts as billable over the period, every site."""
    statement = (
        select(Episode.id)
        .join(Case, col(Case.id) == Episode.case_id)
        .where(*delivered_in(operator, start, end, None), standing() == BILLABLE)
    )
    return list(session.exec(statement))


def _month_starts(start: date, end: date) -> list[date]:
    """The first day of each calendar month the period touches."""
    months, month = [], start.replace(day=1)
    while month <= end:
        months.append(month)
        month = (month + timedelta(days=32)).replace(day=1)
    return months


def _month_of_end(months: list[date], zone: ZoneInfo):
    """Which of `months` each episode ended in (its index), as SQL: the boundaries are
    instants computed here, so that both engines cut the months in the operator's time zone."""
    boundaries = [datetime.combine(month, time(), zone) for month in months[1:]]
    if not boundaries:
        return literal(0)
    whens = [(col(Episode.ended_at) < moment, index) for index, moment in enumerate(boundaries)]
    return case(*whens, else_=len(boundaries))


def _price_at_start():
    """The lot's price for the episode's unit in force when the episode started (its id)."""
    return (
        select(LotPrice.id)
        .where(
            LotPrice.lot_id == Episode.lot_id,
            LotPrice.unit_id == Episode.unit_id,
            LotPrice.effective_at <= Episode.started_at,
        )
        .order_by(col(LotPrice.effective_at).desc())
        .limit(1)
        .correlate(Episode)
        .scalar_subquery()
    )


@dataclass
class _Count:
    delivered: int = 0
    complete: int = 0
    billable: int = 0
    amount: Decimal = ZERO
    prices: set[Decimal] = field(default_factory=set)
    unpriced: int = 0
    refactions: int = 0
    refaction_amount: Decimal = ZERO


def unit_ledger(
    *, session: Session, actor: StaffUser, start: date, end: date, site_id: int | None = None
) -> Ledger:
    """Units delivered in the period per market and code, with proof complete / incomplete,
    billable, and their amount in euros; then what each month bills under each market.

    The database counts per lot, unit, month and price; the euros are multiplied here, in
    Decimal, so that no engine rounds them through a float."""
    operator = ledger_operator(session, actor)
    months = _month_starts(start, end)
    rows = select(
        Episode.lot_id.label("lot_id"),
        Episode.unit_id.label("unit_id"),
        _month_of_end(months, ZoneInfo(operator.time_zone)).label("month"),
        _price_at_start().label("price_id"),
        standing().label("standing"),
    )
    rows = (
        rows.select_from(Episode)
        .join(Case, Case.id == Episode.case_id)
        .where(*delivered_in(operator, start, end, site_id))
        .subquery()
    )
    # Grouped by standing too: each episode's standing is computed once, then only counted.
    keys = (rows.c.lot_id, rows.c.unit_id, rows.c.month, rows.c.price_id, rows.c.standing)
    counted = session.exec(select(*keys, func.count()).group_by(*keys)).all()
    terms = _market_terms(session, operator.id, start, end, {row[0] for row in counted})
    prices = _prices(session, {row[3] for row in counted if row[3] is not None})
    lines: dict[tuple[int | None, int], _Count] = {}
    by_month: dict[tuple[int, int | None], _Count] = {}
    for lot_id, unit, month, price_id, standing_of, count in counted:
        market_id = terms.market_of_lot.get(lot_id)
        line = lines.setdefault((market_id, unit), _Count())
        line.delivered += count
        if standing_of != INCOMPLETE:
            line.complete += count
        if standing_of != BILLABLE:
            continue
        line.billable += count
        month_count = by_month.setdefault((month, market_id), _Count())
        month_count.billable += count
        if price_id is None:
            line.unpriced += count
            month_count.unpriced += count
            continue
        line.amount += prices[price_id] * count
        line.prices.add(prices[price_id])
        month_count.amount += prices[price_id] * count
    for found in refactions(session, *delivered_in(operator, start, end, site_id)).values():
        line = lines.setdefault((terms.market_of_lot.get(found.lot_id), found.unit_id), _Count())
        line.refactions += 1
        line.refaction_amount += found.amount or ZERO
    markets = [
        LedgerMarket(
            market_id,
            terms.names.get(market_id, ""),
            [
                LedgerLine(
                    unit.id,
                    unit.code,
                    unit.label,
                    terms.billable(market_id, unit.id),
                    (found := lines.get((market_id, unit.id), _Count())).delivered,
                    found.complete,
                    found.billable,
                    market_id,
                    terms.names.get(market_id, ""),
                    found.amount,
                    sorted(found.prices),
                    found.unpriced,
                    found.refactions,
                    found.refaction_amount,
                )
                for unit in terms.units(session, market_id, {u for m, u in lines if m == market_id})
            ],
        )
        for market_id in terms.shown(lines)
    ]
    ledger_months = [
        LedgerMonth(
            months[month],
            terms.names.get(market_id, ""),
            count.billable,
            count.amount,
            count.unpriced,
        )
        for (month, market_id), count in sorted(
            by_month.items(), key=lambda item: (item[0][0], terms.order(item[0][1]))
        )
    ]
    filters = filters_label(session=session, operator_id=operator.id, site_id=site_id)
    return Ledger(
        start, end, site_id, operator.time_zone, markets, ledger_months, operator.name, filters
    )


@dataclass
class _Terms:
    """The markets the ledger speaks of: their names, their units' terms, their lots."""

    names: dict[int | None, str]
    market_of_lot: dict[int | None, int | None]
    terms: dict[tuple[int, int], MarketUnit]
    in_period: list[int]  # markets of the operator's lots overlapping the period, latest first

    def billable(self, market_id: int | None, unit_id: int) -> bool:
        """Paid by the market; outside any market (no lot), as the catalogue says: the line's
        flag, as `paid_by_its_market` decides for each episode."""
        if market_id is None:
            return self.catalogue_billable.get(unit_id, False)
        found = self.terms.get((market_id, unit_id))
        return found is not None and found.billable

    catalogue_billable: dict[int, bool] = field(default_factory=dict)

    def order(self, market_id: int | None) -> int:
        ordered = self.shown({})
        return ordered.index(market_id) if market_id in ordered else len(ordered)

    def shown(self, lines: dict) -> list[int | None]:
        """Every market of the period, latest first; the episodes of no lot last, when there
        are some, or when the operator has no lot in the period (the catalogue's ledger)."""
        delivered = {market_id for market_id, _unit in lines}
        shown = list(self.in_period)
        shown += sorted(
            (m for m in delivered if m is not None and m not in shown),
            key=lambda m: self.names[m],
            reverse=True,
        )
        if None in delivered or not self.in_period:
            shown.append(None)
        return shown

    def units(self, session: Session, market_id: int | None, delivered: set[int]):
        """The market's units (every active unit of the catalogue outside any market), and
        any other unit delivered under it."""
        if market_id is None:
            listed = col(ServiceUnit.active).is_(True) | col(ServiceUnit.id).in_(list(delivered))
            return session.exec(
                select(ServiceUnit).where(listed).order_by(ServiceUnit.position, ServiceUnit.code)
            )
        ids = {unit for market, unit in self.terms if market == market_id} | delivered
        position = {unit: t.position for (m, unit), t in self.terms.items() if m == market_id}
        found = session.exec(select(ServiceUnit).where(col(ServiceUnit.id).in_(list(ids))))
        return sorted(found, key=lambda u: (position.get(u.id, 10**6), u.position, u.code))


def _market_terms(
    session: Session, operator_id: int, start: date, end: date, lot_ids: set[int | None]
) -> _Terms:
    lots = session.exec(
        select(Lot, Market)
        .join(Market, col(Market.id) == Lot.market_id)
        .where(
            owned_by(Lot, operator_id),
            (Lot.starts_on <= end) & (Lot.ends_on >= start)
            | col(Lot.id).in_(list(lot_ids - {None})),
        )
        .order_by(col(Lot.starts_on).desc())
    ).all()
    market_ids = [market.id for _lot, market in lots]
    terms = session.exec(select(MarketUnit).where(col(MarketUnit.market_id).in_(market_ids)))
    catalogue = session.exec(select(ServiceUnit.id, ServiceUnit.billable))
    return _Terms(
        names={market.id: market.name for _lot, market in lots},
        market_of_lot={lot.id: market.id for lot, market in lots} | {None: None},
        terms={(t.market_id, t.unit_id): t for t in terms},
        in_period=[
            market.id for lot, market in lots if lot.starts_on <= end and lot.ends_on >= start
        ],
        catalogue_billable=dict(catalogue.all()),
    )


def unit_prices(session: Session, episode_ids: list[int]) -> dict[int, Decimal | None]:
    """Each episode's price as the ledger counts it: its lot's price for its unit in force
    when it started (None: no lot, or no price for the unit then)."""
    rows = session.exec(
        select(Episode.id, _price_at_start()).where(col(Episode.id).in_(episode_ids))
    ).all()
    prices = _prices(session, {price_id for _, price_id in rows if price_id is not None})
    return {episode_id: prices.get(price_id) for episode_id, price_id in rows}


def refactions(session: Session, *conditions) -> dict[int, Refaction]:
    """The réfactions of the episodes that meet `conditions` (on Episode and Case), by episode;
    one per unit, the first campaign's, should two closed campaigns have drawn it."""
    statement = (
        select(
            Episode.id,
            Episode.lot_id,
            Episode.unit_id,
            ControlFinding.campaign_id,
            ControlFinding.amount,
        )
        .select_from(ControlFinding)
        .join(ControlCampaign, col(ControlCampaign.id) == ControlFinding.campaign_id)
        .join(Episode, col(Episode.id) == ControlFinding.episode_id)
        .join(Case, col(Case.id) == Episode.case_id)
        .where(
            ControlCampaign.kind == CampaignKind.OFFICIAL.value,
            ControlCampaign.phase == CampaignPhase.CLOSED.value,
            ControlFinding.verdict == Verdict.NON_CONFORM.value,
            *conditions,
        )
        .order_by(col(ControlFinding.campaign_id).desc())
    )
    # Latest campaign first, so that the first one's overwrites it.
    return {row[0]: Refaction(*row) for row in session.exec(statement)}


def _prices(session: Session, price_ids: set[int]) -> dict[int, Decimal]:
    if not price_ids:
        return {}
    found = session.exec(
        select(LotPrice.id, LotPrice.amount).where(col(LotPrice.id).in_(price_ids))
    )
    return {price_id: Decimal(amount) for price_id, amount in found}


def ledger_cases(
    *,
    session: Session,
    actor: StaffUser,
    unit_id: int,
    start: date,
    end: date,
    site_id: int | None = None,
    complete: bool | None = None,
    market_id: int | None = None,
    limit: int | None = DRILL_DOWN_LIMIT,
) -> tuple[ServiceUnit, list[LedgerCase], int]:
    """The episodes behind one ledger line (of one market, when `market_id` says which),
    latest ended first, and how many there are in all."""
    operator = ledger_operator(session, actor)
    unit = session.get(ServiceUnit, unit_id)
    if unit is None:
        raise NotFound()
    conditions = delivered_in(operator, start, end, site_id) + [Episode.unit_id == unit.id]
    if market_id is not None:
        lots = select(Lot.id).where(owned_by(Lot, operator.id), Lot.market_id == market_id)
        conditions.append(col(Episode.lot_id).in_(lots))
    is_complete = ~lacks_a_proof()
    if complete is not None:
        conditions.append(is_complete if complete else lacks_a_proof())
    total = session.exec(
        select(func.count(Episode.id))
        .select_from(Episode)
        .join(Case, Case.id == Episode.case_id)
        .where(*conditions)
    ).one()
    referent = aliased(StaffUser)
    statement = (
        select(Episode, Case, Beneficiary, referent, Site, is_complete)
        .select_from(Episode)
        .join(Case, Case.id == Episode.case_id)
        .join(Beneficiary, Beneficiary.id == Case.beneficiary_id)
        .outerjoin(referent, referent.id == Case.referent_id)
        .outerjoin(Site, Site.id == Case.site_id)
        .where(*conditions)
        .order_by(col(Episode.ended_at).desc(), col(Episode.id).desc())
        .limit(limit)
    )
    found = list(session.exec(statement))
    proofs = proof_status_for_episodes(
        session=session, operator_id=operator.id, episodes=[row[0] for row in found]
    )
    taken_off = refactions(session, col(Episode.id).in_([row[0].id for row in found]))
    rows = [
        LedgerCase(*row[:5], bool(row[5]), proofs[row[0].id], taken_off.get(row[0].id))
        for row in found
    ]
    return unit, rows, total


# ---- downloads ------------------------------------------------------------------------------


LEDGER_TITLE = "État de service fait"


def _period_name(start: date, end: date) -> str:
    return f"{start:%Y-%m-%d}_{end:%Y-%m-%d}"


def _euros(value: Decimal) -> Decimal:
    """Cents always written (120.50, not 120.5): exact, as the CSV and the workbook keep it."""
    return value.quantize(Decimal("0.01"))


def _price_cell(prices: list[Decimal]) -> Decimal | str:
    """One price is an amount like the others; several (a price changed within the period)
    are listed as text, with the decimal comma the amounts get."""
    if len(prices) == 1:
        return _euros(prices[0])
    return " / ".join(str(_euros(price)).replace(".", ",") for price in prices)


def ledger_table(ledger: Ledger) -> Table:
    """The ledger as a download: one row per market and unit, then the totals; amounts in
    euros as exact decimals (a decimal comma in the CSV, numbers in the workbook)."""
    columns = ("Unité", "Libellé", "Facturable", "Réalisées", "Preuves complètes")
    columns += ("Preuves incomplètes", "Facturables", "Marché", "Prix unitaire (€)")
    columns += ("Montant (€)", "Facturables sans prix", "Réfactions", "Montant des réfactions (€)")
    rows = [
        (
            line.code,
            line.label,
            "oui" if line.billable else "non",
            line.delivered,
            line.complete,
            line.incomplete,
            line.billable_count,
            line.market_name or "Hors marché",
            _price_cell(line.prices),
            _euros(line.amount),
            line.unpriced,
            line.refactions,
            _euros(line.refaction_amount),
        )
        for line in ledger.lines
    ]
    totals = ledger.totals
    rows.append(
        (
            "Total",
            "",
            "",
            totals.delivered,
            totals.complete,
            totals.incomplete,
            totals.billable_count,
            "",
            "",
            _euros(totals.amount),
            totals.unpriced,
            totals.refactions,
            _euros(totals.refaction_amount),
        )
    )
    name = f"etat-de-service_{_period_name(ledger.start, ledger.end)}"
    heading = table_heading(
        label=LEDGER_TITLE,
        operator=ledger.operator_name,
        filters=ledger.filters,
        start=ledger.start,
        end=ledger.end,
    )
    return Table(LEDGER_TITLE, columns, rows, name, heading)


def ledger_cases_table(
    unit: ServiceUnit,
    rows: list[LedgerCase],
    *,
    start: date,
    end: date,
    time_zone: str,
    heading: str = "",
) -> Table:
    """The drill-down as a download: one row per episode, dates in the operator's time zone;
    `heading` names the operator, the filters and the period (`views.ledger_drill_down`)."""
    columns = ("Dossier", "Bénéficiaire", "Référent·e", "Lieu d'accueil", "Unité")
    columns += ("Début", "Fin", "Preuves", "Réfaction (contrôle n°)", "Montant de la réfaction (€)")
    values = [
        (
            row.case.reference,
            row.beneficiary.full_name,
            row.referent.full_name if row.referent else "",
            row.site.name if row.site else "",
            unit.code,
            to_local(row.episode.started_at, time_zone).date(),
            to_local(row.episode.ended_at, time_zone).date(),
            "Complètes" if row.complete else "Incomplètes",
            row.refaction.campaign_id if row.refaction else "",
            _euros(row.refaction.amount or ZERO) if row.refaction else "",
        )
        for row in rows
    ]
    name = f"etat-de-service_{unit.code}_{_period_name(start, end)}"
    return Table(f"{LEDGER_TITLE} {unit.code}", columns, values, name, heading)
