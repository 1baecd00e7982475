"""Operators (the tenants) and their sites (lieux d'accueil)."""

from datetime import datetime
from typing import Annotated

from pydantic import AfterValidator, BeforeValidator
from sqlmodel import Column, Field, SQLModel

from app.models.base import UTCDateTime, utcnow
from app.models.fields import OperatorCode, SingleLine
from app.models.nomenclatures import REGIONS_BY_INSEE


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
