"""Satisfaction at the end of each level and utility six months later (DESIGN §1).

A questionnaire is data: each operator has versions of three questionnaires, and an answer
keeps the version it answered. An invitation is one survey sent (or to send) to one person
about one episode; its response holds the answers. `satisfied` and `useful` are worked out
from the answers when they are submitted, so that reports count columns, not JSON."""

from datetime import datetime

from pydantic import BaseModel
from sqlmodel import JSON, Column, Field, Index, SQLModel, Text, UniqueConstraint

from app.models.base import UTCDateTime, check_in, utcnow
from app.models.nomenclatures import LabelledEnum


class SurveyKind(LabelledEnum):
    END_LEVEL_1 = "fin_niveau_1", "Fin de niveau 1"
    END_LEVEL_2 = "fin_niveau_2", "Fin de niveau 2"
    UTILITY = "utilite_6_mois", "Utilité à 6 mois"

    @classmethod
    def end_of_level(cls, level: int) -> "SurveyKind":
        return cls.END_LEVEL_1 if level == 1 else cls.END_LEVEL_2


class QuestionType(LabelledEnum):
    SCALE = "echelle", "Échelle (une réponse, de la meilleure à la moins bonne)"
    CHOICE = "choix", "Choix unique"
    MULTI = "choix_multiple", "Choix multiple"
    TEXT = "texte", "Texte libre"


class Measure(LabelledEnum):
    """What a question measures for the reports, if anything."""

    SATISFACTION = "satisfaction", "Satisfaction"
    UTILITY = "utilite", "Utilité"


class SurveyStatus(LabelledEnum):
    SCHEDULED = "programmee", "Programmée"
    SENT = "envoyee", "Envoyée"
    ANSWERED = "repondue", "Répondue"
    # No e-mail (and no SMS channel): the person cannot be asked.
    UNREACHABLE = "non_contactable", "Non contactable"
    OPTED_OUT = "desinscrite", "Désinscription"
    CANCELLED = "annulee", "Annulée"


class Option(BaseModel):
    value: str
    label: str


class Question(BaseModel):
    key: str
    type: QuestionType
    label: str
    help: str = ""
    required: bool = False
    options: list[Option] = []
    # The question that gives the report's figure, and the options that count as positive.
    measure: Measure | None = None
    positive: list[str] = []


class SurveyQuestionnaire(SQLModel, table=True):
    """One version of one questionnaire of one operator; a new edit is a new row."""

    __tablename__ = "survey_questionnaires"
    __table_args__ = (
        check_in("kind", SurveyKind, name="survey_questionnaire_kind_known"),
        UniqueConstraint("operator_id", "kind", "version"),
    )

    id: int | None = Field(default=None, primary_key=True)
    operator_id: int = Field(foreign_key="operators.id", index=True)
    kind: str = Field(max_length=20)
    version: int = Field(ge=1)
    title: str = Field(max_length=200)
    intro: str = Field(default="", max_length=2000)
    # [Question.model_dump()], in the order they are asked.
    questions: list[dict] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    created_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(UTCDateTime, nullable=False)
    )
    created_by_id: int | None = Field(default=None, foreign_key="staff_users.id")

    @property
    def kind_label(self) -> str:
        return SurveyKind(self.kind).label

    def parsed_questions(self) -> list[Question]:
        return [Question.model_validate(q) for q in self.questions]


class SurveyInvitation(SQLModel, table=True):
    """One survey about one episode, from scheduling to the answer."""

    __tablename__ = "survey_invitations"
    __table_args__ = (
        check_in("kind", SurveyKind, name="survey_invitation_kind_known"),
        check_in("status", SurveyStatus, name="survey_invitation_status_known"),
        # Never two surveys of a kind for one episode, even under concurrent requests.
        UniqueConstraint("kind", "episode_id"),
        Index("ix_survey_invitations_status_due_at", "status", "due_at"),
        Index("ix_survey_invitations_operator_sent_at", "operator_id", "sent_at"),
        # Covers what the national results count in a period, read from the index alone.
        Index(
            "ix_survey_invitations_sent_counted",
            "sent_at",
            "kind",
            "level",
            "status",
            "answered_at",
            "positive",
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    operator_id: int = Field(foreign_key="operators.id")
    case_id: int = Field(foreign_key="cases.id", index=True)
    beneficiary_id: int = Field(foreign_key="beneficiaries.id", index=True)
    # The episode whose end asks for it; for the utility survey, the case's last one so far.
    episode_id: int = Field(foreign_key="episodes.id")
    kind: str = Field(max_length=20)
    level: int = Field(ge=1, le=2)
    # Where and by whom the work was done, as it stood when the episode ended (for results).
    site_id: int | None = Field(default=None, foreign_key="sites.id")
    counsellor_id: int | None = Field(default=None, foreign_key="staff_users.id")
    status: str = Field(default=SurveyStatus.SCHEDULED.value, max_length=20)
    # When it is to be sent: the episode's end, or six months later for utility.
    due_at: datetime = Field(sa_column=Column(UTCDateTime, nullable=False))
    channel: str = Field(default="", max_length=10)
    # The version the link asks; fixed when it is sent.
    questionnaire_id: int | None = Field(default=None, foreign_key="survey_questionnaires.id")
    sent_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime))
    reminded_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime))
    answered_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime))
    # The link's nonce: forgotten once the answers are submitted (single use).
    link_nonce: str | None = Field(default=None, max_length=64)
    created_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(UTCDateTime, nullable=False)
    )
    # The answer's figure (satisfied at the end of a level, useful six months later), copied
    # from the response when it is submitted, so that the results count this table alone.
    positive: bool | None = None

    @property
    def kind_label(self) -> str:
        return SurveyKind(self.kind).label

    @property
    def status_label(self) -> str:
        return SurveyStatus(self.status).label


class SurveyResponse(SQLModel, table=True):
    """The answers to one invitation: saved as they are given, then submitted once."""

    __tablename__ = "survey_responses"
    __table_args__ = (
        # Covers what the results count, so that a national year reads the index alone.
        Index(
            "ix_survey_responses_invitation_counted",
            "invitation_id",
            "submitted_at",
            "satisfied",
            "useful",
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    operator_id: int = Field(foreign_key="operators.id", index=True)
    invitation_id: int = Field(foreign_key="survey_invitations.id", unique=True)
    questionnaire_id: int = Field(foreign_key="survey_questionnaires.id")
    # {question key: option value, [option values] or text}
    answers: dict = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    # The free comment, copied out for managers to read (escaped like any text).
    comment: str = Field(default="", sa_column=Column(Text, nullable=False))
    satisfied: bool | None = None
    useful: bool | None = None
    started_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(UTCDateTime, nullable=False)
    )
    updated_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(UTCDateTime, nullable=False)
    )
    submitted_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime))
