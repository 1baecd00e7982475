"""The audit trail: who read, exported or changed a person's record, and who signed in or out.

Entries are inserted by requests, then chained by hash by the worker (app/services/audit/trail.py);
on both engines a trigger refuses any UPDATE but that one linking, and any DELETE but the
retention purge's (see `AuditPurgePermit`)."""

from datetime import datetime

from sqlmodel import CheckConstraint, Column, Field, Index, SQLModel

from app.models.base import UTCDateTime, check_in
from app.models.nomenclatures import LabelledEnum

MAX_USER_AGENT = 200
MAX_REASON = 500
HASH_LENGTH = 64  # SHA-256, in hexadecimal


class AuditAction(LabelledEnum):
    READ = "read", "Consultation"
    EXPORT = "export", "Export"
    CHANGE = "change", "Modification"
    LOGIN = "login", "Connexion"
    LOGOUT = "logout", "Déconnexion"
    LOGIN_FAILED = "login_failed", "Connexion refusée"
    ANONYMISE = "anonymise", "Anonymisation"


class AuditEvent(SQLModel, table=True):
    """One access or action. Ids and kinds only, never the content read or exported.

    No foreign keys but the operator's: the trail outlives what it names (a person anonymised,
    a staff account removed), and a cascade would have to change an entry."""

    __tablename__ = "audit_events"
    __table_args__ = (
        check_in("action", AuditAction, name="audit_action_known"),
        Index("ix_audit_events_operator_id_at", "operator_id", "at"),
    )

    # From the database's sequence, at insert: no request waits for another to number its entry.
    id: int | None = Field(default=None, primary_key=True)
    at: datetime = Field(sa_column=Column(UTCDateTime, nullable=False, index=True))
    # None: nobody signed in (a refused login for an unknown or wrong password).
    actor_id: int | None = None
    actor_role: str | None = Field(default=None, max_length=20)
    action: str = Field(max_length=16)
    record_type: str = Field(default="", max_length=40)
    record_id: int | None = None
    # The person whose file it is, so that their page can say who accessed it.
    beneficiary_id: int | None = Field(default=None, index=True)
    operator_id: int | None = Field(default=None, foreign_key="operators.id")
    ip: str = Field(default="", max_length=45)
    user_agent: str = Field(default="", max_length=MAX_USER_AGENT)
    reason: str | None = Field(default=None, max_length=MAX_REASON)
    # None until the linker chains the entry (`link_pending`): its place in the chain, which
    # is commit order rather than id order (a request may commit after a later one).
    seq: int | None = Field(default=None, unique=True)
    previous_hash: str | None = Field(default=None, max_length=HASH_LENGTH)
    hash: str | None = Field(default=None, max_length=HASH_LENGTH, unique=True)

    @property
    def linked(self) -> bool:
        return self.seq is not None

    @property
    def action_label(self) -> str:
        return AuditAction(self.action).label


class AuditChain(SQLModel, table=True):
    """The chain's one row: its head (the last entry linked) and its checkpoint (the last entry
    purged, where `filrouge audit verify` starts), both by `seq`. Locked by the linker and the
    purge, never by a request, so that two linkers never chain to the same entry."""

    __tablename__ = "audit_chain"
    __table_args__ = (CheckConstraint("id = 1", name="audit_chain_single_row"),)

    id: int = Field(default=1, primary_key=True, sa_column_kwargs={"autoincrement": False})
    head_seq: int = 0
    head_hash: str = Field(default="", max_length=HASH_LENGTH)
    checkpoint_seq: int = 0
    checkpoint_hash: str = Field(default="", max_length=HASH_LENGTH)


class AuditPurgePermit(SQLModel, table=True):
    """The one way to delete entries: the purge writes a permit, deletes linked entries older
    than its cutoff and removes the permit, all in one transaction; the triggers refuse any other
    DELETE. Written nowhere else (a plain DELETE statement alone can never remove an entry)."""

    __tablename__ = "audit_purge_permits"

    id: int | None = Field(default=None, primary_key=True)
    cutoff: datetime = Field(sa_column=Column(UTCDateTime, nullable=False))
