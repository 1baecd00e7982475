"""The catalogue of units of work (unités d'œuvre): data, not code — it changes with each market."""

from sqlmodel import Field, SQLModel


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
