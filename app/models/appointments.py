"""Appointments (rendez-vous): their types (motifs), the counsellors' weekly opening slots and
absences, and the appointments booked online or by staff.

No counsellor ever has two active appointments that overlap: the database guarantees it (an
exclusion constraint on PostgreSQL, triggers on SQLite — see the migration), not only Python.
"""

from datetime import date, datetime, time
from enum import StrEnum

from pydantic import ValidationInfo, field_validator
from sqlmodel import CheckConstraint, Column, Field, Index, SQLModel, UniqueConstraint

from app.models.base import UTCDateTime, check_in, utcnow
from app.models.bounds import Day, Moment, OptionalDay, OptionalRowId, RowId
from app.models.fields import OperatorCode
from app.models.nomenclatures import LabelledEnum, RequestMotive

MODES = ("on_site", "phone", "video")


def needs_site(mode: str) -> bool:
    """Only a visit (`on_site`) is held at a site: a phone or video appointment is held from
    wherever the counsellor works, and has none."""
    return mode == "on_site"


class BookingChannel(StrEnum):
    """Through which door an appointment was booked (`Appointment.booked_via`)."""

    ONLINE = "online"  # the public booking pages
    STAFF = "staff"
    API = "api"  # the public API


class AppointmentType(SQLModel, table=True):
    """A motif: what is booked, for how long, how, and by whom."""

    __tablename__ = "appointment_types"
    __table_args__ = (
        UniqueConstraint("operator_id", "name"),
        CheckConstraint("duration_minutes BETWEEN 5 AND 480", name="type_duration_range"),
        CheckConstraint("buffer_minutes BETWEEN 0 AND 120", name="type_buffer_range"),
    )

    id: int | None = Field(default=None, primary_key=True)
    operator_id: int = Field(foreign_key="operators.id", index=True)
    name: str = Field(max_length=120)
    description: str = Field(default="", max_length=1000)
    duration_minutes: int = 60
    # Space-separated among "on_site", "phone", "video".
    modes: str = Field(default="on_site phone video", max_length=40)
    online_bookable: bool = True
    min_notice_hours: int = 24
    max_horizon_days: int = 60
    cancel_cutoff_hours: int = 24
    # Time kept free after each appointment of this type.
    buffer_minutes: int = 0
    # The unit this appointment usually leads to (e.g. « Premier rendez-vous CEP » → UO1).
    unit_id: int | None = Field(default=None, foreign_key="service_units.id")
    # Asked on the booking form's details step when set; the answer is free text.
    booking_question: str = Field(default="", max_length=300)
    # What usually brings people to this motif (a RequestMotive): pre-selected on the booking
    # form's « Ce qui vous amène », and the triage request's motive when an API client says none.
    motive: str | None = Field(default=None, max_length=30)
    position: int = 0
    # An inactive motif is no longer offered; the appointments booked under it keep it.
    active: bool = True


class OpeningSlot(SQLModel, table=True):
    """A weekly opening: a counsellor receives at a site (or remotely when `site_id` is empty)
    on a weekday between two local times, between two dates."""

    __tablename__ = "opening_slots"
    __table_args__ = (
        CheckConstraint("weekday BETWEEN 0 AND 6", name="opening_weekday_range"),
        CheckConstraint("end_time > start_time", name="opening_ends_after_start"),
        CheckConstraint(
            "valid_until IS NULL OR valid_until >= valid_from", name="opening_valid_range"
        ),
        Index("ix_opening_slots_operator_counsellor", "operator_id", "counsellor_id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    operator_id: int = Field(foreign_key="operators.id")
    counsellor_id: int = Field(foreign_key="staff_users.id")
    site_id: int | None = Field(default=None, foreign_key="sites.id", index=True)
    weekday: int  # 0 = Monday, as in Python
    start_time: time
    end_time: time
    # Space-separated among "on_site", "phone", "video".
    modes: str = Field(default="on_site phone video", max_length=40)
    valid_from: date
    valid_until: date | None = None


class Absence(SQLModel, table=True):
    """A counsellor is away: no slot is offered in that period."""

    __tablename__ = "absences"
    __table_args__ = (CheckConstraint("ends_at > starts_at", name="absence_ends_after_start"),)

    id: int | None = Field(default=None, primary_key=True)
    operator_id: int = Field(foreign_key="operators.id")
    counsellor_id: int = Field(foreign_key="staff_users.id", index=True)
    starts_at: datetime = Field(sa_column=Column(UTCDateTime, nullable=False))
    ends_at: datetime = Field(sa_column=Column(UTCDateTime, nullable=False))
    reason: str = Field(default="", max_length=200)


class AppointmentStatus(LabelledEnum):
    """Booked until cancelled, or until the counsellor marks how it went (attendance); or
    offered to a person of the waiting list, until they accept it (booked) or not (deleted)."""

    BOOKED = "booked", "Réservé"
    CANCELLED = "cancelled", "Annulé"
    HONOURED = "honoured", "Honoré"
    NO_SHOW = "no_show", "Absent·e"
    EXCUSED = "excused", "Excusé·e"
    # Held for a person of the waiting list until they answer (app/models/waiting_list.py):
    # taken for the no-overlap rule and the free slots, nobody's appointment yet.
    OFFERED = "offered", "Proposé (liste d'attente)"


class Appointment(SQLModel, table=True):
    __tablename__ = "appointments"
    __table_args__ = (
        CheckConstraint("ends_at > starts_at", name="appointment_ends_after_start"),
        CheckConstraint("blocks_until >= ends_at", name="appointment_blocks_after_end"),
        check_in("status", AppointmentStatus, name="appointment_status_known"),
        check_in("booked_via", BookingChannel, name="appointment_booked_via_known"),
        CheckConstraint("mode IN ('on_site', 'phone', 'video')", name="appointment_mode_known"),
        Index("ix_appointments_counsellor_starts", "counsellor_id", "starts_at"),
        Index("ix_appointments_operator_starts", "operator_id", "starts_at"),
        # A case's appointments, and its first one read from the index alone (reports).
        Index("ix_appointments_case_starts", "case_id", "starts_at", postgresql_include=["status"]),
        # Reports: the appointments honoured or missed in a period, across operators.
        Index(
            "ix_appointments_starts_at", "starts_at", postgresql_include=["operator_id", "status"]
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    operator_id: int = Field(foreign_key="operators.id")
    reference: str = Field(max_length=24, unique=True)
    appointment_type_id: int = Field(foreign_key="appointment_types.id")
    counsellor_id: int = Field(foreign_key="staff_users.id")
    site_id: int | None = Field(default=None, foreign_key="sites.id")
    mode: str = Field(max_length=10)
    starts_at: datetime = Field(sa_column=Column(UTCDateTime, nullable=False))
    ends_at: datetime = Field(sa_column=Column(UTCDateTime, nullable=False))
    # The end plus the type's buffer: what the no-overlap constraint protects.
    blocks_until: datetime = Field(sa_column=Column(UTCDateTime, nullable=False))
    status: str = Field(default=AppointmentStatus.BOOKED, max_length=10)
    beneficiary_id: int = Field(foreign_key="beneficiaries.id", index=True)
    triage_request_id: int | None = Field(
        default=None, foreign_key="triage_requests.id", index=True
    )
    case_id: int | None = Field(default=None, foreign_key="cases.id")
    interaction_id: int | None = Field(default=None, foreign_key="interactions.id")
    booked_via: str = Field(default=BookingChannel.ONLINE, max_length=10)
    booked_by_id: int | None = Field(default=None, foreign_key="staff_users.id")
    request_text: str = Field(default="", max_length=2000)
    # The motif's question as it was asked when booking (the motif's may change later), and
    # the person's answer; both empty when none was asked.
    booking_question: str = Field(default="", max_length=300)
    booking_answer: str = Field(default="", max_length=2000)
    # A double-submitted form books once: the same key finds the same appointment. Stored as
    # a digest of the key, the operator and the person booked for (scoped_idempotency_key in
    # services/booking.py), so that this one unique index is one per operator and person.
    idempotency_key: str | None = Field(default=None, max_length=80, unique=True)
    # RFC 5545: a stable UID, and a SEQUENCE raised on each change so that updates replace.
    ics_uid: str = Field(max_length=100, unique=True)
    ics_sequence: int = 0
    # A video appointment's room (FILROUGE_VIDEO_BASE_URL and an unguessable name, made once at
    # booking); empty for other modes, or when no base is set: the counsellor sends a link.
    video_url: str = Field(default="", max_length=300, sa_column_kwargs={"server_default": ""})
    reminder_sent_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime))
    cancelled_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime))
    # What the beneficiary wrote when cancelling from their link (optional), for the counsellor.
    cancel_reason: str = Field(default="", max_length=500, sa_column_kwargs={"server_default": ""})
    created_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(UTCDateTime, nullable=False)
    )
    updated_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(UTCDateTime, nullable=False)
    )


class RateLimitHit(SQLModel, table=True):
    """One request counted against a public rate limit (per IP, per e-mail, per phone), kept in
    the database so that every app process shares the count."""

    __tablename__ = "rate_limit_hits"
    __table_args__ = (Index("ix_rate_limit_hits_bucket_key_at", "bucket", "key", "at"),)

    id: int | None = Field(default=None, primary_key=True)
    bucket: str = Field(max_length=40)
    key: str = Field(max_length=200)
    at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime, nullable=False))


# ---- Availability admin: what the forms for motifs, openings and absences submit ------------


def _checked_modes(value: list[str]) -> list[str]:
    if not value:
        raise ValueError("Cochez au moins un mode")
    if any(mode not in MODES for mode in value):
        raise ValueError("Mode inconnu")
    return [mode for mode in MODES if mode in value]


class AppointmentTypeEdit(SQLModel):
    name: str = Field(min_length=1, max_length=120)
    description: str = Field(default="", max_length=1000)
    duration_minutes: int = Field(ge=5, le=480)
    modes: list[str]
    online_bookable: bool = False
    min_notice_hours: int = Field(default=24, ge=0, le=720)
    max_horizon_days: int = Field(default=60, ge=1, le=365)
    cancel_cutoff_hours: int = Field(default=24, ge=0, le=720)
    buffer_minutes: int = Field(default=0, ge=0, le=120)
    unit_id: OptionalRowId = None
    booking_question: str = Field(default="", max_length=300)
    motive: RequestMotive | None = None
    active: bool = False

    @field_validator("name", "description", mode="before")
    @classmethod
    def _strip(cls, value):
        return value.strip() if isinstance(value, str) else value

    @field_validator("motive", mode="before")
    @classmethod
    def _no_motive(cls, value):
        return value or None  # the select's « Aucun »

    @field_validator("booking_question", mode="before")
    @classmethod
    def _question(cls, value):
        # One line, shown as a field's label: line breaks and NULs (PostgreSQL refuses them) go.
        return " ".join(value.replace("\x00", "").split()) if isinstance(value, str) else value

    @field_validator("modes")
    @classmethod
    def _modes(cls, value: list[str]) -> list[str]:
        return _checked_modes(value)


class OpeningSlotEdit(SQLModel):
    counsellor_id: RowId
    # Empty: a remote opening (phone / video), read in the operator's time zone.
    site_id: OptionalRowId = None
    weekday: int = Field(ge=0, le=6)
    start_time: time
    end_time: time
    modes: list[str]
    valid_from: Day
    valid_until: OptionalDay = None

    @field_validator("modes")
    @classmethod
    def _modes(cls, value: list[str]) -> list[str]:
        return _checked_modes(value)

    @field_validator("end_time")
    @classmethod
    def _ends_after_start(cls, value: time, info: ValidationInfo) -> time:
        start = info.data.get("start_time")
        if start is not None and value <= start:
            raise ValueError("La fin doit suivre le début")
        return value

    @field_validator("valid_until")
    @classmethod
    def _until_after_from(cls, value: date | None, info: ValidationInfo) -> date | None:
        start = info.data.get("valid_from")
        if value is not None and start is not None and value < start:
            raise ValueError("La fin de validité précède son début")
        return value


class AbsenceEdit(SQLModel):
    counsellor_id: RowId
    starts_at: Moment
    ends_at: Moment
    reason: str = Field(default="", max_length=200)

    @field_validator("ends_at")
    @classmethod
    def _ends_after_start(cls, value: datetime, info: ValidationInfo) -> datetime:
        start = info.data.get("starts_at")
        if start is not None and value <= start:
            raise ValueError("La fin doit suivre le début")
        return value


# ---- Public booking pages: the choices carried from step to step in hidden fields -----------


class BookingChoice(SQLModel):
    """Operator, motif, mode and place, checked again at each step after the first."""

    operateur: OperatorCode
    motif: RowId
    mode: str = Field(default="", max_length=20)
    lieu: OptionalRowId = None


class SlotChoice(BookingChoice):
    """… and the slot chosen, as offered: its start with the site's offset."""

    debut: Moment


class CallbackChoice(SQLModel):
    """What was chosen before asking to be called back; any of it may be missing."""

    operateur: OperatorCode
    motif: OptionalRowId = None
    mode: str = Field(default="", max_length=20)
    lieu: OptionalRowId = None
