"""What « Messages » shows: the operator's recent messages, and the login alerts for those
who read them."""

from dataclasses import dataclass

from sqlmodel import Session

from app.models.nomenclatures import Role
from app.models.outbox import MessageStatus
from app.models.staff import StaffUser
from app.services.access.login_limits import LoginAlertRow, login_alerts, reads_login_alerts
from app.services.messaging.outbox import MessageRow, list_messages


@dataclass
class MessagesView:
    rows: list[MessageRow] | None  # None for system administrators, who have no outbox
    alerts: list[LoginAlertRow] | None  # None for those who are not told about them


def messages_view(
    *, session: Session, actor: StaffUser, status: MessageStatus | None = None
) -> MessagesView:
    # System administrators belong to no operator, hence have no outbox: the alerts only.
    rows = (
        None
        if actor.role == Role.SYSADMIN
        else list_messages(session=session, actor=actor, status=status)
    )
    alerts = login_alerts(session=session, actor=actor) if reads_login_alerts(actor) else None
    return MessagesView(rows=rows, alerts=alerts)
