"""« Journal des accès »: the operator's audit trail, filtered, for its administrators, and its
export as CSV (an export recorded in the trail itself)."""

from typing import Annotated
from urllib.parse import quote, urlencode

from fastapi import Query, Request
from fastapi.responses import StreamingResponse

from app.core.dates import format_datetime
from app.core.tables import Table, csv_chunks
from app.models.audit import AuditAction
from app.models.bounds import OptionalDay, OptionalRowId, PageNumber
from app.services.audit import accesses
from app.services.audit.journal import (
    TrailFilters,
    trail_lines,
    trail_operator,
    trail_page,
)
from app.web.deps import CurrentStaff, SessionDep, StreamingSessionDep
from app.web.export_purpose import export_reason
from app.web.rendering import render
from app.web.routing import new_router

router = new_router(include_in_schema=False)

PersonTyped = Annotated[str, Query(max_length=100)]
ActionCode = Annotated[str, Query(max_length=20)]
COLUMNS = ("Date et heure", "Qui", "Rôle", "Action", "Quoi", "N° de l'élément", "Personne",
           "N° de la personne", "Origine (IP)", "Motif")  # fmt: skip


def _filters(personne, agent, du, au, action) -> TrailFilters:
    return TrailFilters(person=personne.strip(), staff_id=agent, start=du, end=au, action=action)


@router.get("/admin/journal")
def journal_page(
    request: Request,
    session: SessionDep,
    user: CurrentStaff,
    personne: PersonTyped = "",
    agent: OptionalRowId = None,
    du: OptionalDay = None,
    au: OptionalDay = None,
    action: ActionCode = "",
    page: PageNumber = 1,
):
    filters = _filters(personne, agent, du, au, action)
    view = trail_page(session=session, actor=user, filters=filters, page=page)
    query = filters.query
    return render(
        request,
        "admin/journal/journal.html",
        {
            "view": view,
            "actions": AuditAction.choices(),
            "form": {**query, "agent": str(agent or "")},
            "errors": {},
            "export_query": urlencode(query),
            "previous_href": _page_href(query, page - 1) if page > 1 else None,
            "next_href": _page_href(query, page + 1) if view.has_next else None,
        },
    )


def _page_href(query: dict[str, str], page: int) -> str:
    return "/admin/journal?" + urlencode({**query, "page": str(page)} if page > 1 else query)


@router.get("/admin/journal.csv")
def journal_export(
    request: Request,
    session: SessionDep,
    reader: StreamingSessionDep,
    user: CurrentStaff,
    personne: PersonTyped = "",
    agent: OptionalRowId = None,
    du: OptionalDay = None,
    au: OptionalDay = None,
    action: ActionCode = "",
):
    filters = _filters(personne, agent, du, au, action)
    operator = trail_operator(session=session, actor=user)
    purpose = export_reason(request)  # once the reader is known to be an admin
    accesses.exported(session, actor=user, record_type="audit_trail", purpose=purpose)
    lines = trail_lines(reader=reader, actor=user, operator=operator, filters=filters)
    rows = (
        (
            format_datetime(line.event.at, operator.time_zone),
            line.who,
            line.role,
            line.event.action_label,
            line.kind,
            line.event.record_id,
            line.person,
            line.event.beneficiary_id,
            line.event.ip,
            line.event.reason or "",
        )
        for line in lines
    )
    filename = f"journal-des-acces-{operator.code}"
    table = Table(title="Journal des accès", columns=COLUMNS, rows=rows, filename=filename)
    headers = {
        "Content-Disposition": f"attachment; filename*=UTF-8''{quote(filename)}.csv",
        "Cache-Control": "no-store",
    }
    return StreamingResponse(
        csv_chunks(table), media_type="text/csv; charset=utf-8", headers=headers
    )
