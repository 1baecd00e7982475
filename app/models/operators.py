"""Operators (the tenants), their sites (lieux d'accueil), the permanences each site holds in
partners' premises, and the record of every change made to a site."""

from datetime import date, datetime, time
from typing import Annotated

from pydantic import AfterValidator, BeforeValidator, ValidationInfo, field_validator
from sqlalchemy import false, true
from sqlmodel import CheckConstraint, Column, Field, SQLModel

from app.models.base import UTCDateTime, check_in, utcnow
from app.models.bounds import Day, OptionalDay, OptionalRowId
from app.models.fields import (
    Email,
    OperatorCode,
    OptionalPhone,
    Postcode,
    SingleLine,
    WholeNumber,
    blank_to_none,
    text,
)
from app.models.nomenclatures import REGIONS_BY_INSEE, LabelledEnum, Role

RETENTION_DEFAULT, RETENTION_MIN, RETENTION_MAX = 24, 6, 60
OptionalEmail = Annotated[Email | None, blank_to_none]


class Operator(SQLModel, table=True):
    __tablename__ = "operators"
    __table_args__ = (
        CheckConstraint(
            f"retention_months BETWEEN {RETENTION_MIN} AND {RETENTION_MAX}",
            name="operator_retention_range",
        ),
    )

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
    # « Durée de conservation »: months after the last contact of a person whose cases are all
    # closed before the retention job anonymises them (app/services/privacy/retention.py). The
    # CNIL's guidance for social and employment support gives two years; 6 to 60 allowed.
    retention_months: int = Field(
        default=RETENTION_DEFAULT, sa_column_kwargs={"server_default": str(RETENTION_DEFAULT)}
    )
    # The operator's local day the retention job last ran: it runs once a day, not every pass.
    retention_run_on: date | None = None
    # « Motif demandé pour consulter un dossier hors de son portefeuille »: staff reading a
    # person's file that is not theirs first say why (app/services/audit/outside_reads.py).
    reason_for_outside_reads: bool = Field(
        default=True, sa_column_kwargs={"server_default": true()}
    )
    # « Protection des données »: the controller and its data protection officer, as the
    # « Mentions d'information » and the record of processing activities name them.
    legal_name: str = Field(default="", max_length=200, sa_column_kwargs={"server_default": ""})
    postal_address: str = Field(default="", max_length=300, sa_column_kwargs={"server_default": ""})
    dpo_email: str = Field(default="", max_length=254, sa_column_kwargs={"server_default": ""})
    dpo_address: str = Field(default="", max_length=300, sa_column_kwargs={"server_default": ""})
    # The logo public pages show beside the operator's name: a storage key (app/core/storage.py)
    # of a PNG re-encoded on upload (app/services/admin/operator_identity.py); None: no logo.
    logo_key: str | None = Field(default=None, max_length=64)
    # « Délai pour accepter une place libérée »: hours a person of the waiting list has to
    # accept the slot offered before it goes to the next (app/models/waiting_list.py).
    waiting_offer_hours: int = Field(default=2, sa_column_kwargs={"server_default": "2"})
    # « Noms des personnes dans les noms de fichiers »: documents taken out (a case's file, a
    # period's archive, the feed) are named by reference, kind, version and day only, unless
    # the admin asks for the person's name too (app/services/deliverables/file_names.py).
    person_names_in_file_names: bool = Field(
        default=False, sa_column_kwargs={"server_default": false()}
    )

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


class OperatorOutsideReads(SQLModel):
    """The « Consultation hors portefeuille » form of « Sécurité »."""

    reason_for_outside_reads: bool = False


class OperatorFileNames(SQLModel):
    """The « Noms de fichiers » form of « Sécurité »."""

    person_names_in_file_names: bool = False


def _retention_in_range(value: int) -> int:
    if not RETENTION_MIN <= value <= RETENTION_MAX:
        raise ValueError(f"La durée de conservation va de {RETENTION_MIN} à {RETENTION_MAX} mois")
    return value


class OperatorRetention(SQLModel):
    """The « Durée de conservation » form, in months after the last contact."""

    retention_months: Annotated[int, WholeNumber, AfterValidator(_retention_in_range)]


class OperatorPrivacy(SQLModel):
    """The « Protection des données » form: who the controller is and how to reach its DPO."""

    legal_name: text(200) = ""
    postal_address: text(300) = ""
    dpo_email: OptionalEmail = None
    dpo_address: text(300) = ""


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
    # E.164 (+33…), shown in national form; empty when the site gives none.
    phone: str = Field(default="", max_length=20, sa_column_kwargs={"server_default": ""})
    # A closed site stays on past records; booking and staff pickers offer open ones only.
    active: bool = True
    closed_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime))


class SiteEdit(SQLModel):
    """The site form: its position and time zone follow from the postcode."""

    name: text(120, min_length=1)
    address: text(200) = ""
    postcode: Postcode
    city: text(80, min_length=1)
    phone: OptionalPhone = None
    accessibility: text(500) = ""
    opening_hours: text(500) = ""
    # System administrators name the operator of a new site; ignored when editing.
    operator_id: OptionalRowId = None


WEEKDAY_NAMES = ("lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche")


class Permanence(SQLModel, table=True):
    """A site's part-time presence in a partner's premises (a town hall, a library, an
    association), on some weekdays between two local times, between two dates."""

    __tablename__ = "site_permanences"
    __table_args__ = (
        CheckConstraint("end_time > start_time", name="permanence_ends_after_start"),
        CheckConstraint(
            "ends_on IS NULL OR ends_on >= starts_on", name="permanence_dates_in_order"
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    operator_id: int = Field(foreign_key="operators.id", index=True)
    site_id: int = Field(foreign_key="sites.id", index=True)
    venue: str = Field(max_length=120)  # the partner's or the place's name
    address: str = Field(default="", max_length=200)
    postcode: str = Field(max_length=5)
    city: str = Field(max_length=80)
    # Digits 0 (Monday) to 6 (Sunday), as in Python, in order: "03" is Monday and Thursday.
    weekdays: str = Field(max_length=7)
    start_time: time
    end_time: time
    starts_on: date
    ends_on: date | None = None
    # Set when the permanence is ended by hand or with its site; it then offers nothing more.
    ended_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime))

    @property
    def weekday_names(self) -> list[str]:
        return [WEEKDAY_NAMES[int(day)] for day in self.weekdays]


class PermanenceStaff(SQLModel, table=True):
    """Who holds a permanence."""

    __tablename__ = "site_permanence_staff"

    permanence_id: int = Field(foreign_key="site_permanences.id", primary_key=True)
    staff_id: int = Field(foreign_key="staff_users.id", primary_key=True)


class PermanenceEdit(SQLModel):
    venue: text(120, min_length=1)
    address: text(200) = ""
    postcode: Postcode
    city: text(80, min_length=1)
    weekdays: list[int]
    start_time: time
    end_time: time
    starts_on: Day
    ends_on: OptionalDay = None
    staff_ids: list[OptionalRowId] = []

    @field_validator("weekdays")
    @classmethod
    def _weekdays(cls, value: list[int]) -> list[int]:
        if not value:
            raise ValueError("Cochez au moins un jour")
        if any(day not in range(7) for day in value):
            raise ValueError("Jour inconnu")
        return sorted(set(value))

    @field_validator("end_time")
    @classmethod
    def _ends_after_start(cls, value: time, info: ValidationInfo) -> time:
        start = info.data.get("start_time")
        if start is not None and value <= start:
            raise ValueError("La fin doit suivre le début")
        return value

    @field_validator("ends_on")
    @classmethod
    def _ends_after_it_starts(cls, value: date | None, info: ValidationInfo) -> date | None:
        start = info.data.get("starts_on")
        if value is not None and start is not None and value < start:
            raise ValueError("La fin précède le début")
        return value


class AppointmentsOnClosing(LabelledEnum):
    """What becomes of a closing site's appointments to come."""

    MOVE = "move", "Les déplacer vers un autre site, au même horaire"
    PHONE = "phone", "Les transformer en rendez-vous par téléphone, au même horaire"
    CANCEL = "cancel", "Les annuler (la personne reçoit un e-mail d'annulation)"


class SiteClosing(SQLModel):
    """The closing form: what to do with the appointments listed, and how many were listed
    (a list that changed meanwhile is shown again rather than acted upon)."""

    choice: AppointmentsOnClosing | None = None
    target_site_id: OptionalRowId = None
    listed: int = Field(default=0, ge=0, le=1_000_000)


class SiteEventKind(LabelledEnum):
    CREATED = "created", "Site créé"
    EDITED = "edited", "Site modifié"
    CLOSED = "closed", "Site fermé"
    STAFF_ATTACHED = "staff_attached", "Personne rattachée"
    STAFF_DETACHED = "staff_detached", "Personne détachée"
    PERMANENCE_ADDED = "permanence_added", "Permanence ajoutée"
    PERMANENCE_EDITED = "permanence_edited", "Permanence modifiée"
    PERMANENCE_ENDED = "permanence_ended", "Permanence terminée"


class SiteEvent(SQLModel, table=True):
    """One change to a site or its permanences: who made it, when, and what it was."""

    __tablename__ = "site_events"
    __table_args__ = (check_in("kind", SiteEventKind, name="site_event_kind_known"),)

    id: int | None = Field(default=None, primary_key=True)
    operator_id: int = Field(foreign_key="operators.id", index=True)
    site_id: int = Field(foreign_key="sites.id", index=True)
    # Empty for a change made outside the application (a command, a migration).
    actor_id: int | None = Field(default=None, foreign_key="staff_users.id")
    kind: str = Field(max_length=20)
    # What changed, in French: « Téléphone : — → 04 72 00 00 00 », the appointments moved.
    detail: str = Field(default="", max_length=2000)
    created_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(UTCDateTime, nullable=False)
    )

    @property
    def kind_label(self) -> str:
        return SiteEventKind(self.kind).label


class SiteMemberChoice(SQLModel):
    """« Rattacher une personne » on the site's page."""

    staff_id: OptionalRowId = None


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
