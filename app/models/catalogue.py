"""The catalogue of units of work (unités d'œuvre) and the deliverables that prove them:
data, not code — both change with each market."""

from typing import Annotated

from pydantic import AfterValidator, StringConstraints
from sqlmodel import Field, SQLModel, UniqueConstraint

from app.models.bounds import OptionalRowId
from app.models.fields import SingleLine, refuse_nul


class ServiceUnit(SQLModel, table=True):
    __tablename__ = "service_units"

    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(max_length=10, unique=True)
    label: str = Field(max_length=200)
    level: int = Field(ge=0, le=2)
    billable: bool = True
    position: int = 0
    active: bool = True
    # Set on the unit that triage episodes are recorded under.
    is_triage: bool = False


class ServiceUnitPublic(SQLModel):
    id: int
    code: str
    label: str
    level: int
    billable: bool


class DeliverableKindBase(SQLModel):
    """What a kind of deliverable contains; the draft is pre-filled from these parts."""

    label: str = Field(max_length=200)
    includes_request: bool = False
    includes_interactions: bool = False
    includes_referrals: bool = False
    includes_action_plan: bool = False
    # Further section titles, one per line, left for the counsellor to write.
    extra_sections: str = Field(default="", max_length=2000)
    active: bool = True


class DeliverableKind(DeliverableKindBase, table=True):
    """A kind of deliverable (livrable), defined by each operator."""

    __tablename__ = "deliverable_kinds"
    __table_args__ = (UniqueConstraint("operator_id", "code"),)

    id: int | None = Field(default=None, primary_key=True)
    operator_id: int = Field(foreign_key="operators.id", index=True)
    code: str = Field(max_length=40)
    position: int = 0

    @property
    def extra_section_titles(self) -> list[str]:
        return [line.strip() for line in self.extra_sections.splitlines() if line.strip()]


class UnitProofRequirement(SQLModel, table=True):
    """An operator requires deliverables of this kind to prove an episode of this unit."""

    __tablename__ = "unit_proof_requirements"
    __table_args__ = (UniqueConstraint("kind_id", "unit_id"),)

    id: int | None = Field(default=None, primary_key=True)
    operator_id: int = Field(foreign_key="operators.id", index=True)
    kind_id: int = Field(foreign_key="deliverable_kinds.id")
    unit_id: int = Field(foreign_key="service_units.id")


def _tidy_sections(value: str) -> str:
    """One title per line: blank lines and stray spaces are dropped."""
    return "\n".join(line.strip() for line in value.splitlines() if line.strip())


# It becomes the title of each document of the kind, and the subject of the e-mail sharing it.
KindLabel = SingleLine
SectionTitles = Annotated[
    str,
    StringConstraints(max_length=2000),
    AfterValidator(refuse_nul),
    AfterValidator(_tidy_sections),
]


class DeliverableKindEdit(SQLModel):
    """The admin form: label, parts, extra sections and the units the kind proves."""

    label: KindLabel
    includes_request: bool = False
    includes_interactions: bool = False
    includes_referrals: bool = False
    includes_action_plan: bool = False
    extra_sections: SectionTitles = ""
    active: bool = True
    # The units that require this kind: the submitted list replaces the current one.
    unit_ids: list[OptionalRowId] = []


class DeliverableKindPublic(DeliverableKindBase):
    id: int
    code: str
    unit_codes: list[str] = []
