"""The outbox: messages written in the same transaction as the change that causes them,
delivered later by `filrouge worker`."""

from datetime import datetime

from sqlmodel import JSON, CheckConstraint, Column, Field, Index, SQLModel, Text

from app.models.base import UTCDateTime, check_in, utcnow
from app.models.nomenclatures import LabelledEnum


class MessageStatus(LabelledEnum):
    PENDING = "pending", "En attente d'envoi"
    SENDING = "sending", "Envoi en cours"
    SENT = "sent", "Envoyé"
    FAILED = "failed", "Échec définitif"


class Channel(LabelledEnum):
    EMAIL = "email", "E-mail"
    SMS = "sms", "SMS"


class SmsDelivery(LabelledEnum):
    """What the SMS gateway reported after it accepted the message (its callback)."""

    UNKNOWN = "", "Non communiqué"
    DELIVERED = "delivered", "Remis"
    UNDELIVERED = "undelivered", "Non remis"


class OutboxMessage(SQLModel, table=True):
    __tablename__ = "outbox_messages"
    __table_args__ = (
        check_in("status", MessageStatus, name="outbox_status_known"),
        check_in("channel", Channel, name="outbox_channel_known"),
        check_in("delivery", SmsDelivery, name="outbox_delivery_known"),
        CheckConstraint(
            f"(status = '{MessageStatus.SENT}') = (sent_at IS NOT NULL)",
            name="outbox_sent_has_date",
        ),
        Index("ix_outbox_messages_status_next_attempt", "status", "next_attempt_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    operator_id: int | None = Field(default=None, foreign_key="operators.id", index=True)
    # The case the message is about, so that staff see its state there.
    case_id: int | None = Field(default=None, foreign_key="cases.id", index=True)
    channel: str = Field(default=Channel.EMAIL.value, max_length=10)
    # An e-mail address, or an SMS's number in E.164 form.
    recipient: str = Field(max_length=254)
    subject: str = Field(max_length=300)
    body_text: str = Field(sa_column=Column(Text, nullable=False))
    body_html: str | None = Field(default=None, sa_column=Column(Text))
    # [{"filename", "content_type", "content_b64"}]: small files only (an .ics, not a PDF).
    attachments: list[dict] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    # Fixed when the message is written, so that a retry carries the same Message-ID.
    message_id: str = Field(max_length=200, unique=True)
    # An SMS is written by the worker, not by the request that queues it (booking stays
    # fast): `template` names what to write, `payload` the rows and facts it is about; the
    # text, once written, is kept in body_text so that a retry sends the same words and link.
    template: str = Field(default="", max_length=40)
    payload: dict | None = Field(default=None, sa_column=Column(JSON))
    # The SMS gateway's id for the message, then what its delivery report said.
    provider_id: str = Field(default="", max_length=100)
    delivery: str = Field(default=SmsDelivery.UNKNOWN.value, max_length=12)
    delivered_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime))
    status: str = Field(default=MessageStatus.PENDING.value, max_length=10)
    attempts: int = 0
    next_attempt_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(UTCDateTime, nullable=False)
    )
    # A worker owns a message in "sending" until then; past it, another worker may retry.
    lease_until: datetime | None = Field(default=None, sa_column=Column(UTCDateTime))
    last_error: str = Field(default="", max_length=1000)
    sent_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime))
    created_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(UTCDateTime, nullable=False)
    )

    @property
    def status_label(self) -> str:
        return MessageStatus(self.status).label

    @property
    def channel_label(self) -> str:
        return Channel(self.channel).label

    @property
    def is_sms(self) -> bool:
        return self.channel == Channel.SMS


class OutboxMessagePublic(SQLModel):
    id: int
    case_id: int | None
    channel: str
    recipient: str
    subject: str
    status: str
    attempts: int
    last_error: str
    created_at: datetime
    sent_at: datetime | None
