"""What a person agreed to (contact by e-mail or SMS, surveys, sharing with a partner), each
agreement and each withdrawal one row: the history is kept, never overwritten."""

from datetime import datetime
from typing import Annotated, Literal

from pydantic import AfterValidator
from sqlmodel import Column, Field, Index, SQLModel

from app.models.base import UTCDateTime, check_in, utcnow
from app.models.bounds import OptionalRowId
from app.models.nomenclatures import LabelledEnum


class ConsentPurpose(LabelledEnum):
    PROCESSING = "processing", "Suivi de son accompagnement"
    EMAIL = "email", "Contact par e-mail"
    SMS = "sms", "Contact par SMS"
    SURVEYS = "surveys", "Enquêtes de satisfaction"
    PARTNER_SHARE = "partner_share", "Partage avec un partenaire (orientation)"


class ConsentChannel(LabelledEnum):
    """How the agreement or the withdrawal reached the operator."""

    ONLINE_BOOKING = "online_booking", "Réservation en ligne"
    INTERVIEW = "interview", "Par le conseiller, en entretien"
    PHONE = "phone", "Par téléphone"
    WRITING = "writing", "Par écrit (e-mail, courrier)"
    SURVEY_LINK = "survey_link", "Lien de désinscription d'une enquête"
    SMS_STOP = "sms_stop", "Réponse « STOP » à un SMS"
    RIGHTS_REQUEST = "rights_request", "Demande d'exercice des droits"
    PERSONAL_SPACE = "personal_space", "Par la personne, dans son espace personnel"
    # Agreements recorded before these records existed (dates from the person's fields).
    EARLIER = "earlier", "Recueilli avant l'historique des consentements"


# The ways a counsellor collects an agreement or a withdrawal, as their forms offer them.
STAFF_CHANNELS = [
    (c.value, c.label)
    for c in (ConsentChannel.INTERVIEW, ConsentChannel.PHONE, ConsentChannel.WRITING)
]


class ConsentRecord(SQLModel, table=True):
    __tablename__ = "consent_records"
    __table_args__ = (
        check_in("purpose", ConsentPurpose, name="consent_purpose_known"),
        check_in("channel", ConsentChannel, name="consent_channel_known"),
        Index("ix_consent_records_person_purpose", "beneficiary_id", "purpose", "at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    operator_id: int = Field(foreign_key="operators.id", index=True)
    beneficiary_id: int = Field(foreign_key="beneficiaries.id")
    purpose: str = Field(max_length=20)
    # Only for PARTNER_SHARE: the agreement covers that partner and no other.
    partner_id: int | None = Field(default=None, foreign_key="partners.id")
    given: bool  # False: a withdrawal
    # The text the person was shown (app/services/privacy/consent_texts.py), code and version.
    text_code: str = Field(max_length=40)
    text_version: int
    channel: str = Field(max_length=20)
    at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime, nullable=False))
    # None when the person did it themselves (online booking, a survey's opt-out link).
    recorded_by_id: int | None = Field(default=None, foreign_key="staff_users.id")


def _collected_by_staff(value: ConsentChannel) -> ConsentChannel:
    if value.value not in dict(STAFF_CHANNELS):
        raise ValueError("Choisissez comment la personne vous l'a dit")
    return value


class ConsentEntry(SQLModel):
    """The person's page form: an agreement or a withdrawal the counsellor records."""

    purpose: ConsentPurpose
    decision: Literal["given", "withdrawn"]
    how: Annotated[ConsentChannel, AfterValidator(_collected_by_staff)] = ConsentChannel.INTERVIEW
    # For sharing with a partner only: which one.
    partner_id: OptionalRowId = None
