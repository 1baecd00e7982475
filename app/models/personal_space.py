"""Links to a beneficiary's personal space: no account, an opaque token sent to the e-mail
address or mobile number on file, bound to one person and good for this one purpose only."""

from datetime import datetime

from sqlmodel import Column, Field, SQLModel

from app.models.base import UTCDateTime, utcnow

# What a link opens: the space and nothing else (an appointment's or a document's link is
# signed for its own purpose and is no key to the space).
SPACE_PURPOSE = "personal_space"


class PersonalSpaceLink(SQLModel, table=True):
    __tablename__ = "personal_space_links"

    id: int | None = Field(default=None, primary_key=True)
    operator_id: int = Field(foreign_key="operators.id", index=True)
    beneficiary_id: int = Field(foreign_key="beneficiaries.id", index=True)
    # SHA-256 of the token: a leaked table opens nobody's space. The token itself is only in
    # the message that carried it.
    token_hash: str = Field(max_length=64, unique=True)
    purpose: str = Field(default=SPACE_PURPOSE, max_length=20)
    created_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(UTCDateTime, nullable=False)
    )
    expires_at: datetime = Field(sa_column=Column(UTCDateTime, nullable=False))
    # « Fermer l'accès » from the space, or staff closing every access from the person's page.
    revoked_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime))
