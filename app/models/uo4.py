"""UO4 (« qualité du service », « moyens et pilotage »): the actions an operator funds from it —
training of its counsellors, communication, partnerships, site openings and accessibility,
tools — with their amounts in euros, who attended a training and for how long, and the record
of every change. Money and hours are Numeric and Decimal, never float."""

import re
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Annotated

from pydantic import AfterValidator, BeforeValidator
from pydantic import Field as Bounds
from sqlmodel import CheckConstraint, Column, Field, Numeric, SQLModel

from app.models.base import UTCDateTime, check_in, utcnow
from app.models.bounds import Day, OptionalDay, OptionalRowId, RowId
from app.models.fields import BlankIsNone, LongText, RequiredText, WholeNumber
from app.models.nomenclatures import LabelledEnum


class Uo4Kind(LabelledEnum):
    TRAINING = "formation", "Formation des conseiller·ères"
    COMMUNICATION = "communication", "Campagne de communication"
    PARTNERSHIP = "partenariat", "Partenariat"
    SITE = "site", "Ouverture de site et accessibilité"
    TOOLS = "outils", "Outils"
    OTHER = "autre", "Autre"


# What Numeric(12, 2) holds: far above any real action.
MAX_EUROS = Decimal("9999999999.99")
# A training lasts at most this many hours (a long certifying course), and so does a presence.
MAX_HOURS = Decimal("2000")
MAX_PARTICIPANTS = 100_000


class Uo4Action(SQLModel, table=True):
    """One action funded from UO4: what, when, how much, where (a site, or none)."""

    __tablename__ = "uo4_actions"
    __table_args__ = (
        check_in("kind", Uo4Kind, name="uo4_action_kind_known"),
        CheckConstraint("amount > 0", name="uo4_action_amount_positive"),
        CheckConstraint("ends_on IS NULL OR ends_on >= starts_on", name="uo4_action_ends_after"),
        CheckConstraint("hours IS NULL OR hours > 0", name="uo4_action_hours_positive"),
        CheckConstraint(
            "participants IS NULL OR participants > 0", name="uo4_action_participants_positive"
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    operator_id: int = Field(foreign_key="operators.id", index=True)
    kind: str = Field(max_length=20)
    title: str = Field(max_length=200)
    # The day it took place, or its first day; it counts in that day's quarter.
    starts_on: date = Field(index=True)
    ends_on: date | None = None
    amount: Decimal = Field(sa_column=Column(Numeric(12, 2), nullable=False))
    site_id: int | None = Field(default=None, foreign_key="sites.id")
    description: str = Field(default="", max_length=5000)
    # A training's length and head count (staff of the operator and others alike).
    hours: Decimal | None = Field(default=None, sa_column=Column(Numeric(6, 2)))
    participants: int | None = None
    # A cancelled action stays, with its history, but counts nowhere.
    cancelled_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime))
    created_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(UTCDateTime, nullable=False)
    )

    @property
    def kind_label(self) -> str:
        return Uo4Kind(self.kind).label


class Uo4Attendee(SQLModel, table=True):
    """A staff member who attended a training, and for how many hours."""

    __tablename__ = "uo4_attendees"
    __table_args__ = (CheckConstraint("hours > 0", name="uo4_attendee_hours_positive"),)

    action_id: int = Field(foreign_key="uo4_actions.id", primary_key=True)
    staff_id: int = Field(foreign_key="staff_users.id", primary_key=True, index=True)
    hours: Decimal = Field(sa_column=Column(Numeric(6, 2), nullable=False))


class Uo4EventKind(LabelledEnum):
    CREATED = "created", "Action enregistrée"
    UPDATED = "updated", "Action modifiée"
    CANCELLED = "cancelled", "Action annulée"
    RESTORED = "restored", "Action rétablie"


class Uo4Event(SQLModel, table=True):
    """One change to a UO4 action: who made it, when, and what changed."""

    __tablename__ = "uo4_events"
    __table_args__ = (check_in("kind", Uo4EventKind, name="uo4_event_kind_known"),)

    id: int | None = Field(default=None, primary_key=True)
    operator_id: int = Field(foreign_key="operators.id", index=True)
    action_id: int = Field(foreign_key="uo4_actions.id", index=True)
    actor_id: int | None = Field(default=None, foreign_key="staff_users.id")
    kind: str = Field(max_length=20)
    detail: str = Field(default="", max_length=4000)
    created_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(UTCDateTime, nullable=False)
    )

    @property
    def kind_label(self) -> str:
        return Uo4EventKind(self.kind).label


# ---- input schemas --------------------------------------------------------------------------

_DECIMAL = re.compile(r"[0-9]{1,10}(?:[.,][0-9]+)?")
_SPACES = str.maketrans("", "", " \u00a0\u202f")


def _exact_decimal(value, what: str) -> Decimal:
    """A number as typed in French (« 1 234,50 ») or a Decimal — never a float, whose value is
    not the one typed; at most two decimals."""
    if isinstance(value, bool | float):
        raise ValueError(f"{what} invalide")
    if isinstance(value, int):
        value = Decimal(value)
    if isinstance(value, str):
        typed = value.strip().removesuffix("€").removesuffix("h").translate(_SPACES)
        if not _DECIMAL.fullmatch(typed):
            raise ValueError(f"{what} invalide : un nombre positif (ex. 1 234,50)")
        value = Decimal(typed.replace(",", "."))
    if not isinstance(value, Decimal) or not value.is_finite():
        raise ValueError(f"{what} invalide")
    try:
        cents = value.quantize(Decimal("0.01"))
    except InvalidOperation:
        raise ValueError(f"{what} trop élevé") from None
    if cents != value:
        raise ValueError(f"{what} : deux décimales au plus")
    return cents


def _read_amount(value):
    return _exact_decimal(value, "Montant")


def _read_hours(value):
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    return _exact_decimal(value, "Nombre d'heures")


def _amount_in_range(value: Decimal) -> Decimal:
    if value <= 0:
        raise ValueError("Le montant doit être supérieur à zéro")
    if value > MAX_EUROS:
        raise ValueError("Montant trop élevé")
    return value


def _hours_in_range(value: Decimal | None) -> Decimal | None:
    if value is not None and not 0 < value <= MAX_HOURS:
        raise ValueError(f"Nombre d'heures : plus de 0 et au plus {MAX_HOURS}")
    return value


# Euros, more than zero, cents at most: « 1 234,50 », « 120 ».
Amount = Annotated[Decimal, BeforeValidator(_read_amount), AfterValidator(_amount_in_range)]
Hours = Annotated[Decimal | None, BlankIsNone(_read_hours), AfterValidator(_hours_in_range)]
Participants = Annotated[
    Annotated[int, Bounds(ge=1, le=MAX_PARTICIPANTS), WholeNumber] | None, BlankIsNone()
]


class Uo4AttendeeEdit(SQLModel):
    staff_id: RowId
    # Blank: the whole training.
    hours: Hours = None


class Uo4ActionEdit(SQLModel):
    """The form of a UO4 action; the training fields are kept for a training only (the
    service checks what depends on several fields: dates in order, a training's hours)."""

    kind: Uo4Kind
    title: RequiredText
    starts_on: Day
    ends_on: OptionalDay = None
    amount: Amount
    site_id: OptionalRowId = None
    description: LongText = ""
    hours: Hours = None
    participants: Participants = None
    attendees: list[Uo4AttendeeEdit] = []
