"""The waiting list of the public booking: people for whom no slot suited leave the days and
half-days they are free; when a matching slot frees up, the first of them is offered it for a
limited time, then the next.

An offer *holds* its slot as an appointment in status `offered` (AppointmentStatus.OFFERED),
so that the database's no-overlap rule and the free-slot computation treat it as taken: nobody
is ever offered a slot already given, and nobody books a slot while it is offered. Accepting
turns that row into a booking; declining or letting it expire deletes it (the slot is free).
"""

from datetime import datetime

from sqlmodel import CheckConstraint, Column, Field, Index, SQLModel

from app.models.base import UTCDateTime, check_in, utcnow
from app.models.nomenclatures import LabelledEnum


class WaitingStatus(LabelledEnum):
    """Where a person on the list stands."""

    WAITING = "waiting", "En attente"
    OFFERED = "offered", "Place proposée"
    # An offer ran out unanswered: no more offers until the person says they still wait.
    PAUSED = "paused", "En pause (proposition sans réponse)"
    BOOKED = "booked", "Rendez-vous pris"
    LEFT = "left", "Sorti·e de la liste"
    REMOVED = "removed", "Retiré·e par l'équipe"


# The states in which a person is still on the list (the staff page lists them).
ON_THE_LIST = (WaitingStatus.WAITING, WaitingStatus.OFFERED, WaitingStatus.PAUSED)


class OfferOutcome(LabelledEnum):
    PENDING = "pending", "En attente de réponse"
    ACCEPTED = "accepted", "Acceptée"
    DECLINED = "declined", "Déclinée"
    EXPIRED = "expired", "Expirée"
    WITHDRAWN = "withdrawn", "Retirée"


class HalfDay(LabelledEnum):
    """A slot starting before noon (local time) is in the morning."""

    MORNING = "morning", "Matin"
    AFTERNOON = "afternoon", "Après-midi"


class WaitingListEntry(SQLModel, table=True):
    """One person waiting for a motif, a mode (and a site for a visit)."""

    __tablename__ = "waiting_list_entries"
    __table_args__ = (
        check_in("status", WaitingStatus, name="waiting_status_known"),
        CheckConstraint("mode IN ('on_site', 'phone', 'video')", name="waiting_mode_known"),
        # The worker's first question, every pass: is anybody waiting? One index probe.
        Index("ix_waiting_list_entries_status_created", "status", "created_at"),
        Index("ix_waiting_list_entries_operator_status", "operator_id", "status"),
    )

    id: int | None = Field(default=None, primary_key=True)
    operator_id: int = Field(foreign_key="operators.id")
    appointment_type_id: int = Field(foreign_key="appointment_types.id")
    mode: str = Field(max_length=10)
    site_id: int | None = Field(default=None, foreign_key="sites.id")
    # Who waits: found or created as a booking does; their name and contact are theirs.
    beneficiary_id: int = Field(foreign_key="beneficiaries.id", index=True)
    # Space-separated weekdays (0 = Monday) and half-days (HalfDay) the person is free.
    weekdays: str = Field(max_length=20)
    half_days: str = Field(max_length=20)
    status: str = Field(default=WaitingStatus.WAITING, max_length=10)
    # The appointment booked from the list, once an offer is accepted.
    appointment_id: int | None = Field(default=None, foreign_key="appointments.id")
    created_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(UTCDateTime, nullable=False)
    )
    updated_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(UTCDateTime, nullable=False)
    )
    ended_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime))

    def free_on(self, weekday: int, half_day: str) -> bool:
        return str(weekday) in self.weekdays.split() and half_day in self.half_days.split()


class WaitingListOffer(SQLModel, table=True):
    """A slot offered to one entry until `expires_at`, held by the appointment `appointment_id`
    while pending (deleted when declined or expired: the slot is free again)."""

    __tablename__ = "waiting_list_offers"
    __table_args__ = (
        check_in("outcome", OfferOutcome, name="waiting_offer_outcome_known"),
        Index("ix_waiting_list_offers_outcome_expires", "outcome", "expires_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    operator_id: int = Field(foreign_key="operators.id")
    entry_id: int = Field(foreign_key="waiting_list_entries.id", index=True)
    # The entry while the offer is pending, empty after: unique, so that one entry never has
    # two pending offers (a plain unique index, which both engines have; NULLs repeat).
    pending_entry_id: int | None = Field(
        default=None, foreign_key="waiting_list_entries.id", unique=True
    )
    appointment_id: int | None = Field(default=None, foreign_key="appointments.id", unique=True)
    # What was offered, kept when the holding row goes: never offer the entry the same start.
    starts_at: datetime = Field(sa_column=Column(UTCDateTime, nullable=False))
    counsellor_id: int = Field(foreign_key="staff_users.id")
    outcome: str = Field(default=OfferOutcome.PENDING, max_length=10)
    offered_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(UTCDateTime, nullable=False)
    )
    expires_at: datetime = Field(sa_column=Column(UTCDateTime, nullable=False))
    answered_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime))


class WaitingOfferDelay(SQLModel):
    """The « Délai pour accepter une place libérée » form, in hours."""

    waiting_offer_hours: int = Field(ge=1, le=72)
