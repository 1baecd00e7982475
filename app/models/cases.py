"""Cases (dossiers), the episodes of units they deliver, and the interactions (actes) recorded."""

from datetime import datetime
from enum import StrEnum

from sqlmodel import CheckConstraint, Column, Field, Index, SQLModel

from app.models.base import UTCDateTime, check_in, utcnow
from app.models.bounds import Minutes, OptionalPastDatetime, OptionalRowId, PastDatetime, RowId
from app.models.fields import LongText, NoteText, ShortText
from app.models.nomenclatures import Channel, CloseReason, InteractionChannel, RequestMotive


class CaseStatus(StrEnum):
    OPEN = "open"
    CLOSED = "closed"


class Case(SQLModel, table=True):
    __tablename__ = "cases"
    __table_args__ = (
        check_in("status", CaseStatus, name="case_status_known"),
        CheckConstraint(
            f"(status = '{CaseStatus.CLOSED}') = (closed_at IS NOT NULL)",
            name="case_closed_has_date",
        ),
        # A counsellor's open cases, most recently active first, without a sort.
        Index(
            "ix_cases_operator_referent_status",
            "operator_id",
            "referent_id",
            "status",
            "last_activity_at",
        ),
        Index("ix_cases_operator_last_activity", "operator_id", "last_activity_at"),
        # Reports: cases opened in a period, with what they count read from the index alone
        # on PostgreSQL (new cases per month and operator, first contact to first appointment).
        Index(
            "ix_cases_opened_at",
            "opened_at",
            postgresql_include=["operator_id", "first_contact_at", "first_appointment_at"],
        ),
        # Entries of a period (the first level-1 episode started in it), with what the indicators
        # count of them read from the index alone on PostgreSQL.
        Index(
            "ix_cases_level_1_started_at",
            "level_1_started_at",
            postgresql_include=[
                "operator_id",
                "beneficiary_id",
                "first_contact_at",
                "level_1_interview_at",
                "level_2_started_at",
                "motive",
                "channel",
            ],
        ),
        # The same two for one operator's report: its rows only, not every operator's.
        Index(
            "ix_cases_operator_level_1",
            "operator_id",
            "level_1_started_at",
            postgresql_include=[
                "beneficiary_id",
                "first_contact_at",
                "level_1_interview_at",
                "level_2_started_at",
                "motive",
                "channel",
            ],
        ),
        Index(
            "ix_cases_operator_opened",
            "operator_id",
            "opened_at",
            postgresql_include=["first_contact_at", "first_appointment_at"],
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    operator_id: int = Field(foreign_key="operators.id")
    reference: str = Field(max_length=24, unique=True)
    beneficiary_id: int = Field(foreign_key="beneficiaries.id", index=True)
    site_id: int | None = Field(default=None, foreign_key="sites.id")
    referent_id: int | None = Field(default=None, foreign_key="staff_users.id")
    channel: str = Field(max_length=20)
    motive: str = Field(max_length=30)
    request_text: str = Field(default="", max_length=5000)
    status: str = Field(default=CaseStatus.OPEN, max_length=10)
    close_reason: str | None = Field(default=None, max_length=20)
    close_note: str = Field(default="", max_length=1000)
    opened_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(UTCDateTime, nullable=False)
    )
    closed_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime))
    last_activity_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(UTCDateTime, nullable=False)
    )
    # Kept by the ORM on every flush (app/models/case_firsts.py) for the activity report: the
    # earlier of the opening and the first triage request received, the first appointment not
    # cancelled, the start of the first level-1 and level-2 episodes not cancelled (the case's
    # entry, and its reaching level 2), and the first interaction of a level-1 episode.
    first_contact_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime))
    first_appointment_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime))
    level_1_started_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime))
    level_2_started_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime))
    level_1_interview_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime))

    @property
    def is_open(self) -> bool:
        return self.status == CaseStatus.OPEN


class Episode(SQLModel, table=True):
    """One delivery of a unit on a case; any unit, any order, as often as needed."""

    __tablename__ = "episodes"
    __table_args__ = (
        CheckConstraint(
            "ended_at IS NULL OR ended_at >= started_at", name="episode_ends_after_start"
        ),
        CheckConstraint(
            "(cancelled_at IS NULL) = (cancelled_by_id IS NULL)", name="episode_cancelled_by_whom"
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    operator_id: int = Field(foreign_key="operators.id", index=True)
    case_id: int = Field(foreign_key="cases.id", index=True)
    unit_id: int = Field(foreign_key="service_units.id")
    started_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(UTCDateTime, nullable=False)
    )
    ended_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime))
    outcome: str = Field(default="", max_length=1000)
    started_by_id: int | None = Field(default=None, foreign_key="staff_users.id")
    # The lot (hence the market) in force for the operator on the day it started, set once when
    # it starts and never recomputed: its price and proof rule stay that market's. None when the
    # operator had no lot that day (app/services/admin/markets.py, `lot_in_force`).
    lot_id: int | None = Field(default=None, foreign_key="lots.id", index=True)
    # An episode started by mistake is cancelled rather than deleted: from then on it counts
    # nowhere (units under way, proofs, ledger, reports, control draws) but the case's history
    # still shows it, and who cancelled it when (app/services/cases/episodes.py).
    cancelled_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime))
    cancelled_by_id: int | None = Field(default=None, foreign_key="staff_users.id")

    @property
    def is_cancelled(self) -> bool:
        return self.cancelled_at is not None

    @property
    def is_open(self) -> bool:
        return self.ended_at is None and self.cancelled_at is None


class Interaction(SQLModel, table=True):
    """A dated contact with the beneficiary, within an episode or outside any unit (hors UO)."""

    __tablename__ = "interactions"
    __table_args__ = (
        CheckConstraint("duration_minutes BETWEEN 1 AND 600", name="interaction_duration_range"),
        Index("ix_interactions_case_occurred", "case_id", "occurred_at"),
        # Reports: a period's interactions with what they count (people served, units, channels)
        # read from the index alone on PostgreSQL, without visiting episodes or cases.
        Index(
            "ix_interactions_occurred_at",
            "occurred_at",
            postgresql_include=["operator_id", "unit_id", "beneficiary_id", "channel"],
        ),
        # The same for one operator's report (and any lookup by operator).
        Index(
            "ix_interactions_operator_occurred",
            "operator_id",
            "occurred_at",
            postgresql_include=["unit_id", "beneficiary_id", "channel"],
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    operator_id: int = Field(foreign_key="operators.id")
    case_id: int = Field(foreign_key="cases.id")
    episode_id: int | None = Field(default=None, foreign_key="episodes.id", index=True)
    # Copied from the episode and the case at every flush (app/models/interaction_copies.py)
    # for the reports: the unit worked in (None outside any unit), and the person.
    unit_id: int | None = Field(default=None, foreign_key="service_units.id")
    beneficiary_id: int | None = Field(default=None, foreign_key="beneficiaries.id")
    counsellor_id: int = Field(foreign_key="staff_users.id", index=True)
    occurred_at: datetime = Field(sa_column=Column(UTCDateTime, nullable=False))
    duration_minutes: int
    channel: str = Field(max_length=20)
    summary: str = Field(default="", max_length=5000)
    private_notes: str = Field(default="", max_length=5000)
    created_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(UTCDateTime, nullable=False)
    )


# ---- input and output schemas -------------------------------------------------------------


class CaseOpen(SQLModel):
    beneficiary_id: RowId
    channel: Channel
    motive: RequestMotive
    request_text: LongText = ""
    referent_id: OptionalRowId = None
    site_id: OptionalRowId = None


class CaseClose(SQLModel):
    reason: CloseReason
    note: NoteText = ""


class ReferentChange(SQLModel):
    referent_id: RowId


class EpisodeStart(SQLModel):
    unit_id: RowId
    started_at: OptionalPastDatetime = None


class EpisodeEnd(SQLModel):
    outcome: ShortText = ""
    ended_at: OptionalPastDatetime = None


class InteractionCreate(SQLModel):
    occurred_at: PastDatetime
    duration_minutes: Minutes
    channel: InteractionChannel
    episode_id: OptionalRowId = None
    summary: LongText = ""
    private_notes: LongText = ""


class CasePublic(SQLModel):
    id: int
    reference: str
    beneficiary_id: int
    site_id: int | None
    referent_id: int | None
    channel: str
    motive: str
    request_text: str
    status: str
    close_reason: str | None
    opened_at: datetime
    closed_at: datetime | None
    last_activity_at: datetime


class EpisodePublic(SQLModel):
    id: int
    case_id: int
    unit_id: int
    unit_code: str
    started_at: datetime
    ended_at: datetime | None
    outcome: str
    # Set when the episode was cancelled: it then counts nowhere.
    cancelled_at: datetime | None = None


class InteractionPublic(SQLModel):
    id: int
    case_id: int
    episode_id: int | None
    counsellor_id: int
    occurred_at: datetime
    duration_minutes: int
    channel: str
    summary: str
    # None when the reader is not one of the case's counsellors nor their manager.
    private_notes: str | None
