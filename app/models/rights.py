"""Requests of a person exercising their rights (RGPD articles 15 to 21), answered within a
month, and the access archive built for an access request."""

from datetime import date, datetime

from sqlmodel import BigInteger, Column, Field, Index, SQLModel

from app.models.base import UTCDateTime, check_in, utcnow
from app.models.bounds import Day, RowId
from app.models.control import PackStatus
from app.models.fields import NoteText
from app.models.nomenclatures import LabelledEnum

MAX_OUTCOME = 1000


class RightKind(LabelledEnum):
    ACCESS = "access", "Accès (art. 15)"
    RECTIFICATION = "rectification", "Rectification (art. 16)"
    ERASURE = "erasure", "Effacement (art. 17)"
    RESTRICTION = "restriction", "Limitation (art. 18)"
    OBJECTION = "objection", "Opposition ou retrait du consentement (art. 21 et 7)"


class ReceivedVia(LabelledEnum):
    LETTER = "letter", "Courrier"
    EMAIL = "email", "Courriel"
    IN_PERSON = "in_person", "Sur place"
    PHONE = "phone", "Téléphone"
    PERSONAL_SPACE = "personal_space", "Espace personnel en ligne"
    OTHER = "other", "Autre"


class RightStatus(LabelledEnum):
    RECEIVED = "received", "Reçue"
    IN_PROGRESS = "in_progress", "En cours"
    DONE = "done", "Traitée"
    REFUSED = "refused", "Refusée"


OPEN_STATUSES = (RightStatus.RECEIVED, RightStatus.IN_PROGRESS)


class RightsRequestCreate(SQLModel):
    beneficiary_id: RowId
    kind: RightKind
    received_on: Day
    received_via: ReceivedVia


class RightsRequest(SQLModel, table=True):
    __tablename__ = "rights_requests"
    __table_args__ = (
        check_in("kind", RightKind, name="rights_request_kind_known"),
        check_in("received_via", ReceivedVia, name="rights_request_via_known"),
        check_in("status", RightStatus, name="rights_request_status_known"),
        Index("ix_rights_requests_operator_status_due", "operator_id", "status", "due_on"),
    )

    id: int | None = Field(default=None, primary_key=True)
    operator_id: int = Field(foreign_key="operators.id")
    beneficiary_id: int = Field(foreign_key="beneficiaries.id", index=True)
    kind: str = Field(max_length=20)
    received_on: date
    received_via: str = Field(max_length=20)
    # One calendar month after it was received (art. 12 § 3).
    due_on: date
    status: str = Field(default=RightStatus.RECEIVED, max_length=20)
    # What was done, or why it was refused (shown to the person in the answer).
    outcome: str = Field(default="", max_length=MAX_OUTCOME)
    created_by_id: int | None = Field(default=None, foreign_key="staff_users.id")
    created_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(UTCDateTime, nullable=False)
    )
    handled_by_id: int | None = Field(default=None, foreign_key="staff_users.id")
    handled_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime))

    @property
    def kind_label(self) -> str:
        return RightKind(self.kind).label

    @property
    def status_label(self) -> str:
        return RightStatus(self.status).label

    @property
    def via_label(self) -> str:
        return ReceivedVia(self.received_via).label

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES


class RightsOutcome(SQLModel):
    outcome: NoteText = ""


class AccessArchive(SQLModel, table=True):
    """The ZIP answering an access request: built by the worker (app/services/jobs/leases.py),
    downloaded by the operator's administrators until it expires, then deleted."""

    __tablename__ = "access_archives"
    __table_args__ = (check_in("status", PackStatus, name="access_archive_status_known"),)

    id: int | None = Field(default=None, primary_key=True)
    operator_id: int = Field(foreign_key="operators.id")
    request_id: int = Field(foreign_key="rights_requests.id", index=True)
    status: str = Field(default=PackStatus.QUEUED, max_length=10)
    lease_until: datetime | None = Field(default=None, sa_column=Column(UTCDateTime))
    steps_done: int = 0
    steps_total: int = 0
    error: str = Field(default="", max_length=1000)
    archive_key: str | None = Field(default=None, max_length=100)
    archive_size: int | None = Field(default=None, sa_column=Column(BigInteger))
    created_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(UTCDateTime, nullable=False)
    )
    finished_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime))
    expires_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime))
    # When the worker deleted the file after its expiry: the row stays as the answer's trace.
    deleted_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime))

    @property
    def progress(self) -> float:
        return min(1.0, self.steps_done / self.steps_total) if self.steps_total else 0.0

    @property
    def status_label(self) -> str:
        return PackStatus(self.status).label
