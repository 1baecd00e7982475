"""The national view for national observers: its page, its CSV/XLSX tables and its API endpoint.

No route here leads to a case or a person: every figure comes suppressed from the service."""

from datetime import datetime
from typing import Annotated, Literal

from fastapi import Query, Request
from sqlmodel import SQLModel

from app.core.errors import Invalid
from app.models.bounds import Day, OptionalYear
from app.routes.reports.activity import ActivityReportPublic
from app.services.reports.activity import SUMMARY
from app.services.reports.national import HIDDEN, national_report
from app.services.reports.tables import ActivityReport
from app.services.reports.views import dashboard, national_of, national_view
from app.web.api_errors import API_ERRORS
from app.web.deps import ApiStaff, CurrentStaff, ReadSessionDep, SessionDep
from app.web.exports import TABLE_DOWNLOADS, table_response
from app.web.forms import parse_form
from app.web.rendering import render
from app.web.routing import new_router

router = new_router(include_in_schema=False)
api_router = new_router(prefix="/api/v1", tags=["rapports"], responses=API_ERRORS)


class NationalReportPublic(ActivityReportPublic):
    counted_at: datetime  # when the figures were counted: the snapshot was taken

    @classmethod
    def of(cls, report: ActivityReport) -> "NationalReportPublic":
        return cls(**dict(ActivityReportPublic.of(report)), counted_at=report.counted_at)


class NationalFilters(SQLModel):
    """The national page's one filter: a calendar year (the current one by default)."""

    annee: OptionalYear = None


@router.get("/rapports/national")
def national_page(
    request: Request, session: SessionDep, reader: ReadSessionDep, user: CurrentStaff
):
    year, refused, errors = None, False, {}
    try:
        year = parse_form(NationalFilters, request.query_params).annee
    except Invalid as exc:
        refused, errors = True, exc.fields
    page = national_view(session=session, reader=reader, actor=user, year=year, refused=refused)
    report, errors = page.report, errors or page.errors
    form = dict(request.query_params)
    board = None
    if report is not None:
        form = {"annee": str(report.start.year), **form}
        board = dashboard(
            report,
            page.previous,
            path="/rapports/national",
            params=dict(request.query_params),
            tab=request.query_params.get("onglet"),
        )
    return render(
        request,
        "reports/national/report.html",
        {
            "report": report,
            "board": board,
            "form": form,
            "errors": errors,
            "years": [(year, str(year)) for year in page.years],
            "hidden": HIDDEN,
        },
    )


@router.get("/rapports/national/{section}.{fmt}")
def national_table(
    request: Request,
    session: SessionDep,
    reader: ReadSessionDep,
    user: CurrentStaff,
    section: str,
    fmt: str,
):
    year = parse_form(NationalFilters, request.query_params).annee
    report = national_of(session=session, reader=reader, actor=user, year=year)
    return table_response(report.table(section), fmt)


# ---- API -------------------------------------------------------------------------------------


@api_router.get("/reports/national", response_model=NationalReportPublic, responses=TABLE_DOWNLOADS)
def get_national_report(
    session: SessionDep,
    reader: ReadSessionDep,
    user: ApiStaff,
    start: Annotated[Day, Query(alias="from")],
    end: Annotated[Day, Query(alias="to")],
    format: Literal["json", "csv", "xlsx"] = "json",
    section: str = SUMMARY,
):
    """The activity report across operators for one calendar year (national observers):
    `from` must be its 1 January and `to` its 31 December, Paris days.

    The same sections as `/reports/activity`, plus `operateurs` (new cases and people served per
    operator). Counts from 1 to 10 are suppressed (null in JSON, « secret » in files), and so are
    the cells that would let them be worked out, and the shares and medians resting on them.

    The figures are those of the latest monthly snapshot, counted at `counted_at` (early on the
    1st; until then, the month before's): they change once a month, so that two readings never
    differ by one person."""
    report = national_report(session=session, reader=reader, actor=user, start=start, end=end)
    if format != "json":
        return table_response(report.table(section), format)
    return NationalReportPublic.of(report)
