"""The partner directory and referrals (orientations) to partners, with their status history."""

import re
from datetime import date, datetime
from typing import Annotated, Literal
from urllib.parse import urlsplit

from pydantic import AfterValidator, BeforeValidator, EmailStr, StringConstraints
from sqlmodel import CheckConstraint, Column, Field, Index, SQLModel, UniqueConstraint

from app.models.base import UTCDateTime, check_in, utcnow
from app.models.bounds import OptionalDay, RowId
from app.models.fields import (
    NoteText,
    OptionalPhone,
    OptionalPostcode,
    RequiredText,
    blank_to_none,
    departement_order,
    normalise_departement,
    refuse_nul,
)
from app.models.nomenclatures import LabelledEnum, PartnerType, ReferralOutcome


class ReferralStatus(LabelledEnum):
    PROPOSED = "proposed", "Proposée"
    SENT = "sent", "Envoyée au partenaire"
    ACCEPTED = "accepted", "Acceptée"
    DECLINED = "declined", "Refusée"
    IN_PROGRESS = "in_progress", "En cours"
    COMPLETED = "completed", "Terminée"
    ABANDONED = "abandoned", "Abandonnée"
    EXPIRED = "expired", "Expirée (sans réponse)"


class Partner(SQLModel, table=True):
    """An organisation the operator refers people to; each operator keeps its own directory."""

    __tablename__ = "partners"
    __table_args__ = (
        UniqueConstraint("operator_id", "name"),
        Index("ix_partners_operator_type", "operator_id", "type"),
    )

    id: int | None = Field(default=None, primary_key=True)
    operator_id: int = Field(foreign_key="operators.id")
    name: str = Field(max_length=200)
    type: str = Field(max_length=30)
    # The départements it serves, as codes separated by spaces ("69 01 38", "2A 2B", "974").
    departements: str = Field(default="", max_length=300)
    address: str = Field(default="", max_length=300)
    postcode: str | None = Field(default=None, max_length=5)
    city: str = Field(default="", max_length=100)
    contact_name: str = Field(default="", max_length=120)
    email: str | None = Field(default=None, max_length=254)
    phone: str | None = Field(default=None, max_length=20)
    website: str = Field(default="", max_length=300)
    services: str = Field(default="", max_length=2000)
    active: bool = True
    created_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(UTCDateTime, nullable=False)
    )
    updated_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(UTCDateTime, nullable=False)
    )


class Referral(SQLModel, table=True):
    """A case's referral to a partner, followed until its outcome."""

    __tablename__ = "referrals"
    __table_args__ = (
        check_in("status", ReferralStatus, name="referral_status_known"),
        check_in("outcome", ReferralOutcome, name="referral_outcome_known", nullable=True),
        Index("ix_referrals_operator_status", "operator_id", "status"),
    )

    id: int | None = Field(default=None, primary_key=True)
    operator_id: int = Field(foreign_key="operators.id")
    case_id: int = Field(foreign_key="cases.id", index=True)
    partner_id: int = Field(foreign_key="partners.id", index=True)
    purpose: str = Field(max_length=1000)
    # What the partner receives about the person, and when the person agreed to it.
    shared_information: str = Field(default="", max_length=2000)
    consent_at: datetime = Field(sa_column=Column(UTCDateTime, nullable=False))
    follow_up_on: date | None = None
    status: str = Field(default=ReferralStatus.PROPOSED, max_length=20)
    decline_reason: str = Field(default="", max_length=1000)
    outcome: str | None = Field(default=None, max_length=20)
    outcome_note: str = Field(default="", max_length=1000)
    # The one partner link that may still act; cleared or replaced once it has been used.
    link_nonce: str | None = Field(default=None, max_length=40)
    created_by_id: int | None = Field(default=None, foreign_key="staff_users.id")
    created_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(UTCDateTime, nullable=False)
    )
    sent_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime))
    answered_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime))
    closed_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime))
    updated_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(UTCDateTime, nullable=False)
    )


class ReferralEvent(SQLModel, table=True):
    """One status change of a referral: who (a counsellor, the partner's link or the system)
    moved it from what to what, and why."""

    __tablename__ = "referral_events"
    __table_args__ = (
        CheckConstraint(
            "via IN ('counsellor', 'partner_link', 'system')", name="referral_event_via_known"
        ),
        check_in("from_status", ReferralStatus, name="referral_event_from_known", nullable=True),
        check_in("to_status", ReferralStatus, name="referral_event_to_known"),
    )

    id: int | None = Field(default=None, primary_key=True)
    operator_id: int = Field(foreign_key="operators.id")
    referral_id: int = Field(foreign_key="referrals.id", index=True)
    from_status: str | None = Field(default=None, max_length=20)
    to_status: str = Field(max_length=20)
    at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime, nullable=False))
    actor_id: int | None = Field(default=None, foreign_key="staff_users.id")
    via: str = Field(default="counsellor", max_length=20)
    note: str = Field(default="", max_length=1000)


# ---- partner input and output schemas ------------------------------------------------------

_DEPARTEMENTS_MAX = 300  # the column's width


def normalise_departements(value: str | list[str]) -> str:
    """Codes typed any way ("69, 1;2a") as the column keeps them: "01 2A 69"."""
    parts = value if isinstance(value, list) else [value]
    codes = {
        normalise_departement(code) for part in parts for code in re.split(r"[\s,;]+", part) if code
    }
    joined = " ".join(sorted(codes, key=departement_order))
    if len(joined) > _DEPARTEMENTS_MAX:
        raise ValueError("Trop de départements : laissez vide pour tout le territoire")
    return joined


def split_departements(value: str | list[str]) -> list[str]:
    return value.split() if isinstance(value, str) else value


def _check_website(value: str) -> str:
    """An http(s) address, since it becomes a link: "www.x.fr" is read as https://www.x.fr."""
    if not value:
        return value
    url = value if "://" in value else f"https://{value}"
    try:
        parts = urlsplit(url)
        scheme, host = parts.scheme, parts.hostname or ""
    except ValueError:
        scheme = host = ""
    if (
        scheme not in ("http", "https")
        or "." not in host
        or any(c.isspace() for c in url)
        or len(url) > 300
    ):
        raise ValueError("Adresse de site invalide (ex. https://www.exemple.fr)")
    return url


def _text(max_length: int):
    return Annotated[
        str,
        StringConstraints(strip_whitespace=True, max_length=max_length),
        AfterValidator(refuse_nul),
    ]


Departements = Annotated[str | list[str], AfterValidator(normalise_departements)]
Website = Annotated[
    str, StringConstraints(strip_whitespace=True, max_length=300), AfterValidator(_check_website)
]
OptionalEmail = Annotated[EmailStr | None, blank_to_none]


class PartnerEdit(SQLModel):
    """What staff type about a partner, in the form, the API and each line of a CSV import."""

    name: RequiredText
    type: PartnerType
    # Empty means the whole territory of the operator (a regional or national service).
    departements: Departements = ""
    address: _text(300) = ""
    postcode: OptionalPostcode = None
    city: _text(100) = ""
    contact_name: _text(120) = ""
    email: OptionalEmail = None
    phone: OptionalPhone = None
    website: Website = ""
    services: _text(2000) = ""
    active: bool = True


class PartnerCreate(PartnerEdit):
    pass


class PartnerUpdate(PartnerEdit):
    """Every field, as PUT replaces the whole record."""


class PartnerPublic(SQLModel):
    id: int
    name: str
    type: PartnerType
    departements: Annotated[list[str], BeforeValidator(split_departements)]
    address: str
    postcode: str | None
    city: str
    contact_name: str
    email: str | None
    phone: str | None
    website: str
    services: str
    active: bool
    created_at: datetime
    updated_at: datetime


# ---- referral input and output schemas -----------------------------------------------------


def _partner_chosen(value):
    # An empty select must say what to do, not "integer expected".
    if isinstance(value, str) and not value.strip():
        raise ValueError("Choisissez un partenaire")
    return value


CONSENT_REQUIRED = "Le bénéficiaire doit avoir accepté ce partage"


def _consent_given(value: bool) -> bool:
    # Checked here too, so that the form shows this message along with the others.
    if not value:
        raise ValueError(CONSENT_REQUIRED)
    return value


ReferralPurpose = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=1000),
    AfterValidator(refuse_nul),
]
OptionalOutcome = Annotated[ReferralOutcome | None, blank_to_none]


class ReferralCreate(SQLModel):
    """A referral as the counsellor proposes it; `consent` is the person's recorded agreement
    to `shared_information` (and only that) going to the partner."""

    partner_id: Annotated[RowId, BeforeValidator(_partner_chosen)]
    purpose: ReferralPurpose
    shared_information: _text(2000) = ""
    consent: Annotated[bool, AfterValidator(_consent_given)] = False
    follow_up_on: OptionalDay = None
    send_now: bool = False


class ReferralTransition(SQLModel):
    """A counsellor's status change: `reason` for a refusal, `outcome` (and `note`) to complete.
    `to="sent"` records a referral sent without e-mail (telephone, post)."""

    to: ReferralStatus
    reason: NoteText = ""
    outcome: OptionalOutcome = None
    note: NoteText = ""


class PartnerDecision(SQLModel):
    """The partner's answer from the e-mailed link."""

    decision: Literal["accept", "decline"]
    reason: NoteText = ""


class PartnerOutcomeReport(SQLModel):
    """The partner's news from the second link: under way, or finished with an outcome."""

    outcome: OptionalOutcome = None
    note: NoteText = ""
    in_progress: bool = False


class ReferralEventPublic(SQLModel):
    from_status: str | None
    to_status: str
    at: datetime
    actor_id: int | None
    via: str
    note: str


class ReferralPublic(SQLModel):
    id: int
    case_id: int
    partner_id: int
    partner_name: str
    partner_type: str
    purpose: str
    shared_information: str
    consent_at: datetime
    follow_up_on: date | None
    status: str
    decline_reason: str
    outcome: str | None
    outcome_note: str
    created_at: datetime
    sent_at: datetime | None
    answered_at: datetime | None
    closed_at: datetime | None
    events: list[ReferralEventPublic] = []
