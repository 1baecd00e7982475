"""The daily e-mail digest of notifications, for those who asked for it: queued through the
outbox by the worker, at most one per person per day, only when something is unread."""

from datetime import datetime, timedelta

from sqlalchemy import or_, update
from sqlmodel import Session, col, select

from app.core.config import get_settings
from app.core.dates import format_datetime, local_today
from app.models.base import utcnow
from app.models.notifications import Notification, NotificationDigest
from app.models.staff import StaffUser
from app.services.access.scope import get_owned, operator_of, owned_by
from app.services.admin.operators import time_zone_of
from app.services.messaging.outbox import queue_email

# The first digest lists what arrived in the day before it.
FIRST_LOOK_BACK = timedelta(days=1)


def digest_subscribed(*, session: Session, actor: StaffUser) -> bool:
    row = get_owned(session, NotificationDigest, actor.id, operator_of(actor))
    return bool(row and row.subscribed)


def set_digest(*, session: Session, actor: StaffUser, subscribed: bool) -> NotificationDigest:
    """Ask for the daily e-mail, or stop it."""
    operator_id = operator_of(actor)
    row = get_owned(session, NotificationDigest, actor.id, operator_id)
    if row is None:
        row = NotificationDigest(staff_id=actor.id, operator_id=operator_id)
    row.subscribed = subscribed
    session.add(row)
    session.flush()
    return row


def queue_digests(*, session: Session, now: datetime | None = None) -> int:
    """One digest for each subscriber not yet served today who has something unread since
    the last one; how many were queued. Safe to run on every worker pass, by several workers."""
    now = now or utcnow()
    subscribers = session.exec(
        select(NotificationDigest, StaffUser)
        .join(StaffUser, col(StaffUser.id) == NotificationDigest.staff_id)
        .where(col(NotificationDigest.subscribed).is_(True), col(StaffUser.active).is_(True))
    ).all()
    queued = 0
    for digest, staff in subscribers:
        time_zone = time_zone_of(session=session, operator_id=digest.operator_id)
        today = local_today(time_zone, now=now)
        since = digest.last_sent_at or now - FIRST_LOOK_BACK
        if not _claim(session, digest, today, now):
            continue  # already served today, here or by another worker
        unread = _unread_since(session, staff, since)
        if unread:
            _queue(session, staff, unread, time_zone)
            queued += 1
    return queued


def _claim(session: Session, digest: NotificationDigest, today, now: datetime) -> bool:
    """Mark today as served, unless it already is: the one UPDATE that wins sends."""
    claimed = session.execute(
        update(NotificationDigest)
        .where(
            NotificationDigest.staff_id == digest.staff_id,
            or_(
                col(NotificationDigest.last_day).is_(None),
                col(NotificationDigest.last_day) < today,
            ),
        )
        .values(last_day=today, last_sent_at=now)
        .execution_options(synchronize_session=False)
    )
    return claimed.rowcount == 1


def _unread_since(session: Session, staff: StaffUser, since: datetime) -> list[Notification]:
    return list(
        session.exec(
            select(Notification)
            .where(
                owned_by(Notification, staff.operator_id),
                Notification.recipient_id == staff.id,
                col(Notification.read_at).is_(None),
                col(Notification.created_at) > since,
            )
            .order_by(col(Notification.created_at), col(Notification.id))
        )
    )


def _queue(session: Session, staff: StaffUser, unread: list[Notification], time_zone: str):
    base = get_settings().public_base_url.rstrip("/")
    count = len(unread)
    plural = "s" if count > 1 else ""
    lines = [
        f"Bonjour {staff.full_name},",
        "",
        f"{count} notification{plural} non lue{plural} vous attend{'ent' if count > 1 else ''} "
        "dans Fil rouge :",
        "",
    ]
    for notification in unread:
        when = format_datetime(notification.created_at, time_zone)
        lines += [
            f"- {notification.kind_label}, le {when} : {notification.text}",
            f"  {base}{notification.link}",
        ]
    lines += [
        "",
        f"Toutes vos notifications : {base}/notifications",
        "Pour ne plus recevoir ce récapitulatif, décochez-le sur cette page.",
    ]
    queue_email(
        session=session,
        recipient=staff.email,
        subject=f"Fil rouge : {count} notification{plural} non lue{plural}",
        text="\n".join(lines),
        operator_id=staff.operator_id,
    )
