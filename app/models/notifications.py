"""Notifications: what a counsellor is told in the app about what others did on their cases
(a partner's answer, a booking, an acknowledgement...), until they read it."""

from datetime import date, datetime

from sqlmodel import Column, Field, Index, SQLModel

from app.models.base import UTCDateTime, check_in, utcnow
from app.models.nomenclatures import LabelledEnum


class NotificationKind(LabelledEnum):
    """What happened; the label heads the notification in the list."""

    REFERRAL_ANSWERED = "referral_answered", "Réponse d'un partenaire"
    REFERRAL_EXPIRED = "referral_expired", "Orientation expirée"
    APPOINTMENT_BOOKED = "appointment_booked", "Rendez-vous réservé"
    APPOINTMENT_MOVED = "appointment_moved", "Rendez-vous déplacé"
    APPOINTMENT_CANCELLED = "appointment_cancelled", "Rendez-vous annulé"
    DOCUMENT_ACKNOWLEDGED = "document_acknowledged", "Document lu par la personne"
    REQUEST_ASSIGNED = "request_assigned", "Demande attribuée"
    ARCHIVE_READY = "archive_ready", "Archive des livrables prête"


class Notification(SQLModel, table=True):
    """One thing a staff member is told. The text names the case by its reference, never the
    person: the name is read from the case when the list is shown, so no copy of it lingers."""

    __tablename__ = "notifications"
    __table_args__ = (
        check_in("kind", NotificationKind, name="notification_kind_known"),
        # The header's unread count and the list, newest first, both start from the recipient.
        Index("ix_notifications_recipient_read", "recipient_id", "read_at"),
        Index("ix_notifications_recipient_created", "recipient_id", "created_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    operator_id: int = Field(foreign_key="operators.id")
    recipient_id: int = Field(foreign_key="staff_users.id")
    kind: str = Field(max_length=30)
    text: str = Field(max_length=500)
    # Where the notification leads, inside the app ("/cases/12#ref-3").
    link: str = Field(max_length=300)
    case_id: int | None = Field(default=None, foreign_key="cases.id", index=True)
    created_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(UTCDateTime, nullable=False)
    )
    read_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime))

    @property
    def kind_label(self) -> str:
        return NotificationKind(self.kind).label


class NotificationDigest(SQLModel, table=True):
    """A staff member's choice of a daily e-mail listing what they have not read, and the
    last day one was queued: at most one a day, however many workers run."""

    __tablename__ = "notification_digests"

    staff_id: int = Field(foreign_key="staff_users.id", primary_key=True)
    operator_id: int = Field(foreign_key="operators.id", index=True)
    subscribed: bool = False
    # The day (in the operator's time zone) of the last digest, and when it was queued: the
    # next one lists what arrived since.
    last_day: date | None = None
    last_sent_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime))
