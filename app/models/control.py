"""Control campaigns: a random sample of delivered units, drawn with a recorded seed, and the
ZIP proof pack built for it in the background. France compétences' controllers open official
campaigns on an operator; an operator's own draws are self-checks (« auto-contrôles »)."""

from datetime import date, datetime
from decimal import Decimal
from typing import Annotated

import pydantic
from pydantic import AliasChoices, ValidationInfo, field_validator
from sqlmodel import (
    BigInteger,
    CheckConstraint,
    Column,
    Field,
    Numeric,
    SQLModel,
    Text,
    UniqueConstraint,
)

from app.models.base import UTCDateTime, check_in, utcnow
from app.models.bounds import Day, OptionalDay, RowId
from app.models.fields import (
    AnyNumber,
    Flag,
    SingleLine,
    WholeNumber,
    blank_to_none,
    stripped_text,
    text,
)
from app.models.nomenclatures import LabelledEnum

MAX_SEED = 2**31 - 1
MAX_SAMPLE = 100_000
MAX_PUBLIC_VALUE = 200
MAX_FINDING_TEXT = 1000
MAX_ANSWER = 4000


class CampaignKind(LabelledEnum):
    OFFICIAL = "official", "Contrôle France compétences"
    SELF_CHECK = "self_check", "Auto-contrôle"


class PackStatus(LabelledEnum):
    QUEUED = "queued", "En attente"
    BUILDING = "building", "En préparation"
    READY = "ready", "Prêt"
    FAILED = "failed", "Échec"


class CampaignPhase(LabelledEnum):
    """Where an official campaign stands on the operator's side (a self-check stays open)."""

    OPEN = "open", "Ouvert"
    SUBMITTED = "submitted", "Soumis"
    CLOSED = "closed", "Clos"


class CampaignEventKind(LabelledEnum):
    OPENED = "opened", "Contrôle ouvert"
    DRAWN = "drawn", "Échantillon tiré"
    PROOF_ADDED = "proof_added", "Preuve ajoutée"
    SUBMITTED = "submitted", "Dossier soumis"
    REVIEWED = "reviewed", "Unité contrôlée"
    ANSWERED = "answered", "Réponse de l'opérateur"
    CLOSED = "closed", "Contrôle clos"


class Verdict(LabelledEnum):
    CONFORM = "conform", "Conforme"
    NON_CONFORM = "non_conform", "Non conforme"


class FindingReason(LabelledEnum):
    """Why a unit is not conform: the controller's list (« autre » asks for a text)."""

    MISSING_PROOF = "missing_proof", "Preuve manquante"
    LATE_PROOF = "late_proof", "Preuve postérieure à la fin de l'unité"
    NOT_DELIVERED = "not_delivered", "Unité non réalisée"
    DUPLICATE = "duplicate", "Doublon"
    OTHER = "other", "Autre"


class ControlCampaign(SQLModel, table=True):
    __tablename__ = "control_campaigns"
    __table_args__ = (
        check_in("status", PackStatus, name="campaign_status_known"),
        check_in("kind", CampaignKind, name="campaign_kind_known"),
        # An official campaign's seed is derived from a value the controller typed (README).
        CheckConstraint(
            "kind <> 'official' OR public_value IS NOT NULL", name="campaign_official_seeded"
        ),
        CheckConstraint(
            "(sample_size IS NULL) <> (sample_rate IS NULL)", name="campaign_size_or_rate"
        ),
        CheckConstraint("period_end >= period_start", name="campaign_period_ordered"),
        check_in("phase", CampaignPhase, name="campaign_phase_known"),
        CheckConstraint("kind <> 'official' OR deadline IS NOT NULL", name="campaign_deadline"),
        # A campaign closes submitted, or unsubmitted once its deadline passed.
        CheckConstraint(
            "phase = 'closed' OR (phase = 'submitted') = (submitted_at IS NOT NULL)",
            name="campaign_submitted_when",
        ),
        CheckConstraint(
            "(phase = 'closed') = (closed_at IS NOT NULL)", name="campaign_closed_when"
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    operator_id: int = Field(foreign_key="operators.id", index=True)
    kind: str = Field(
        default=CampaignKind.SELF_CHECK.value,
        max_length=12,
        sa_column_kwargs={"server_default": CampaignKind.SELF_CHECK.value},
    )
    # Who drew it: the controller who opened an official campaign, or the operator's staff.
    created_by_id: int | None = Field(default=None, foreign_key="staff_users.id", index=True)
    created_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(UTCDateTime, nullable=False)
    )
    period_start: date
    period_end: date
    # What was asked: a number of units, or a share of them (percent).
    sample_size: int | None = None
    sample_rate: float | None = None
    seed: int
    # The value the controller typed (say a public draw's result), hashed with `created_at`
    # into the seed of an official campaign; empty for a self-check.
    public_value: str | None = Field(default=None, max_length=MAX_PUBLIC_VALUE)
    pseudonymise: bool = False
    # What was drawn: the units the ledger bills for the period (`billable_units`), how many.
    population: int = 0
    # The ids of those units, ascending, space-separated: with the seed, all a third party
    # needs to draw the sample again (README, « Refaire un tirage »). Empty before 2026-12.
    population_ids: str | None = Field(default=None, sa_column=Column(Text))
    drawn: int = 0
    status: str = Field(default=PackStatus.QUEUED.value, max_length=10)
    cases_total: int = 0
    cases_done: int = 0
    # A builder owns the campaign in "building" until then; past it, another may start over.
    lease_until: datetime | None = Field(default=None, sa_column=Column(UTCDateTime))
    pack_key: str | None = Field(default=None, max_length=100)
    pack_sha256: str | None = Field(default=None, max_length=64)
    pack_size: int | None = Field(default=None, sa_column=Column(BigInteger))
    error: str = Field(default="", max_length=1000)
    finished_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime))
    # An official campaign's last day for the operator to add proofs and submit, inclusive, in
    # the operator's time zone; then its submission, which freezes the sample and the pack.
    deadline: date | None = None
    phase: str = Field(
        default=CampaignPhase.OPEN.value,
        max_length=10,
        sa_column_kwargs={"server_default": CampaignPhase.OPEN.value},
    )
    submitted_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime))
    submitted_by_id: int | None = Field(default=None, foreign_key="staff_users.id")
    # The controller's closing, once every drawn unit was reviewed: nothing changes after it.
    closed_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime))
    closed_by_id: int | None = Field(default=None, foreign_key="staff_users.id")

    @property
    def submitted(self) -> bool:
        """Submitted by the operator (and perhaps closed since)."""
        return self.submitted_at is not None

    @property
    def closed(self) -> bool:
        return self.phase == CampaignPhase.CLOSED

    @property
    def phase_label(self) -> str:
        return CampaignPhase(self.phase).label

    @property
    def status_label(self) -> str:
        return PackStatus(self.status).label

    @property
    def kind_label(self) -> str:
        return CampaignKind(self.kind).label

    @property
    def official(self) -> bool:
        return self.kind == CampaignKind.OFFICIAL

    @property
    def progress(self) -> float:
        """Share of the sampled cases already packed, 0..1."""
        if self.status == PackStatus.READY:
            return 1.0
        return self.cases_done / self.cases_total if self.cases_total else 0.0


class ControlSampleUnit(SQLModel, table=True):
    """One drawn unit (an episode), in the order of the draw."""

    __tablename__ = "control_sample_units"
    __table_args__ = (UniqueConstraint("campaign_id", "episode_id"),)

    id: int | None = Field(default=None, primary_key=True)
    # The unique constraint's index, campaign first, serves the reads by campaign.
    campaign_id: int = Field(foreign_key="control_campaigns.id")
    episode_id: int = Field(foreign_key="episodes.id")
    position: int


class ControlCampaignEvent(SQLModel, table=True):
    """One step of an official campaign's history. Written once by the services and never
    changed: there is no update path, and on both engines a trigger refuses UPDATE and DELETE."""

    __tablename__ = "control_campaign_events"
    __table_args__ = (
        check_in("kind", CampaignEventKind, name="campaign_event_kind_known"),
        # One « proof added » per unit and kind of deliverable (NULLs differ: the other steps).
        UniqueConstraint("campaign_id", "episode_id", "deliverable_kind_id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    # The unique constraint's index, campaign first, serves the reads by campaign.
    campaign_id: int = Field(foreign_key="control_campaigns.id")
    kind: str = Field(max_length=16)
    at: datetime = Field(sa_column=Column(UTCDateTime, nullable=False))
    # Staff who took the step: the controller, or the operator's staff (none: the system).
    author_id: int | None = Field(default=None, foreign_key="staff_users.id")
    # A proof's unit and the kind of deliverable that completed it.
    episode_id: int | None = Field(default=None, foreign_key="episodes.id")
    deliverable_kind_id: int | None = Field(default=None, foreign_key="deliverable_kinds.id")
    detail: str = Field(default="", max_length=300)

    @property
    def kind_label(self) -> str:
        return CampaignEventKind(self.kind).label


class ControlFinding(SQLModel, table=True):
    """The controller's verdict on one sampled unit, revised until the operator answered it or
    the campaign closed; each verdict and answer is also an event of the history."""

    __tablename__ = "control_findings"
    __table_args__ = (
        UniqueConstraint("campaign_id", "episode_id"),
        check_in("verdict", Verdict, name="finding_verdict_known"),
        check_in("reason", FindingReason, name="finding_reason_known", nullable=True),
        CheckConstraint(
            "(verdict = 'non_conform') = (reason IS NOT NULL)", name="finding_reason_when"
        ),
        CheckConstraint(
            "reason IS NULL OR reason <> 'other' OR reason_text <> ''", name="finding_other_said"
        ),
        CheckConstraint("(answer IS NULL) = (answered_at IS NULL)", name="finding_answered_when"),
        CheckConstraint(
            "answer IS NULL OR verdict = 'non_conform'", name="finding_answer_non_conform"
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    # The unique constraint's index, campaign first, serves the reads by campaign.
    campaign_id: int = Field(foreign_key="control_campaigns.id")
    episode_id: int = Field(foreign_key="episodes.id", index=True)
    verdict: str = Field(max_length=12)
    reason: str | None = Field(default=None, max_length=16)
    reason_text: str = Field(default="", max_length=MAX_FINDING_TEXT)
    comment: str = Field(default="", max_length=MAX_FINDING_TEXT)
    # The unit's price as the ledger counts it (its lot's, in force at its start); none: unpriced.
    amount: Decimal | None = Field(default=None, sa_column=Column(Numeric(12, 2)))
    reviewed_at: datetime = Field(sa_column=Column(UTCDateTime, nullable=False))
    reviewed_by_id: int = Field(foreign_key="staff_users.id")
    # The operator's one answer to a non-conform finding (« contradictoire »).
    answer: str | None = Field(default=None, sa_column=Column(Text))
    answered_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime))
    answered_by_id: int | None = Field(default=None, foreign_key="staff_users.id")

    @property
    def conform(self) -> bool:
        return self.verdict == Verdict.CONFORM

    @property
    def verdict_label(self) -> str:
        return Verdict(self.verdict).label

    @property
    def reason_label(self) -> str:
        """The reason as read: the list's label, or the text typed for « autre »."""
        if self.reason is None:
            return ""
        if self.reason == FindingReason.OTHER:
            return self.reason_text
        return FindingReason(self.reason).label


FindingText = text(MAX_FINDING_TEXT)
# What the document says of a verdict: a reason from the list when not conform, and with
# « autre » a text too; the reason and its text are dropped when conform.
_REASON_WHEN_NOT_CONFORM = {
    "anyOf": [
        {"properties": {"verdict": {"const": Verdict.CONFORM.value}}},
        {
            "required": ["reason"],
            "properties": {
                "verdict": {"const": Verdict.NON_CONFORM.value},
                "reason": {"enum": [r.value for r in FindingReason if r != FindingReason.OTHER]},
            },
        },
        {
            "required": ["reason", "reason_text"],
            "properties": {
                "verdict": {"const": Verdict.NON_CONFORM.value},
                "reason": {"const": FindingReason.OTHER.value},
                "reason_text": stripped_text(1, MAX_FINDING_TEXT).json_schema,
            },
        },
    ]
}


class UnitReview(SQLModel):
    """The controller's verdict on a unit, as the form or the API sends it: a reason from the
    list when not conform (a text with « autre »), none when conform."""

    verdict: Verdict
    reason: Annotated[
        FindingReason | None, pydantic.Field(validate_default=True), blank_to_none
    ] = None
    reason_text: Annotated[FindingText, pydantic.Field(validate_default=True)] = ""
    comment: FindingText = ""

    model_config = pydantic.ConfigDict(json_schema_extra=_REASON_WHEN_NOT_CONFORM)

    @field_validator("reason")
    @classmethod
    def _reason_if_not_conform(cls, value, info: ValidationInfo):
        verdict = info.data.get("verdict")
        if verdict == Verdict.CONFORM:
            return None
        if verdict is not None and value is None:
            raise ValueError("Choisissez le motif de la non-conformité")
        return value

    @field_validator("reason_text")
    @classmethod
    def _text_if_other(cls, value: str, info: ValidationInfo) -> str:
        if info.data.get("reason") != FindingReason.OTHER:
            return ""
        if not value:
            raise ValueError("Précisez le motif « autre »")
        return value


class FindingAnswer(SQLModel):
    """The operator's answer to a non-conform finding."""

    answer: text(MAX_ANSWER, min_length=1)


Seed = Annotated[int | None, Field(ge=0, le=MAX_SEED), WholeNumber, blank_to_none]
# What the document says of the size and the rate: exactly one of them is a number.
_SIZE_OR_RATE = {
    "oneOf": [
        {"required": ["sample_size"], "properties": {"sample_size": {"type": "integer"}}},
        {"required": ["sample_rate"], "properties": {"sample_rate": {"type": "number"}}},
    ]
}


class _DrawRequest(SQLModel):
    """What every draw asks: a period, and a number of units or a rate in percent.

    The API sends `from`/`to`, the page's form `du`/`au`."""

    period_start: Day = Field(validation_alias=AliasChoices("from", "du", "period_start"))
    period_end: Day = Field(validation_alias=AliasChoices("to", "au", "period_end"))
    sample_size: Annotated[int | None, Field(ge=1, le=MAX_SAMPLE), WholeNumber, blank_to_none] = (
        None
    )
    # Checked even when absent: exactly one of the size and the rate must be given.
    sample_rate: Annotated[
        float | None,
        pydantic.Field(gt=0, le=100, validate_default=True),
        AnyNumber,
        blank_to_none,
    ] = None

    model_config = pydantic.ConfigDict(json_schema_extra=_SIZE_OR_RATE)

    @field_validator("period_end")
    @classmethod
    def _not_before_start(cls, value: date, info: ValidationInfo) -> date:
        start = info.data.get("period_start")
        if start and value < start:
            raise ValueError("La fin de la période précède son début")
        return value

    @field_validator("sample_rate")
    @classmethod
    def _size_or_rate(cls, value: float | None, info: ValidationInfo) -> float | None:
        if "sample_size" not in info.data:
            return value  # the size itself is invalid: its own message says so
        if (info.data["sample_size"] is None) == (value is None):
            raise ValueError("Indiquez soit un nombre d'unités, soit un taux, pas les deux")
        return value


class CampaignCreate(_DrawRequest):
    """An operator's self-check: a period, a number of units or a rate, an optional seed."""

    seed: Seed = None
    pseudonymise: Flag = False


class OfficialCampaignCreate(_DrawRequest):
    """A controller's official campaign on an operator. No seed: it is derived from the
    opening's time and the public value (README, « Refaire un tirage »)."""

    operator_id: RowId
    public_value: SingleLine
    pseudonymise: Flag = False
    # Empty: 30 days after the opening.
    deadline: OptionalDay = Field(
        default=None, validation_alias=AliasChoices("echeance", "deadline")
    )


class CampaignPublic(SQLModel):
    """A campaign as the API shows it to the controller who opened it or to its operator."""

    id: int
    operator_id: int
    kind: CampaignKind
    status: PackStatus = Field(description="Where its proof pack stands")
    progress: float = Field(description="Share of the sampled cases already packed, 0 to 1")
    period_start: date
    period_end: date
    sample_size: int | None
    sample_rate: float | None
    seed: int
    # Official campaigns only: what the seed was derived from (README, « Refaire un tirage »).
    public_value: str | None
    seed_basis: str | None = Field(
        default=None, description="The text whose SHA-256 gave an official campaign's seed"
    )
    pseudonymise: bool
    population: int = Field(description="How many units the sample was drawn from")
    drawn: int = Field(description="How many units were drawn")
    cases_total: int
    cases_done: int
    pack_sha256: str | None
    pack_size: int | None
    created_at: datetime
    finished_at: datetime | None
    deadline: date | None = Field(
        description="An official campaign's last day for proofs and submission, inclusive, "
        "in the operator's time zone"
    )
    phase: CampaignPhase
    submitted_at: datetime | None


class DrawnUnits(SQLModel):
    """The units drawn, by id, in the order of the draw (the first has the smallest rank)."""

    seed: int
    unit_ids: list[int]


class CampaignPopulation(SQLModel):
    """The units the sample was drawn from, by id, ascending: with the seed, all a re-draw
    needs. `unit_ids` is null for a campaign drawn before they were kept."""

    population: int
    unit_ids: list[int] | None


class CampaignEventPublic(SQLModel):
    """One step of an official campaign's history, as recorded and never changed."""

    kind: CampaignEventKind
    label: str
    at: datetime
    author: str | None = Field(description="Who took the step; null for the system")
    unit_id: int | None = Field(description="The unit of a proof added")
    case_reference: str | None
    detail: str


class FindingPublic(SQLModel):
    """The controller's verdict on one sampled unit, and the operator's answer if any."""

    unit_id: int = Field(description="The sampled unit judged")
    verdict: Verdict
    reason: FindingReason | None = Field(description="Why not conform; null when conform")
    reason_label: str = Field(description="The reason as read: its label, or the text of `other`")
    comment: str
    amount: Decimal | None = Field(
        description="The unit's price as the ledger counts it; null when its lot has none"
    )
    reviewed_at: datetime
    answer: str | None = Field(description="The operator's one answer to a non-conform finding")
    answered_at: datetime | None


class ReviewSummaryPublic(SQLModel):
    """Where the review of an official campaign stands, amounts at the market's prices."""

    phase: CampaignPhase
    drawn: int
    reviewed: int
    conform: int
    non_conform: int
    conformity_rate: float | None = Field(
        description="Conform units over the reviewed ones, 0 to 1; null before any review"
    )
    non_conform_amount: Decimal
    sample_amount: Decimal = Field(description="The drawn units' prices, unpriced ones aside")
    unpriced: int = Field(description="Drawn units whose lot has no price")
