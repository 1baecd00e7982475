"""What proves a staff member's identity beyond the password: the TOTP secret of their
authenticator app, their single-use recovery codes, their personal API keys, and the logins
half done (password right, second factor awaited)."""

from datetime import datetime
from typing import Annotated

from pydantic import AfterValidator
from sqlmodel import CheckConstraint, Column, Field, SQLModel, UniqueConstraint

from app.models.base import UTCDateTime, check_in, utcnow
from app.models.fields import refuse_line_breaks, text
from app.models.nomenclatures import LabelledEnum


class StaffTotp(SQLModel, table=True):
    """The account's TOTP secret (RFC 6238, 30-second steps, 6 digits). A row without
    `confirmed_at` is an enrolment under way: it counts only once a first code verified."""

    __tablename__ = "staff_totp"

    id: int | None = Field(default=None, primary_key=True)
    staff_id: int = Field(foreign_key="staff_users.id", unique=True)
    # Base32, as authenticator apps take it. Kept as is: the server must compute the codes.
    secret: str = Field(max_length=64)
    created_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(UTCDateTime, nullable=False)
    )
    confirmed_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime))
    # The time step of the last code accepted: a code is accepted once, and none older after it.
    last_counter: int | None = None


class RecoveryCode(SQLModel, table=True):
    """A single-use code for a sign-in without the authenticator app; only its SHA-256 kept."""

    __tablename__ = "staff_recovery_codes"

    id: int | None = Field(default=None, primary_key=True)
    staff_id: int = Field(foreign_key="staff_users.id", index=True)
    code_hash: str = Field(max_length=64, unique=True)
    created_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(UTCDateTime, nullable=False)
    )
    used_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime))


class ApiKey(SQLModel, table=True):
    """A personal API key (« clé d'API »): taken by the token endpoint in place of the
    password, for accounts that sign in with a second factor. Shown once; its SHA-256 kept."""

    __tablename__ = "staff_api_keys"

    id: int | None = Field(default=None, primary_key=True)
    staff_id: int = Field(foreign_key="staff_users.id", index=True)
    name: str = Field(max_length=80)
    key_hash: str = Field(max_length=64, unique=True)
    # The key's first characters, so that its owner can tell which one a script holds.
    hint: str = Field(max_length=12)
    created_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(UTCDateTime, nullable=False)
    )
    last_used_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime))
    revoked_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime))


class ApiKeyCreate(SQLModel):
    """The « Créer une clé d'API » form: a name, and a code of the authenticator app."""

    name: Annotated[text(80, min_length=1), AfterValidator(refuse_line_breaks)]
    code: text(20) = ""


class LoginStepPurpose(LabelledEnum):
    CODE = "code", "Code de double authentification"
    ENROLMENT = "enrolment", "Activation obligatoire de la double authentification"


class LoginStep(SQLModel, table=True):
    """A login whose password was right and whose second factor is awaited: a code, or the
    enrolment the account's role requires. It opens no session and grants nothing else; its
    cookie holds a random token of which only the hash is kept. Ended once used, after too
    many wrong codes, or when it expires."""

    __tablename__ = "staff_login_steps"
    __table_args__ = (
        check_in("purpose", LoginStepPurpose, name="login_step_purpose_known"),
        CheckConstraint("failures >= 0", name="login_step_failures_counted"),
        UniqueConstraint("token_hash"),
    )

    id: int | None = Field(default=None, primary_key=True)
    staff_id: int = Field(foreign_key="staff_users.id", index=True)
    token_hash: str = Field(max_length=64)
    purpose: str = Field(max_length=10)
    failures: int = 0
    created_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(UTCDateTime, nullable=False)
    )
    expires_at: datetime = Field(sa_column=Column(UTCDateTime, nullable=False))
    ended_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime))
