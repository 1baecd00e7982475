"""The trail's entries for signing in and out, called by the access services."""

from sqlmodel import Session

from app.models.audit import AuditAction
from app.models.staff import StaffUser
from app.services.audit.trail import record


def signed_in(session: Session, *, user: StaffUser, via: str) -> None:
    """A browser session (`via` = "staff_session") or an API token ("api_token") issued."""
    record(session, actor=user, action=AuditAction.LOGIN, record_type=via, record_id=user.id)


def signed_out(session: Session, *, user: StaffUser, via: str) -> None:
    record(session, actor=user, action=AuditAction.LOGOUT, record_type=via, record_id=user.id)


def sign_in_refused(session: Session, *, user: StaffUser | None) -> None:
    """A wrong password, API key or second-factor code: for the account tried when it exists
    (its operator's admins see it), for nobody otherwise. The e-mail typed is not kept."""
    record(
        session,
        actor=user,
        action=AuditAction.LOGIN_FAILED,
        record_type="staff_user" if user else "",
        record_id=user.id if user else None,
    )
