"""Files uploaded to a case; the bytes live in the storage (app/core/storage.py), never in the web root."""

from datetime import datetime

from sqlmodel import CheckConstraint, Column, Field, SQLModel

from app.models.base import UTCDateTime, utcnow


class Attachment(SQLModel, table=True):
    __tablename__ = "attachments"
    __table_args__ = (CheckConstraint("size_bytes >= 0", name="attachment_size_positive"),)

    id: int | None = Field(default=None, primary_key=True)
    operator_id: int = Field(foreign_key="operators.id", index=True)
    case_id: int = Field(foreign_key="cases.id", index=True)
    # The name the user gave, cleaned; only ever shown, never used as a path.
    filename: str = Field(max_length=255)
    # Sniffed from the content, not taken from the name or the browser.
    content_type: str = Field(max_length=100)
    size_bytes: int
    sha256: str = Field(max_length=64)
    storage_key: str = Field(max_length=100, unique=True)
    description: str = Field(default="", max_length=200)
    uploaded_by_id: int | None = Field(default=None, foreign_key="staff_users.id")
    uploaded_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(UTCDateTime, nullable=False)
    )
    # « Supprimé »: the bytes were deleted from the storage when the person was anonymised;
    # the row, its size and SHA-256 stay so that counts and proofs still add up.
    file_deleted_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime))

    @property
    def file_deleted(self) -> bool:
        return self.file_deleted_at is not None


class AttachmentPublic(SQLModel):
    id: int
    case_id: int
    filename: str
    content_type: str
    size_bytes: int
    sha256: str
    description: str
    uploaded_at: datetime
