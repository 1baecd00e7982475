"""What the documents' feed for document management systems answers (GET
/api/v1/deliverable-versions)."""

from datetime import datetime

from sqlmodel import SQLModel


class FeedKind(SQLModel):
    code: str
    label: str


class FeedUnit(SQLModel):
    """The unit of work the document proves, through one of the case's episodes."""

    code: str
    label: str
    episode_id: int


class FeedVersionPublic(SQLModel):
    id: int
    case_reference: str
    kind: FeedKind
    unit: FeedUnit | None
    version: int
    issued_at: datetime
    sha256: str
    size_bytes: int
    file_name: str
    # Empty once the PDF was deleted with the person (anonymisation): the version is listed,
    # its download URL is not.
    download_url: str | None
    file_deleted_at: datetime | None


class FeedPagePublic(SQLModel):
    """One page of the feed, in issue order; `next` resumes right after its last version."""

    versions: list[FeedVersionPublic]
    next: str
    has_more: bool


class ClientTokenAnswer(SQLModel):
    access_token: str
    token_type: str = "bearer"
    expires_in: int
