"""Incoming requests waiting at triage (accueil, aiguillage — UO0)."""

from datetime import datetime
from enum import StrEnum

from pydantic import ConfigDict
from sqlmodel import CheckConstraint, Column, Field, Index, SQLModel

from app.models.base import UTCDateTime, check_in, utcnow
from app.models.bounds import MAX_ROW_ID, OptionalPastDatetime, OptionalRowId, RowId
from app.models.fields import LongText, NoteText
from app.models.nomenclatures import CepSituation, Channel, Redirection, RequestMotive


class TriageStatus(StrEnum):
    PENDING = "pending"
    CASE_OPENED = "case_opened"
    REDIRECTED = "redirected"


class TriageRequest(SQLModel, table=True):
    __tablename__ = "triage_requests"
    __table_args__ = (
        check_in("status", TriageStatus, name="triage_status_known"),
        CheckConstraint(
            f"(status = '{TriageStatus.PENDING}') = (case_id IS NULL)",
            name="triage_resolved_has_case",
        ),
        Index("ix_triage_operator_status", "operator_id", "status", "received_at"),
        # The request behind a case, and when it came (the report's first contact).
        Index("ix_triage_case_received", "case_id", "received_at"),
        # Reports: the requests received in a period and their outcome, across operators.
        Index(
            "ix_triage_received_at",
            "received_at",
            postgresql_include=["operator_id", "status", "redirection"],
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    operator_id: int = Field(foreign_key="operators.id")
    beneficiary_id: int = Field(foreign_key="beneficiaries.id", index=True)
    site_id: int | None = Field(default=None, foreign_key="sites.id")
    assigned_to_id: int | None = Field(default=None, foreign_key="staff_users.id")
    received_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(UTCDateTime, nullable=False)
    )
    channel: str = Field(max_length=20)
    motive: str = Field(max_length=30)
    request_text: str = Field(default="", max_length=5000)
    first_advice: str = Field(default="", max_length=5000)
    cep_situation: str = Field(max_length=20)
    status: str = Field(default=TriageStatus.PENDING, max_length=12)
    redirection: str | None = Field(default=None, max_length=20)
    redirect_reason: str = Field(default="", max_length=1000)
    # The case that records this triage as a UO0 episode (closed at once after a redirection).
    case_id: int | None = Field(default=None, foreign_key="cases.id")
    handled_by_id: int | None = Field(default=None, foreign_key="staff_users.id")
    handled_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime))


class TriageCreate(SQLModel):
    # Empty when the person is new: their details then come with the request.
    beneficiary_id: OptionalRowId = None
    channel: Channel
    motive: RequestMotive
    cep_situation: CepSituation = CepSituation.PRIVATE_WORKER
    request_text: LongText = ""
    first_advice: LongText = ""
    received_at: OptionalPastDatetime = None
    site_id: OptionalRowId = None
    assigned_to_id: OptionalRowId = None


def _names_the_person(schema: dict) -> None:
    schema["required"] = [*schema.get("required", []), "beneficiary_id"]
    schema["properties"]["beneficiary_id"] = {
        "type": "integer",
        "minimum": 1,
        "maximum": MAX_ROW_ID,
        "description": "La personne, enregistrée au préalable",
    }


class TriageOfKnownPerson(TriageCreate):
    """A request through the API, which names a person recorded beforehand: the document
    says the id is required (the service's own message says so when it is missing)."""

    model_config = ConfigDict(json_schema_extra=_names_the_person)


class TriageOpenCase(SQLModel):
    referent_id: RowId
    site_id: OptionalRowId = None
    first_advice: LongText = ""


class TriageRedirect(SQLModel):
    redirection: Redirection
    reason: NoteText = ""  # becomes the case's close note
    first_advice: LongText = ""


class TriagePublic(SQLModel):
    id: int
    beneficiary_id: int
    received_at: datetime
    channel: str
    motive: str
    request_text: str
    first_advice: str
    cep_situation: str
    status: str
    redirection: str | None
    case_id: int | None
