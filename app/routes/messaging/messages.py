"""« Messages »: the operator's outbox as staff see it (recent messages, their state, a retry),
and the login alerts for administrators."""

from typing import Annotated, Literal

from fastapi import Query, Request
from fastapi.responses import RedirectResponse

from app.models.bounds import RowId
from app.models.nomenclatures import Role
from app.models.outbox import MessageStatus
from app.services.access.login_limits import login_alerts, reads_login_alerts
from app.services.messaging.outbox import list_messages, retry_message
from app.web.deps import CaseWorker, CurrentStaff, SessionDep
from app.web.rendering import render
from app.web.routing import new_router

router = new_router(prefix="/messages", include_in_schema=False)


@router.get("")
def messages_page(
    request: Request,
    session: SessionDep,
    user: CurrentStaff,
    # "" is what the form's "Tous" option sends.
    status: Annotated[MessageStatus | Literal[""], Query()] = "",
):
    # System administrators belong to no operator, hence have no outbox: the alerts only.
    if user.role == Role.SYSADMIN:
        rows = None
    else:
        rows = list_messages(session=session, actor=user, status=status or None)
    alerts = login_alerts(session=session, actor=user) if reads_login_alerts(user) else None
    return render(
        request,
        "messaging/messages/list.html",
        {"rows": rows, "status": status, "alerts": alerts},
        fragment="messaging/messages/_partials/message_table.html",
    )


@router.post("/{message_id}/retry")
def retry(message_id: RowId, session: SessionDep, user: CaseWorker):
    retry_message(session=session, actor=user, message_id=message_id)
    return RedirectResponse("/messages", status_code=303)
