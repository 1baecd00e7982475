"""API clients (« clients d'API »): an operator's document system reading its issued
documents with an identifier and a secret of its own, never a person's password."""

from datetime import datetime
from typing import Annotated

from pydantic import AfterValidator
from sqlmodel import Column, Field, SQLModel

from app.models.base import UTCDateTime, check_in, utcnow
from app.models.fields import refuse_line_breaks, text
from app.models.nomenclatures import LabelledEnum


class ApiClientScope(LabelledEnum):
    """What a client's token opens. One for now: the documents' feed and their PDFs."""

    READ_DOCUMENTS = "documents:read", "Lecture des documents"


class ApiClient(SQLModel, table=True):
    """One client: its public identifier, the SHA-256 of its secret (shown once), revocable."""

    __tablename__ = "api_clients"
    __table_args__ = (check_in("scope", ApiClientScope, name="api_client_scope_known"),)

    id: int | None = Field(default=None, primary_key=True)
    operator_id: int = Field(foreign_key="operators.id", index=True)
    name: str = Field(max_length=80)
    scope: str = Field(max_length=40)
    # Given with the secret to the token endpoint; public, like a user name.
    client_id: str = Field(max_length=40, unique=True)
    # A random secret of 256 bits: a fast hash is enough (app/core/otp.py says why).
    secret_hash: str = Field(max_length=64)
    created_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(UTCDateTime, nullable=False)
    )
    created_by_id: int | None = Field(default=None, foreign_key="staff_users.id")
    last_used_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime))
    revoked_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime))
    revoked_by_id: int | None = Field(default=None, foreign_key="staff_users.id")


class ApiClientCreate(SQLModel):
    """The « Créer un client d'API » form."""

    name: Annotated[text(80, min_length=1), AfterValidator(refuse_line_breaks)]
    scope: ApiClientScope = ApiClientScope.READ_DOCUMENTS
