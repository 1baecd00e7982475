"""The partner directory and referrals (orientations) to partners, with their status history."""

import re
from datetime import date, datetime
from typing import Annotated, Literal
from urllib.parse import urlsplit

from pydantic import AfterValidator, BeforeValidator, StringConstraints, WithJsonSchema
from sqlmodel import CheckConstraint, Column, Field, Index, SQLModel, UniqueConstraint

from app.models.base import UTCDateTime, check_in, utcnow
from app.models.bounds import OptionalDay, RowId
from app.models.consents import ConsentChannel
from app.models.fields import (
    DEPARTEMENT,
    PYTHON_SPACES,
    STRIPPED_SPACES,
    Email,
    Flag,
    NoteText,
    OptionalPhone,
    OptionalPostcode,
    RequiredText,
    blank_to_none,
    departement_order,
    normalise_departement,
    text,
)
from app.models.nomenclatures import LabelledEnum, PartnerType, ReferralOutcome


class ReferralStatus(LabelledEnum):
    PROPOSED = "proposed", "Proposée"
    SENT = "sent", "Envoyée au partenaire"
    ACCEPTED = "accepted", "Acceptée"
    DECLINED = "declined", "Refusée"
    IN_PROGRESS = "in_progress", "En cours"
    COMPLETED = "completed", "Terminée"
    ABANDONED = "abandoned", "Abandonnée"
    EXPIRED = "expired", "Expirée (sans réponse)"


class Partner(SQLModel, table=True):
    """An organisation the operator refers people to; each operator keeps its own directory."""

    __tablename__ = "partners"
    __table_args__ = (
        UniqueConstraint("operator_id", "name"),
        Index("ix_partners_operator_type", "operator_id", "type"),
    )

    id: int | None = Field(default=None, primary_key=True)
    operator_id: int = Field(foreign_key="operators.id")
    name: str = Field(max_length=200)
    type: str = Field(max_length=30)
    # The départements it serves, as codes separated by spaces ("69 01 38", "2A 2B", "974").
    departements: str = Field(default="", max_length=300)
    address: str = Field(default="", max_length=300)
    postcode: str | None = Field(default=None, max_length=5)
    city: str = Field(default="", max_length=100)
    contact_name: str = Field(default="", max_length=120)
    email: str | None = Field(default=None, max_length=254)
    phone: str | None = Field(default=None, max_length=20)
    website: str = Field(default="", max_length=300)
    services: str = Field(default="", max_length=2000)
    active: bool = True
    created_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(UTCDateTime, nullable=False)
    )
    updated_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(UTCDateTime, nullable=False)
    )


class Referral(SQLModel, table=True):
    """A case's referral to a partner, followed until its outcome."""

    __tablename__ = "referrals"
    __table_args__ = (
        check_in("status", ReferralStatus, name="referral_status_known"),
        check_in("outcome", ReferralOutcome, name="referral_outcome_known", nullable=True),
        Index("ix_referrals_operator_status", "operator_id", "status"),
    )

    id: int | None = Field(default=None, primary_key=True)
    operator_id: int = Field(foreign_key="operators.id")
    case_id: int = Field(foreign_key="cases.id", index=True)
    partner_id: int = Field(foreign_key="partners.id", index=True)
    purpose: str = Field(max_length=1000)
    # What the partner receives about the person, and when the person agreed to it.
    shared_information: str = Field(default="", max_length=2000)
    consent_at: datetime = Field(sa_column=Column(UTCDateTime, nullable=False))
    follow_up_on: date | None = None
    status: str = Field(default=ReferralStatus.PROPOSED, max_length=20)
    decline_reason: str = Field(default="", max_length=1000)
    outcome: str | None = Field(default=None, max_length=20)
    outcome_note: str = Field(default="", max_length=1000)
    # The one partner link that may still act; cleared or replaced once it has been used.
    link_nonce: str | None = Field(default=None, max_length=40)
    created_by_id: int | None = Field(default=None, foreign_key="staff_users.id")
    created_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(UTCDateTime, nullable=False)
    )
    sent_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime))
    answered_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime))
    closed_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime))
    updated_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(UTCDateTime, nullable=False)
    )


class ReferralEvent(SQLModel, table=True):
    """One status change of a referral: who (a counsellor, the partner's link or the system)
    moved it from what to what, and why."""

    __tablename__ = "referral_events"
    __table_args__ = (
        CheckConstraint(
            "via IN ('counsellor', 'partner_link', 'system')", name="referral_event_via_known"
        ),
        check_in("from_status", ReferralStatus, name="referral_event_from_known", nullable=True),
        check_in("to_status", ReferralStatus, name="referral_event_to_known"),
    )

    id: int | None = Field(default=None, primary_key=True)
    operator_id: int = Field(foreign_key="operators.id")
    referral_id: int = Field(foreign_key="referrals.id", index=True)
    from_status: str | None = Field(default=None, max_length=20)
    to_status: str = Field(max_length=20)
    at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime, nullable=False))
    actor_id: int | None = Field(default=None, foreign_key="staff_users.id")
    via: str = Field(default="counsellor", max_length=20)
    note: str = Field(default="", max_length=1000)


# ---- partner input and output schemas ------------------------------------------------------

_DEPARTEMENTS_MAX = 300  # the column's width


def normalise_departements(value: str | list[str]) -> str:
    """Codes typed any way ("69, 1;2a") as the column keeps them: "01 2A 69"."""
    parts = value if isinstance(value, list) else [value]
    codes = {
        normalise_departement(code) for part in parts for code in re.split(r"[\s,;]+", part) if code
    }
    joined = " ".join(sorted(codes, key=departement_order))
    if len(joined) > _DEPARTEMENTS_MAX:
        raise ValueError("Trop de départements : laissez vide pour tout le territoire")
    return joined


def split_departements(value: str | list[str]) -> list[str]:
    return value.split() if isinstance(value, str) else value


def _check_website(value: str) -> str:
    """An http(s) address, since it becomes a link: "www.x.fr" is read as https://www.x.fr."""
    if not value:
        return value
    url = value if "://" in value else f"https://{value}"
    try:
        parts = urlsplit(url)
        scheme, host = parts.scheme, parts.hostname or ""
    except ValueError:
        scheme = host = ""
    if (
        scheme not in ("http", "https")
        or "." not in host
        or any(c.isspace() for c in url)
        or len(url) > 300
    ):
        raise ValueError("Adresse de site invalide (ex. https://www.exemple.fr)")
    return url


_SEPARATORS = f"[{PYTHON_SPACES},;]"
_CODES = {
    "type": "string",
    "pattern": f"^{_SEPARATORS}*(?:{DEPARTEMENT}(?:{_SEPARATORS}+{DEPARTEMENT})*)?{_SEPARATORS}*$",
}
Departements = Annotated[
    str | list[str],
    AfterValidator(normalise_departements),
    WithJsonSchema(
        {
            "anyOf": [_CODES, {"type": "array", "items": _CODES}],
            "description": "Codes INSEE (01, 2A, 974), séparés par des espaces, des virgules "
            "ou des points-virgules, ou en liste ; aucun : tout le territoire",
        },
        mode="validation",
    ),
]
# What _check_website takes, for the document: an http(s) address whose host has a dot, 300
# characters at most (292 without the scheme, which https:// then completes); no space, no
# IPv6 host, none of the characters that urlsplit refuses in a host (＠, ／, ﹖…).
_NOT_IN_HOST = (
    r"/?#@:\[\]"
    + PYTHON_SPACES
    + r"\u2047-\u2049\u2100\u2101\u2105\u2106\u2a74\ufe13\ufe16\ufe55\ufe56\ufe5f"
    + r"\ufe6b\uff03\uff0f\uff1a\uff1f\uff20"
)
_ADDRESS = (
    f"(?:[^{_NOT_IN_HOST.replace('@:', '')}]*@)?"  # who, in the host part: the last @ ends it
    f"[^{_NOT_IN_HOST}]*\\.[^{_NOT_IN_HOST}]*"  # the host
    f"(?::[^{_NOT_IN_HOST.replace(':', '')}]*)?"  # a port, read or not
    f"(?:[/?#][^{PYTHON_SPACES}]*)?"  # the path, the query, the fragment
)
_AROUND = f"[{STRIPPED_SPACES}]*"
_WEBSITE = (
    f"^{_AROUND}(?:"
    f"(?=[^{PYTHON_SPACES}]{{1,300}}{_AROUND}$)[Hh][Tt][Tt][Pp][Ss]?://{_ADDRESS}"
    f"|(?=[^{PYTHON_SPACES}]{{1,292}}{_AROUND}$)(?!.*://){_ADDRESS}"
    f")?{_AROUND}$"
)
Website = Annotated[
    str,
    StringConstraints(strip_whitespace=True, max_length=300),
    AfterValidator(_check_website),
    WithJsonSchema(
        {
            "type": "string",
            "pattern": _WEBSITE,
            "description": "Adresse http(s) ; sans http:// ni https://, https:// est ajouté",
        },
        mode="validation",
    ),
]
OptionalEmail = Annotated[Email | None, blank_to_none]


class PartnerEdit(SQLModel):
    """What staff type about a partner, in the form, the API and each line of a CSV import."""

    name: RequiredText
    type: PartnerType
    # Empty means the whole territory of the operator (a regional or national service).
    departements: Departements = ""
    address: text(300) = ""
    postcode: OptionalPostcode = None
    city: text(100) = ""
    contact_name: text(120) = ""
    email: OptionalEmail = None
    phone: OptionalPhone = None
    website: Website = ""
    services: text(2000) = ""
    active: Flag = True


class PartnerCreate(PartnerEdit):
    pass


class PartnerUpdate(PartnerEdit):
    """Every field, as PUT replaces the whole record."""


class PartnerPublic(SQLModel):
    id: int
    name: str
    type: PartnerType
    departements: Annotated[list[str], BeforeValidator(split_departements)]
    address: str
    postcode: str | None
    city: str
    contact_name: str
    email: str | None
    phone: str | None
    website: str
    services: str
    active: bool
    created_at: datetime
    updated_at: datetime


# ---- referral input and output schemas -----------------------------------------------------


def _partner_chosen(value):
    # An empty select must say what to do, not "integer expected".
    if isinstance(value, str) and not value.strip():
        raise ValueError("Choisissez un partenaire")
    return value


def consent_required(partner_name: str) -> str:
    return (
        f"La personne n'a pas donné son accord pour que ses informations soient transmises à "
        f"{partner_name} : cochez la case si elle le donne maintenant."
    )


ReferralPurpose = text(1000, min_length=1)
OptionalOutcome = Annotated[ReferralOutcome | None, blank_to_none]


class ReferralCreate(SQLModel):
    """A referral as the counsellor proposes it. The person must have agreed to
    `shared_information` (and only that) going to the partner: an agreement already recorded
    for this partner, or `consent` ticked now, which records it (collected `consent_how`)."""

    partner_id: Annotated[RowId, BeforeValidator(_partner_chosen)]
    purpose: ReferralPurpose
    shared_information: text(2000) = ""
    consent: Flag = False
    consent_how: ConsentChannel = ConsentChannel.INTERVIEW
    follow_up_on: OptionalDay = None
    send_now: Flag = False


class ReferralTransition(SQLModel):
    """A counsellor's status change: `reason` for a refusal, `outcome` (and `note`) to complete.
    `to="sent"` records a referral sent without e-mail (telephone, post)."""

    to: ReferralStatus
    reason: NoteText = ""
    outcome: OptionalOutcome = None
    note: NoteText = ""


class PartnerDecision(SQLModel):
    """The partner's answer from the e-mailed link."""

    decision: Literal["accept", "decline"]
    reason: NoteText = ""


class PartnerOutcomeReport(SQLModel):
    """The partner's news from the second link: under way, or finished with an outcome."""

    outcome: OptionalOutcome = None
    note: NoteText = ""
    in_progress: bool = False


class ReferralEventPublic(SQLModel):
    from_status: str | None
    to_status: str
    at: datetime
    actor_id: int | None
    via: str
    note: str


class ReferralPublic(SQLModel):
    id: int
    case_id: int
    partner_id: int
    partner_name: str
    partner_type: str
    purpose: str
    shared_information: str
    consent_at: datetime
    follow_up_on: date | None
    status: str
    decline_reason: str
    outcome: str | None
    outcome_note: str
    created_at: datetime
    sent_at: datetime | None
    answered_at: datetime | None
    closed_at: datetime | None
    events: list[ReferralEventPublic] = []
