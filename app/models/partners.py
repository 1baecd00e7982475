"""The partner directory and referrals (orientations) to partners, with their status history."""

from datetime import date, datetime

from sqlmodel import CheckConstraint, Column, Field, Index, SQLModel, UniqueConstraint

from app.models.base import UTCDateTime, utcnow

REFERRAL_STATUSES = (
    "proposed",
    "sent",
    "accepted",
    "declined",
    "in_progress",
    "completed",
    "abandoned",
    "expired",
)
_STATUS_LIST = ", ".join(f"'{s}'" for s in REFERRAL_STATUSES)


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
        CheckConstraint(f"status IN ({_STATUS_LIST})", name="referral_status_known"),
        CheckConstraint(
            "outcome IS NULL OR outcome IN ('achieved', 'partly', 'not_achieved', 'other')",
            name="referral_outcome_known",
        ),
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
    status: str = Field(default="proposed", max_length=20)
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
