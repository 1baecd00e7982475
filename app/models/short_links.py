"""Short links for SMS: an opaque code that stands for a long signed link, kept server-side."""

from datetime import datetime

from sqlmodel import Column, Field, SQLModel, Text

from app.models.base import UTCDateTime, utcnow


class ShortLink(SQLModel, table=True):
    __tablename__ = "short_links"

    id: int | None = Field(default=None, primary_key=True)
    operator_id: int | None = Field(default=None, foreign_key="operators.id", index=True)
    # Random, never derived from the target: knowing one code says nothing of another.
    code: str = Field(max_length=32, unique=True)
    # A path on this site (the signed page), never an address elsewhere.
    target: str = Field(sa_column=Column(Text, nullable=False))
    expires_at: datetime = Field(sa_column=Column(UTCDateTime, nullable=False, index=True))
    created_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(UTCDateTime, nullable=False)
    )
