"""« Archive des livrables »: the issued deliverables of a period, chosen by sites, counsellors
and kinds, packed into one ZIP by the worker, downloadable for a while, then deleted."""

from datetime import date, datetime
from typing import ClassVar

from sqlmodel import JSON, BigInteger, Column, Field, SQLModel

from app.models.base import UTCDateTime, check_in, utcnow
from app.models.bounds import Day, RowId
from app.models.nomenclatures import LabelledEnum


class ArchiveStatus(LabelledEnum):
    REQUESTED = "requested", "Demandée"
    BUILDING = "building", "En préparation"
    READY = "ready", "Prête"
    FAILED = "failed", "Échec"
    CANCELLED = "cancelled", "Annulée"
    EXPIRED = "expired", "Expirée"


class ArchiveContent(LabelledEnum):
    """Which versions of each document the archive holds."""

    ISSUED_VERSIONS = "issued_versions", "Versions émises seulement"
    LATEST_VERSION = "latest_version", "Dernière version de chaque document"


class ArchiveFilters(SQLModel):
    """What the archive covers: versions issued on the local days start..end (both included)
    at these sites, by these counsellors, of these kinds (empty: all those the actor may
    archive)."""

    start: Day
    end: Day
    site_ids: list[RowId] = []
    counsellor_ids: list[RowId] = []
    kind_ids: list[RowId] = []
    content: ArchiveContent = ArchiveContent.ISSUED_VERSIONS
    # The manifest names each person by a stable code and no file name carries a name.
    pseudonymise: bool = False


class DeliverableArchive(SQLModel, table=True):
    """One archive asked for: built by the worker under a lease (app/services/jobs/leases.py),
    its file kept in the storage until `expires_at`, the row kept afterwards as its trace."""

    __tablename__ = "deliverable_archives"
    __table_args__ = (check_in("status", ArchiveStatus, name="deliverable_archive_status_known"),)
    # The status a row waits in for a builder, and is handed back to (leases.py).
    waiting_status: ClassVar[str] = ArchiveStatus.REQUESTED.value

    id: int | None = Field(default=None, primary_key=True)
    operator_id: int = Field(foreign_key="operators.id", index=True)
    requested_by_id: int = Field(foreign_key="staff_users.id")
    # ArchiveFilters as JSON, with the ids of the sites the requester could archive then.
    filters: dict = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    status: str = Field(default=ArchiveStatus.REQUESTED, max_length=10)
    lease_until: datetime | None = Field(default=None, sa_column=Column(UTCDateTime))
    documents_done: int = 0
    documents_total: int = 0
    storage_key: str | None = Field(default=None, max_length=100)
    sha256: str | None = Field(default=None, max_length=64)
    size_bytes: int | None = Field(default=None, sa_column=Column(BigInteger))
    error: str = Field(default="", max_length=1000)
    created_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(UTCDateTime, nullable=False)
    )
    started_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime))
    finished_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime))
    cancelled_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime))
    expires_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime))

    @property
    def progress(self) -> float:
        if self.status == ArchiveStatus.READY:
            return 1.0
        total = self.documents_total
        return min(1.0, self.documents_done / total) if total else 0.0

    @property
    def status_label(self) -> str:
        return ArchiveStatus(self.status).label

    @property
    def in_progress(self) -> bool:
        return self.status in (ArchiveStatus.REQUESTED, ArchiveStatus.BUILDING)

    @property
    def period(self) -> tuple[date, date]:
        return date.fromisoformat(self.filters["start"]), date.fromisoformat(self.filters["end"])
