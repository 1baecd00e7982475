"""Beneficiaries: identity, contact, consent and the reporting profile (DESIGN §3)."""

from datetime import datetime
from typing import Annotated

from sqlmodel import Column, Field, Index, SQLModel

from app.models.base import UTCDateTime, utcnow
from app.models.fields import (
    Email,
    Flag,
    OptionalBirthYear,
    OptionalPhone,
    OptionalPostcode,
    PersonName,
    blank_to_none,
)
from app.models.nomenclatures import (
    CompanySize,
    DiplomaLevel,
    EmploymentStatus,
    NafSection,
    Pcs,
    Rqth,
    Sex,
)

OptionalEmail = Annotated[Email | None, blank_to_none]


class BeneficiaryBackground(SQLModel):
    """The reporting profile but for the RQTH, which lists never show (least privilege)."""

    sex: Sex = Sex.UNKNOWN
    birth_year: OptionalBirthYear = None
    employment_status: Annotated[EmploymentStatus | None, blank_to_none] = None
    pcs: Annotated[Pcs | None, blank_to_none] = None
    naf_section: Annotated[NafSection | None, blank_to_none] = None
    company_size: CompanySize = CompanySize.UNKNOWN
    diploma_level: Annotated[DiplomaLevel | None, blank_to_none] = None


class BeneficiaryProfile(BeneficiaryBackground):
    """The reporting profile, shared by the table and the input schemas."""

    rqth: Rqth = Rqth.UNKNOWN


class BeneficiaryIdentity(SQLModel):
    first_name: PersonName
    last_name: PersonName
    email: OptionalEmail = None
    phone: OptionalPhone = None
    postcode: OptionalPostcode = None
    consent: Flag = False
    # Agrees to be asked for their opinion (satisfaction and utility surveys).
    survey_consent: Flag = False


class BeneficiaryCreate(BeneficiaryIdentity, BeneficiaryProfile):
    pass


class BeneficiaryUpdate(BeneficiaryIdentity, BeneficiaryProfile):
    pass


class Beneficiary(SQLModel, table=True):
    __tablename__ = "beneficiaries"
    __table_args__ = (
        Index("ix_beneficiaries_operator_email", "operator_id", "email"),
        Index("ix_beneficiaries_operator_phone", "operator_id", "phone"),
    )

    id: int | None = Field(default=None, primary_key=True)
    operator_id: int = Field(foreign_key="operators.id", index=True)
    first_name: str = Field(max_length=80)
    last_name: str = Field(max_length=80)
    email: str | None = Field(default=None, max_length=254)
    phone: str | None = Field(default=None, max_length=20)
    postcode: str | None = Field(default=None, max_length=5)
    consent_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime))
    # Agreed to be asked for their opinion (satisfaction and utility surveys); an opt-out
    # link clears it and records when.
    survey_consent_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime))
    survey_opt_out_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime))
    # Answered « STOP » to one of our SMS (the gateway told us): no SMS goes to them since.
    sms_opt_out_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime))
    sex: str = Field(default=Sex.UNKNOWN, max_length=2)
    birth_year: int | None = None
    employment_status: str | None = Field(default=None, max_length=30)
    pcs: str | None = Field(default=None, max_length=1)
    naf_section: str | None = Field(default=None, max_length=1)
    company_size: str = Field(default=CompanySize.UNKNOWN, max_length=20)
    diploma_level: str | None = Field(default=None, max_length=1)
    rqth: str = Field(default=Rqth.UNKNOWN, max_length=3)
    # Set when the retention job (or an erasure) anonymised the person: identity, contact
    # details and free text are gone, the reporting profile stays (app/services/privacy).
    anonymised_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime))
    # Accent- and case-free copy of name, e-mail and phone for search on any engine.
    search_text: str = Field(default="", max_length=600)
    created_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(UTCDateTime, nullable=False)
    )
    updated_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(UTCDateTime, nullable=False)
    )

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name.upper()}"

    @property
    def may_be_surveyed(self) -> bool:
        """Agreed to be asked for their opinion and did not opt out since (an agreement given
        again after an opt-out counts)."""
        agreed, opted_out = self.survey_consent_at, self.survey_opt_out_at
        return agreed is not None and (opted_out is None or opted_out < agreed)


class BeneficiaryListed(BeneficiaryBackground):
    """A person in a list (the API's list and search): their disability recognition (RQTH)
    is only on their own record, read one at a time and audited."""

    id: int
    first_name: str
    last_name: str
    email: str | None
    phone: str | None
    postcode: str | None
    consent_at: datetime | None
    survey_consent_at: datetime | None
    survey_opt_out_at: datetime | None
    created_at: datetime


class BeneficiaryPublic(BeneficiaryListed):
    """A person's own record, RQTH included."""

    rqth: Rqth = Rqth.UNKNOWN
