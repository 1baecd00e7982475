"""Operators (the tenants) and their sites (lieux d'accueil)."""

from datetime import datetime
from typing import Annotated

from pydantic import AfterValidator, BeforeValidator
from sqlalchemy import false, true
from sqlmodel import Column, Field, SQLModel

from app.models.base import UTCDateTime, utcnow
from app.models.fields import OperatorCode, SingleLine
from app.models.nomenclatures import REGIONS_BY_INSEE, Role


class Operator(SQLModel, table=True):
    __tablename__ = "operators"

    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(max_length=8, unique=True, index=True)
    name: str = Field(max_length=120)
    region_code: str = Field(max_length=3)
    time_zone: str = Field(max_length=40, default="Europe/Paris")
    created_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(UTCDateTime, nullable=False)
    )
    # Which of the operator's roles must sign in with a second factor (« Sécurité »); by
    # default its administrators and managers, who see and change the most.
    two_factor_counsellors: bool = Field(
        default=False, sa_column_kwargs={"server_default": false()}
    )
    two_factor_managers: bool = Field(default=True, sa_column_kwargs={"server_default": true()})
    two_factor_admins: bool = Field(default=True, sa_column_kwargs={"server_default": true()})

    @property
    def two_factor_roles(self) -> frozenset[Role]:
        """The roles whose staff must sign in with a second factor."""
        flags = {
            Role.COUNSELLOR: self.two_factor_counsellors,
            Role.MANAGER: self.two_factor_managers,
            Role.OPERATOR_ADMIN: self.two_factor_admins,
        }
        return frozenset(role for role, required in flags.items() if required)


class OperatorSecurity(SQLModel):
    """The « Sécurité » form: the roles that must sign in with a second factor."""

    two_factor_counsellors: bool = False
    two_factor_managers: bool = False
    two_factor_admins: bool = False


class Site(SQLModel, table=True):
    __tablename__ = "sites"

    id: int | None = Field(default=None, primary_key=True)
    operator_id: int = Field(foreign_key="operators.id", index=True)
    name: str = Field(max_length=120)
    address: str = Field(default="", max_length=200)
    postcode: str = Field(max_length=5)
    city: str = Field(max_length=80)
    time_zone: str = Field(max_length=40, default="Europe/Paris")
    accessibility: str = Field(default="", max_length=500)
    opening_hours: str = Field(default="", max_length=500)
    active: bool = True


def _known_region(value: str) -> str:
    if value not in REGIONS_BY_INSEE:
        raise ValueError("Choisissez une région de la liste")
    return value


RegionCode = Annotated[str, AfterValidator(_known_region)]


class OperatorCreate(SQLModel):
    """The « Nouvel opérateur » form of the system administrators."""

    code: Annotated[OperatorCode, BeforeValidator(lambda value: str(value).strip().upper())]
    name: SingleLine
    region_code: RegionCode
