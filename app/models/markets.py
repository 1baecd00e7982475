"""The market as data: a national market (« Marché 2024-2027 ») with its period and units, one lot
per operator, and each lot's prices in euros, dated. An episode keeps the lot it started under
(episodes.lot_id), so a new market or a new price never rewrites what was already recorded.

Two lots of one operator never overlap: an exclusion constraint on PostgreSQL, triggers on
SQLite (see the migration). Money is Numeric and Decimal, never float."""

import re
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Annotated

from pydantic import AfterValidator, BeforeValidator
from sqlmodel import CheckConstraint, Column, Field, Numeric, SQLModel, UniqueConstraint

from app.models.base import UTCDateTime, check_in, utcnow
from app.models.bounds import Day, RowId
from app.models.fields import text
from app.models.nomenclatures import LabelledEnum


class ProofRule(LabelledEnum):
    """When a unit's required deliverable proves it (« service fait »)."""

    HANDED_OVER = "remis", "Remis : émis, puis envoyé ou remis en main propre"
    ACKNOWLEDGED = "accuse", "Accusé de lecture par le bénéficiaire"


# The most a price or a budget may be: what Numeric(12, 2) holds, far above any real one.
MAX_EUROS = Decimal("9999999999.99")


class Market(SQLModel, table=True):
    """A national market (marché), bought by France compétences for a period."""

    __tablename__ = "markets"
    __table_args__ = (CheckConstraint("ends_on >= starts_on", name="market_ends_after_start"),)

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=80, unique=True)
    starts_on: date
    ends_on: date
    created_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(UTCDateTime, nullable=False)
    )


class MarketUnit(SQLModel, table=True):
    """A unit of a market's catalogue: whether it is paid, and its proof rule (national, as the
    market's specification sets them for every operator)."""

    __tablename__ = "market_units"
    __table_args__ = (
        UniqueConstraint("market_id", "unit_id"),
        check_in("proof_rule", ProofRule, name="market_unit_proof_rule_known"),
    )

    id: int | None = Field(default=None, primary_key=True)
    market_id: int = Field(foreign_key="markets.id", index=True)
    unit_id: int = Field(foreign_key="service_units.id")
    billable: bool = True
    proof_rule: str = Field(default=ProofRule.HANDED_OVER.value, max_length=10)
    position: int = 0


class Lot(SQLModel, table=True):
    """An operator's lot in a market; its period is the market's, copied here so that the
    database can refuse two overlapping lots of one operator."""

    __tablename__ = "lots"
    __table_args__ = (
        UniqueConstraint("market_id", "operator_id"),
        CheckConstraint("ends_on >= starts_on", name="lot_ends_after_start"),
        CheckConstraint("uo4_budget IS NULL OR uo4_budget >= 0", name="lot_uo4_budget_positive"),
    )

    id: int | None = Field(default=None, primary_key=True)
    market_id: int = Field(foreign_key="markets.id")
    operator_id: int = Field(foreign_key="operators.id", index=True)
    starts_on: date
    ends_on: date
    # The lot's budget for UO4 (quality and steering funds), for the UO4 page to count against.
    uo4_budget: Decimal | None = Field(default=None, sa_column=Column(Numeric(12, 2)))
    created_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(UTCDateTime, nullable=False)
    )


class LotPrice(SQLModel, table=True):
    """A unit's price in a lot from a day on: it applies to the episodes that start that day
    (in the operator's time zone) or later, until the next price of the unit."""

    __tablename__ = "lot_prices"
    __table_args__ = (
        UniqueConstraint("lot_id", "unit_id", "effective_from"),
        CheckConstraint("amount > 0", name="lot_price_positive"),
    )

    id: int | None = Field(default=None, primary_key=True)
    lot_id: int = Field(foreign_key="lots.id", index=True)
    unit_id: int = Field(foreign_key="service_units.id")
    amount: Decimal = Field(sa_column=Column(Numeric(12, 2), nullable=False))
    effective_from: date
    # Midnight of `effective_from` in the operator's time zone, as an instant: what an
    # episode's start is compared with.
    effective_at: datetime = Field(sa_column=Column(UTCDateTime, nullable=False))
    created_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(UTCDateTime, nullable=False)
    )
    created_by_id: int | None = Field(default=None, foreign_key="staff_users.id")


# ---- input schemas --------------------------------------------------------------------------

_AMOUNT = re.compile(r"[0-9]{1,10}(?:[.,][0-9]{1,2})?")
_SPACES = str.maketrans("", "", " \u00a0\u202f")


def read_euros(value):
    """An amount as a French person types it (« 1 234,50 », « 120 ») or a Decimal: exact, at
    most two decimals; never a float, whose value is not the one typed."""
    if isinstance(value, bool) or isinstance(value, float):
        raise ValueError("Montant invalide")
    if isinstance(value, int):
        value = str(value)
    if isinstance(value, Decimal):
        if not value.is_finite() or value.as_tuple().exponent < -2:
            raise ValueError("Montant invalide : deux décimales au plus")
        return value
    if not isinstance(value, str):
        raise ValueError("Montant invalide")
    typed = value.strip().removesuffix("€").translate(_SPACES)
    if not typed:
        raise ValueError("Ce champ est obligatoire")
    if not _AMOUNT.fullmatch(typed):
        raise ValueError(
            "Montant invalide : un nombre positif, deux décimales au plus (ex. 120,50)"
        )
    try:
        return Decimal(typed.replace(",", "."))
    except InvalidOperation:  # pragma: no cover - the pattern lets only numbers through
        raise ValueError("Montant invalide") from None


def _positive(value: Decimal) -> Decimal:
    if value <= 0:
        raise ValueError("Le montant doit être supérieur à zéro")
    if value > MAX_EUROS:
        raise ValueError("Montant trop élevé")
    return value


def _not_negative(value: Decimal) -> Decimal:
    if value < 0:
        raise ValueError("Le montant ne peut pas être négatif")
    if value > MAX_EUROS:
        raise ValueError("Montant trop élevé")
    return value


def check_budget(value: Decimal | None) -> Decimal | None:
    return None if value is None else _not_negative(value)


def _blank_or_euros(value):
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    return read_euros(value)


# A price: more than zero, cents at most.
Euros = Annotated[Decimal, BeforeValidator(read_euros), AfterValidator(_positive)]
# A budget may be zero, or left blank (not known yet).
OptionalBudget = Annotated[
    Decimal | None, BeforeValidator(_blank_or_euros), AfterValidator(check_budget)
]

MarketName = text(80, min_length=1)


class MarketCreate(SQLModel):
    name: MarketName
    starts_on: Day
    ends_on: Day


class LotCreate(SQLModel):
    operator_id: RowId


class MarketUnitEdit(SQLModel):
    billable: bool = False
    proof_rule: ProofRule


class PriceCreate(SQLModel):
    unit_id: RowId
    amount: Euros
    effective_from: Day


class BudgetEdit(SQLModel):
    uo4_budget: OptionalBudget = None
