"""Report snapshots: a report as it was counted and suppressed at one moment, kept for the month,
so that the national view changes once a month and never from one day to the next."""

from datetime import date, datetime

from sqlmodel import JSON, Column, Field, SQLModel, UniqueConstraint

from app.models.base import UTCDateTime


class ReportSnapshot(SQLModel, table=True):
    """One report (`kind`, e.g. « national ») of one calendar year, as taken in one month.

    The payload holds the report already suppressed: what was shown, never the small counts.
    One per kind, year, month and layout version: the database keeps one of two readers taking
    it at once (app/services/reports/snapshots.py)."""

    __tablename__ = "report_snapshots"
    __table_args__ = (UniqueConstraint("kind", "year", "month", "version"),)

    id: int | None = Field(default=None, primary_key=True)
    kind: str = Field(max_length=20)
    year: int
    month: date  # the first day of the month it was taken in (Paris)
    # The report's layout: a new layout (sections added or changed) takes a snapshot of its own.
    version: int
    taken_at: datetime = Field(sa_column=Column(UTCDateTime, nullable=False))
    payload: dict = Field(sa_column=Column(JSON, nullable=False))
