"""« Messages »: the operator's outbox as staff see it (recent messages, their state, a retry),
and the login alerts for administrators."""

from typing import Annotated, Literal

from fastapi import Query, Request
from fastapi.responses import RedirectResponse

from app.models.bounds import RowId
from app.models.outbox import MessageStatus
from app.services.messaging.outbox import retry_message
from app.services.messaging.views import messages_view
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
    found = messages_view(session=session, actor=user, status=status or None)
    return render(
        request,
        "messaging/messages/list.html",
        {"rows": found.rows, "status": status, "alerts": found.alerts},
        fragment="messaging/messages/_partials/message_table.html",
    )


@router.post("/{message_id}/retry")
def retry(message_id: RowId, session: SessionDep, user: CaseWorker):
    retry_message(session=session, actor=user, message_id=message_id)
    return RedirectResponse("/messages", status_code=303)
