"""Staff accounts, their server-side sessions, the e-mailed links that set a password, the
record of changes to an account, the login attempts used for throttling and the alerts raised
when failed logins come in bursts."""

from datetime import datetime
from typing import Literal

from sqlmodel import CheckConstraint, Column, Field, SQLModel

from app.models.base import UTCDateTime, check_in, utcnow
from app.models.bounds import OptionalRowId
from app.models.fields import ControlTeamName, Email, PersonName
from app.models.nomenclatures import CASE_ROLES, LabelledEnum, Role


class StaffUser(SQLModel, table=True):
    __tablename__ = "staff_users"
    __table_args__ = (
        # A controller works in exactly one control team; nobody else is in one.
        CheckConstraint(
            "(role = 'controller' AND control_team IS NOT NULL AND control_team <> '')"
            " OR (role <> 'controller' AND control_team IS NULL)",
            name="control_team_for_controllers",
        ),
    )

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
    # When the person last chose a password; empty while an invitation waits for an answer
    # (the account's hash is then of a random value nobody knows).
    password_set_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime))

    # France compétences' controllers share the campaigns opened within their team (by name).
    control_team: str | None = Field(default=None, max_length=80)

    @property
    def invitation_pending(self) -> bool:
        return self.password_set_at is None

    @property
    def role_label(self) -> str:
        return Role(self.role).label

    @property
    def sees_cases(self) -> bool:
        return self.role in CASE_ROLES and self.operator_id is not None


# The roles an operator's administrator gives (observers and sysadmins belong to no operator).
TeamRole = Literal["counsellor", "manager", "operator_admin"]
TEAM_ROLES = (Role.COUNSELLOR, Role.MANAGER, Role.OPERATOR_ADMIN)


class StaffInvitation(SQLModel):
    """The « Inviter » form of « Équipe »."""

    email: Email
    full_name: PersonName
    role: TeamRole
    # The submitted list is the person's sites; system administrators also name the operator.
    site_ids: list[OptionalRowId] = []
    operator_id: OptionalRowId = None


class ControllerInvitation(SQLModel):
    """The « Inviter un·e contrôleur·euse » form of « Équipe » (system administrators)."""

    email: Email
    full_name: PersonName
    control_team: ControlTeamName


class ControlTeamEdit(SQLModel):
    control_team: ControlTeamName


class StaffRoleEdit(SQLModel):
    role: TeamRole


class StaffSitesEdit(SQLModel):
    site_ids: list[OptionalRowId] = []


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


class AccountLinkPurpose(LabelledEnum):
    INVITATION = "invitation", "Invitation"
    RESET = "reset", "Réinitialisation du mot de passe"


class AccountLink(SQLModel, table=True):
    """An e-mailed link to choose a password: an invitation or a reset. The e-mail holds a
    signed token naming this row and a nonce whose hash is kept here; the row is used once
    (`used_at` is set by one UPDATE that only an unused, unrevoked, unexpired row passes)."""

    __tablename__ = "staff_account_links"
    __table_args__ = (
        check_in("purpose", AccountLinkPurpose, name="account_link_purpose_known"),
        CheckConstraint("used_at IS NULL OR revoked_at IS NULL", name="account_link_one_end"),
    )

    id: int | None = Field(default=None, primary_key=True)
    staff_id: int = Field(foreign_key="staff_users.id", index=True)
    purpose: str = Field(max_length=12)
    nonce_hash: str = Field(max_length=64, unique=True)
    created_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(UTCDateTime, nullable=False)
    )
    expires_at: datetime = Field(sa_column=Column(UTCDateTime, nullable=False))
    used_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime))
    # A newer link, a password chosen another way or a deactivation ends an unused link.
    revoked_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime))


class StaffEventKind(LabelledEnum):
    CREATED = "created", "Compte créé"
    INVITED = "invited", "Invitation envoyée"
    INVITATION_RESENT = "invitation_resent", "Invitation renvoyée"
    PASSWORD_SET = "password_set", "Mot de passe choisi (invitation acceptée)"
    RESET_REQUESTED = "reset_requested", "Lien de réinitialisation envoyé"
    PASSWORD_RESET = "password_reset", "Mot de passe réinitialisé"
    ROLE_CHANGED = "role_changed", "Rôle modifié"
    CONTROL_TEAM_CHANGED = "control_team_changed", "Équipe de contrôle modifiée"
    SITES_CHANGED = "sites_changed", "Sites modifiés"
    DEACTIVATED = "deactivated", "Compte désactivé"
    REACTIVATED = "reactivated", "Compte réactivé"
    TOTP_ENROLLED = "totp_enrolled", "Double authentification activée"
    TOTP_DISABLED = "totp_disabled", "Double authentification désactivée"
    TOTP_RESET = "totp_reset", "Double authentification réinitialisée"
    CODES_REGENERATED = "codes_regenerated", "Codes de secours régénérés"
    RECOVERY_CODE_USED = "recovery_code_used", "Connexion avec un code de secours"
    API_KEY_CREATED = "api_key_created", "Clé d'API créée"
    API_KEY_REVOKED = "api_key_revoked", "Clé d'API révoquée"


class StaffEvent(SQLModel, table=True):
    """One change to a staff account: who made it, when, and what it was (« Équipe »)."""

    __tablename__ = "staff_events"
    __table_args__ = (check_in("kind", StaffEventKind, name="staff_event_kind_known"),)

    id: int | None = Field(default=None, primary_key=True)
    # The account's operator, copied so that a scope needs no join; empty for accounts of none.
    operator_id: int | None = Field(default=None, foreign_key="operators.id", index=True)
    staff_id: int = Field(foreign_key="staff_users.id", index=True)
    # Who did it: an administrator, the person (a password chosen), or nobody (the command line).
    actor_id: int | None = Field(default=None, foreign_key="staff_users.id")
    kind: str = Field(max_length=20)
    # What changed, in French: « Conseiller·ère → Responsable d'équipe », the sites now held.
    detail: str = Field(default="", max_length=1000)
    created_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(UTCDateTime, nullable=False)
    )

    @property
    def kind_label(self) -> str:
        return StaffEventKind(self.kind).label


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
