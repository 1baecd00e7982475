"""The outbox as staff see it: recent messages of the operator, their state, a retry."""

from typing import Annotated, Literal

from fastapi import Query, Request
from fastapi.responses import RedirectResponse

from app.deps import CaseWorker, SessionDep
from app.models.nomenclatures import MessageStatus
from app.rendering import render
from app.routing import new_router
from app.services.outbox import list_messages, retry_message

router = new_router(prefix="/messages", include_in_schema=False)


@router.get("")
def messages_page(
    request: Request,
    session: SessionDep,
    user: CaseWorker,
    # "" is what the form's "Tous" option sends.
    status: Annotated[MessageStatus | Literal[""], Query()] = "",
):
    rows = list_messages(session=session, actor=user, status=status or None)
    return render(
        request,
        "messages/list.html",
        {"rows": rows, "status": status},
        fragment="messages/_partials/message_table.html",
    )


@router.post("/{message_id}/retry")
def retry(message_id: int, session: SessionDep, user: CaseWorker):
    retry_message(session=session, actor=user, message_id=message_id)
    return RedirectResponse("/messages", status_code=303)
