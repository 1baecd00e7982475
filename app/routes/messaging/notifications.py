"""« Notifications »: what happened on the counsellor's work, newest first; opening one marks
it read and leads to it, « Tout marquer comme lu » clears the header's count."""

from dataclasses import replace

from fastapi import Request
from fastapi.responses import RedirectResponse

from app.models.bounds import PageNumber, RowId
from app.routes.desk.home import PAGE_ROWS, Pager
from app.services.messaging.digests import digest_subscribed, set_digest
from app.services.messaging.notifications import (
    count_notifications,
    list_notifications,
    mark_all_read,
    open_notification,
)
from app.web.deps import CaseWorker, SessionDep, SubmittedForm
from app.web.rendering import render
from app.web.routing import new_router

router = new_router(prefix="/notifications", include_in_schema=False)
PATH = "/notifications"


@router.get("")
def notifications_page(
    request: Request, session: SessionDep, user: CaseWorker, page: PageNumber = 1
):
    pager = Pager(page)
    rows = list_notifications(session=session, actor=user, offset=pager.offset, limit=PAGE_ROWS)
    total = count_notifications(session=session, actor=user)
    return render(
        request,
        "messaging/notifications/list.html",
        {
            "rows": rows,
            "pager": replace(pager, total=total),
            "path": PATH,
            "digest": digest_subscribed(session=session, actor=user),
        },
    )


@router.post("/{notification_id}/ouvrir")
def open_one(notification_id: RowId, session: SessionDep, user: CaseWorker):
    link = open_notification(session=session, actor=user, notification_id=notification_id)
    return RedirectResponse(link, status_code=303)


@router.post("/tout-lu")
def mark_all(session: SessionDep, user: CaseWorker):
    mark_all_read(session=session, actor=user)
    return RedirectResponse(PATH, status_code=303)


@router.post("/recapitulatif")
def digest_choice(session: SessionDep, user: CaseWorker, form: SubmittedForm):
    """The daily e-mail: asked for when the box is ticked, stopped otherwise."""
    set_digest(session=session, actor=user, subscribed=form.get("daily") == "1")
    return RedirectResponse(PATH, status_code=303)
