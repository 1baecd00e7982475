"""Staff accounts, their server-side sessions, the login attempts used for throttling and the
alerts raised when failed logins come in bursts."""

from datetime import datetime

from sqlmodel import CheckConstraint, Column, Field, SQLModel

from app.models.base import UTCDateTime, utcnow
from app.models.nomenclatures import CASE_ROLES, Role


class StaffUser(SQLModel, table=True):
    __tablename__ = "staff_users"

    id: int | None = Field(default=None, primary_key=True)
    # Empty for national observers and system administrators, who belong to no operator.
    operator_id: int | None = Field(default=None, foreign_key="operators.id", index=True)
    email: str = Field(max_length=254, unique=True)
    full_name: str = Field(max_length=120)
    role: str = Field(max_length=20)
    password_hash: str = Field(max_length=200)
    active: bool = True
    # Carried by every API token issued to the account and compared on each request: raising
    # it refuses every token issued before (API logout, deactivation).
    token_version: int = Field(default=0, sa_column_kwargs={"server_default": "0"})
    created_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(UTCDateTime, nullable=False)
    )

    @property
    def role_label(self) -> str:
        return Role(self.role).label

    @property
    def sees_cases(self) -> bool:
        return self.role in CASE_ROLES and self.operator_id is not None


class StaffSite(SQLModel, table=True):
    """Which sites a staff member works at."""

    __tablename__ = "staff_sites"

    staff_id: int = Field(foreign_key="staff_users.id", primary_key=True)
    site_id: int = Field(foreign_key="sites.id", primary_key=True)


class StaffSession(SQLModel, table=True):
    """An opaque browser session: the cookie holds a random token, we keep only its hash."""

    __tablename__ = "staff_sessions"

    id: int | None = Field(default=None, primary_key=True)
    token_hash: str = Field(max_length=64, unique=True)
    staff_id: int = Field(foreign_key="staff_users.id", index=True)
    csrf_token: str = Field(max_length=64)
    created_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(UTCDateTime, nullable=False)
    )
    expires_at: datetime = Field(sa_column=Column(UTCDateTime, nullable=False))
    revoked_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime))


class LoginAttempt(SQLModel, table=True):
    __tablename__ = "login_attempts"

    id: int | None = Field(default=None, primary_key=True)
    email: str = Field(max_length=254, index=True)
    ip: str = Field(max_length=45, index=True)
    succeeded: bool
    attempted_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(UTCDateTime, nullable=False, index=True)
    )


class LoginAlert(SQLModel, table=True):
    """A burst of failed logins, shown to administrators in « Messages »: many accounts tried
    from one address (`address`), or one account tried from several addresses (`account`)."""

    __tablename__ = "login_alerts"
    __table_args__ = (CheckConstraint("kind IN ('address', 'account')", name="login_alert_kind"),)

    id: int | None = Field(default=None, primary_key=True)
    kind: str = Field(max_length=10)
    # The account's operator when one account is tried; empty for an address trying many.
    operator_id: int | None = Field(default=None, foreign_key="operators.id", index=True)
    ip: str | None = Field(default=None, max_length=45)
    staff_id: int | None = Field(default=None, foreign_key="staff_users.id")
    failures: int
    # How many accounts the address tried, or how many addresses tried the account.
    spread: int
    created_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(UTCDateTime, nullable=False, index=True)
    )
