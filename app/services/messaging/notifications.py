"""In-app notifications: the services where something happens to a counsellor's work tell
them (`notify`); the header counts what they have not read, « Notifications » lists it."""

from dataclasses import dataclass

from sqlalchemy import update
from sqlmodel import Session, col, func, select

from app.core.errors import NotFound
from app.models.base import utcnow
from app.models.beneficiaries import Beneficiary
from app.models.cases import Case
from app.models.notifications import Notification, NotificationKind
from app.models.staff import StaffUser
from app.services.access.scope import get_owned, operator_of, owned_by


def notify(
    *,
    session: Session,
    operator_id: int,
    recipient_id: int | None,
    kind: NotificationKind,
    text: str,
    link: str,
    case_id: int | None = None,
    actor_id: int | None = None,
    recipient_checked: bool = False,
) -> Notification | None:
    """Tell `recipient_id` what happened, unless nobody is to be told or they did it
    themselves (`actor_id`): nobody is notified of their own action. `recipient_checked`: the
    caller has just read them as an active account of the operator (not read again)."""
    if recipient_id is None or recipient_id == actor_id:
        return None
    # An account gone or moved to another operator is told nothing about this one's cases.
    if not recipient_checked and not _may_be_told(session, recipient_id, operator_id):
        return None
    notification = Notification(
        operator_id=operator_id,
        recipient_id=recipient_id,
        kind=kind.value,
        text=text[:500],
        link=link,
        case_id=case_id,
    )
    session.add(notification)
    session.flush()
    return notification


def _may_be_told(session: Session, recipient_id: int, operator_id: int) -> bool:
    recipient = get_owned(session, StaffUser, recipient_id, operator_id)
    return recipient is not None and recipient.active


def case_follower(case: Case, fallback_id: int | None = None) -> int | None:
    """Who is told about a case: its referent, or `fallback_id` (who started the work)."""
    return case.referent_id or fallback_id


def _mine(actor: StaffUser) -> list:
    return [
        owned_by(Notification, operator_of(actor)),
        Notification.recipient_id == actor.id,
    ]


def unread_count(*, session: Session, actor: StaffUser) -> int:
    """How many notifications the actor has not read: one COUNT for the header."""
    return session.exec(
        select(func.count())
        .select_from(Notification)
        .where(*_mine(actor), col(Notification.read_at).is_(None))
    ).one()


@dataclass(frozen=True)
class NotificationRow:
    notification: Notification
    person: str  # the case's beneficiary, "" when the notification is about no case


def list_notifications(
    *, session: Session, actor: StaffUser, offset: int = 0, limit: int = 50
) -> list[NotificationRow]:
    """The actor's notifications, newest first, with the name of the person each is about."""
    query = (
        select(Notification, Beneficiary)
        .outerjoin(Case, col(Case.id) == Notification.case_id)
        .outerjoin(Beneficiary, col(Beneficiary.id) == Case.beneficiary_id)
        .where(*_mine(actor))
        .order_by(col(Notification.created_at).desc(), col(Notification.id).desc())
        .offset(offset)
        .limit(limit)
    )
    return [
        NotificationRow(notification, beneficiary.full_name if beneficiary else "")
        for notification, beneficiary in session.exec(query)
    ]


def count_notifications(*, session: Session, actor: StaffUser) -> int:
    return session.exec(select(func.count()).select_from(Notification).where(*_mine(actor))).one()


def open_notification(*, session: Session, actor: StaffUser, notification_id: int) -> str:
    """Mark one of the actor's notifications read and give the page it leads to; anyone
    else's, even a colleague's, is NotFound."""
    notification = session.exec(
        select(Notification).where(*_mine(actor), Notification.id == notification_id)
    ).first()
    if notification is None:
        raise NotFound("Notification introuvable.")
    if notification.read_at is None:
        notification.read_at = utcnow()
        session.add(notification)
        session.flush()
    return notification.link


def mark_all_read(*, session: Session, actor: StaffUser) -> int:
    """« Tout marquer comme lu »: how many were unread."""
    result = session.execute(
        update(Notification)
        .where(*_mine(actor), col(Notification.read_at).is_(None))
        .values(read_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    return result.rowcount
