"""Deliverables (livrables) drafted from a case, their issued versions, and the action plan."""

from datetime import date, datetime
from enum import StrEnum
from typing import Literal

from sqlmodel import JSON, CheckConstraint, Column, Field, SQLModel, UniqueConstraint

from app.models.base import UTCDateTime, check_in, utcnow
from app.models.bounds import OptionalDay, OptionalRowId, RowId
from app.models.fields import LongText, text
from app.models.nomenclatures import LabelledEnum, StepOwner


class DeliverableStatus(StrEnum):
    DRAFT = "draft"  # being written; its next issue becomes version `version_count + 1`
    ISSUED = "issued"  # the latest version is issued and nothing changed since


class Deliverable(SQLModel, table=True):
    __tablename__ = "deliverables"
    __table_args__ = (check_in("status", DeliverableStatus, name="deliverable_status_known"),)

    id: int | None = Field(default=None, primary_key=True)
    operator_id: int = Field(foreign_key="operators.id", index=True)
    case_id: int = Field(foreign_key="cases.id", index=True)
    kind_id: int = Field(foreign_key="deliverable_kinds.id")
    # The episode this deliverable proves, when it proves one.
    episode_id: int | None = Field(default=None, foreign_key="episodes.id", index=True)
    title: str = Field(max_length=200)
    # [{"key": ..., "title": ..., "body": ...}, ...] in the order they are printed.
    sections: list[dict] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    includes_action_plan: bool = False
    status: str = Field(default=DeliverableStatus.DRAFT, max_length=10)
    version_count: int = 0
    created_by_id: int | None = Field(default=None, foreign_key="staff_users.id")
    created_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(UTCDateTime, nullable=False)
    )
    updated_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(UTCDateTime, nullable=False)
    )


class AcknowledgementMethod(LabelledEnum):
    """How the beneficiary acknowledged an issued version."""

    ONLINE = "online", "Accusé de lecture en ligne"
    SIGNED_SCAN = "signed_scan", "Exemplaire signé numérisé"


class DeliverableVersion(SQLModel, table=True):
    """An issued version: its content and PDF are frozen; only sharing and acknowledgement move."""

    __tablename__ = "deliverable_versions"
    __table_args__ = (
        UniqueConstraint("deliverable_id", "number"),
        # The document systems' feed reads an operator's versions in this order (issue 23).
        UniqueConstraint("operator_id", "feed_seq"),
        CheckConstraint(
            "(acknowledged_at IS NULL) = (acknowledgement_method IS NULL)",
            name="version_acknowledgement_has_method",
        ),
        CheckConstraint(
            "(handed_over_at IS NULL) = (handed_over_by_id IS NULL)",
            name="version_handed_over_by_whom",
        ),
        check_in(
            "acknowledgement_method",
            AcknowledgementMethod,
            name="version_acknowledgement_method_known",
            nullable=True,
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    operator_id: int = Field(foreign_key="operators.id", index=True)
    deliverable_id: int = Field(foreign_key="deliverables.id", index=True)
    number: int = Field(ge=1)
    # Everything printed: title, sections, action plan, names and dates at issue time.
    content: dict = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    storage_key: str = Field(max_length=100)
    sha256: str = Field(max_length=64)
    size_bytes: int
    issued_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(UTCDateTime, nullable=False)
    )
    issued_by_id: int | None = Field(default=None, foreign_key="staff_users.id")
    shared_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime))
    shared_message_id: int | None = Field(default=None, foreign_key="outbox_messages.id")
    # Carried by the e-mailed link; emptied when the counsellor revokes it, renewed when the
    # version is shared again. Links e-mailed before links carried one have none.
    link_nonce: str | None = Field(default=None, max_length=40)
    # The last revocation, kept after a new link is sent.
    link_revoked_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime))
    link_revoked_by_id: int | None = Field(default=None, foreign_key="staff_users.id")
    # « Remis en main propre »: the counsellor gave the printed version to the person.
    handed_over_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime))
    handed_over_by_id: int | None = Field(default=None, foreign_key="staff_users.id")
    acknowledged_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime))
    acknowledgement_method: str | None = Field(default=None, max_length=20)
    scan_attachment_id: int | None = Field(default=None, foreign_key="attachments.id")
    # « Supprimé »: the issued PDF was deleted from the storage when the person was anonymised;
    # the version stays (its number, SHA-256, dates) so that the ledger's proofs still count.
    file_deleted_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime))
    # The version's place in its operator's issue order, numbered 1, 2, 3… under a lock on the
    # operator's row (app/services/deliverables/feed_order.py): numbers commit in order, which
    # ids and issue times do not, so the feed never skips nor repeats one. Last column: the
    # generator writes rows in the models' order.
    feed_seq: int

    @property
    def handed_over(self) -> bool:
        """Remis: sent by e-mail, handed over in person, or acknowledged (which implies it)."""
        return (
            self.shared_at is not None
            or self.handed_over_at is not None
            or self.acknowledged_at is not None
        )

    @property
    def link_is_live(self) -> bool:
        """A link e-mailed to the beneficiary opens this version: shared, not revoked since."""
        if self.shared_at is None:
            return False
        return self.link_nonce is not None or self.link_revoked_at is None


class StepStatus(LabelledEnum):
    TODO = "todo", "À faire"
    IN_PROGRESS = "in_progress", "En cours"
    DONE = "done", "Fait"
    DROPPED = "dropped", "Abandonné"


class ActionStep(SQLModel, table=True):
    """One step of a case's action plan (plan d'action), updated during follow-up."""

    __tablename__ = "action_steps"
    __table_args__ = (
        check_in("owner", StepOwner, name="action_step_owner_known"),
        check_in("status", StepStatus, name="action_step_status_known"),
    )

    id: int | None = Field(default=None, primary_key=True)
    operator_id: int = Field(foreign_key="operators.id", index=True)
    case_id: int = Field(foreign_key="cases.id", index=True)
    position: int = 0
    description: str = Field(max_length=500)
    owner: str = Field(max_length=20)
    due_on: date | None = None
    status: str = Field(default=StepStatus.TODO.value, max_length=20)
    created_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(UTCDateTime, nullable=False)
    )
    updated_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(UTCDateTime, nullable=False)
    )


class ActionPlan(SQLModel, table=True):
    """What a case's action plan aims at; its steps are `ActionStep` rows of the same case.

    One row per case, written the first time the objective is; a plan without one has none."""

    __tablename__ = "action_plans"

    case_id: int = Field(foreign_key="cases.id", primary_key=True)
    operator_id: int = Field(foreign_key="operators.id", index=True)
    objective: str = Field(default="", max_length=1000)
    updated_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(UTCDateTime, nullable=False)
    )


# ---- input and output schemas -------------------------------------------------------------


# The whole column (500 characters) is usable; an empty step reads "obligatoire".
StepDescription = text(500, min_length=1)


# What the plan aims at: optional, the whole column (1,000 characters) usable.
PlanObjective = text(1000)


class DeliverableDraft(SQLModel):
    kind_id: RowId
    episode_id: OptionalRowId = None


class SectionEdit(SQLModel):
    body: LongText = ""


class ActionStepWrite(SQLModel):
    description: StepDescription
    owner: StepOwner
    due_on: OptionalDay = None
    status: StepStatus = StepStatus.TODO


class ActionPlanObjective(SQLModel):
    objective: PlanObjective = ""


class ActionStepMove(SQLModel):
    direction: Literal["up", "down"]


class ActionStepPublic(SQLModel):
    id: int
    case_id: int
    position: int
    description: str
    owner: str
    due_on: date | None
    status: str


class DeliverableVersionPublic(SQLModel):
    number: int
    sha256: str
    size_bytes: int
    issued_at: datetime
    shared_at: datetime | None
    # Handed over in person (« remis en main propre »): with `shared_at`, what « remis » means.
    handed_over_at: datetime | None = None
    acknowledged_at: datetime | None
    acknowledgement_method: str | None


class DeliverablePublic(SQLModel):
    id: int
    case_id: int
    kind_id: int
    kind_code: str
    episode_id: int | None
    title: str
    status: str
    sections: list[dict]
    version_count: int
    versions: list[DeliverableVersionPublic] = []
