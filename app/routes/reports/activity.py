"""The activity report: its page with charts, its CSV/XLSX tables, and its API endpoint."""

from datetime import date
from typing import Annotated, Literal

from fastapi import Query, Request
from pydantic import BaseModel, ValidationInfo, field_validator
from sqlmodel import SQLModel

from app.core.errors import Invalid
from app.models.bounds import Day, OptionalDay, OptionalRowId
from app.services.reports.activity import SUMMARY, activity_report
from app.services.reports.periods import checked_end
from app.services.reports.tables import ActivityReport
from app.services.reports.views import Period, activity_of, activity_view, dashboard
from app.web.api_errors import API_ERRORS
from app.web.deps import ApiCaseWorker, CaseWorker, ReadSessionDep
from app.web.exports import TABLE_DOWNLOADS, table_response
from app.web.forms import parse_form
from app.web.rendering import render
from app.web.routing import new_router

router = new_router(include_in_schema=False)
api_router = new_router(prefix="/api/v1", tags=["rapports"], responses=API_ERRORS)


class ActivityFilters(SQLModel):
    """The filters of the report page, named as the GET form sends them."""

    du: OptionalDay = None
    au: OptionalDay = None
    lieu: OptionalRowId = None
    conseiller: OptionalRowId = None

    @field_validator("au")
    @classmethod
    def _not_before_start(cls, value: date | None, info: ValidationInfo) -> date | None:
        return checked_end(info.data.get("du"), value)


def _asked(filters: ActivityFilters) -> dict:
    """The service's keywords for the filters; a period left out is this year so far."""
    return {
        "asked": Period(filters.du, filters.au),
        "site_id": filters.lieu,
        "counsellor_id": filters.conseiller,
    }


@router.get("/rapports/activite")
def activity_page(request: Request, reader: ReadSessionDep, user: CaseWorker):
    asked, errors = {"asked": None}, {}
    try:
        asked = _asked(parse_form(ActivityFilters, request.query_params))
    except Invalid as exc:
        errors = exc.fields
    page = activity_view(session=reader, actor=user, **asked)
    report, errors = page.report, errors or page.errors
    form = dict(request.query_params)
    board = None
    if report is not None:
        form = {"du": report.start.isoformat(), "au": report.end.isoformat(), **form}
        board = dashboard(
            report,
            page.previous,
            path="/rapports/activite",
            params=dict(request.query_params),
            tab=request.query_params.get("onglet"),
        )
    return render(
        request,
        "reports/activity/report.html",
        {
            "report": report,
            "board": board,
            "form": form,
            "errors": errors,
            "query": board.query if board else "",
            "sites": page.sites,
            "colleagues": page.colleagues,
        },
    )


@router.get("/rapports/activite/{section}.{fmt}")
def activity_table(
    request: Request, reader: ReadSessionDep, user: CaseWorker, section: str, fmt: str
):
    asked = _asked(parse_form(ActivityFilters, request.query_params))
    report = activity_of(session=reader, actor=user, **asked)
    return table_response(report.table(section), fmt)


# ---- API -------------------------------------------------------------------------------------


class SectionPublic(BaseModel):
    key: str
    title: str
    columns: list[str]
    rows: list[list[str | int | float | None]]


class ActivityReportPublic(BaseModel):
    start: date
    end: date
    sections: list[SectionPublic]

    @classmethod
    def of(cls, report: ActivityReport) -> "ActivityReportPublic":
        """Shares and medians as plain floats; a suppressed cell (national view) as null."""
        sections = [
            SectionPublic(key=s.key, title=s.title, columns=s.columns, rows=s.plain_rows())
            for s in report.sections
        ]
        return cls(start=report.start, end=report.end, sections=sections)


@api_router.get("/reports/activity", response_model=ActivityReportPublic, responses=TABLE_DOWNLOADS)
def get_activity_report(
    reader: ReadSessionDep,
    user: ApiCaseWorker,
    start: Annotated[Day, Query(alias="from")],
    end: Annotated[Day, Query(alias="to")],
    format: Literal["json", "csv", "xlsx"] = "json",
    section: str = SUMMARY,
    site_id: OptionalRowId = None,
    counsellor_id: OptionalRowId = None,
):
    """The activity report for the local days `from`..`to` (managers and operator admins).

    JSON gives every section; `csv` and `xlsx` give one table, chosen by `section`: `synthese`
    (default), `entrees`, `unites`, `actes`, `profil-sexe`, `profil-age`, `profil-emploi`,
    `profil-pcs`, `profil-naf`, `profil-taille`, `profil-diplome`, `profil-rqth`, `accueil`,
    `orientations`, `rendez-vous`, `delai` (median days from the first contact to the first
    appointment not cancelled, with the number of cases it rests on) or `enquetes` (the
    satisfaction and utility surveys sent in the period, per level: see `/reports/surveys`)."""
    report = activity_report(
        session=reader,
        actor=user,
        start=start,
        end=end,
        site_id=site_id,
        counsellor_id=counsellor_id,
    )
    if format != "json":
        return table_response(report.table(section), format)
    return ActivityReportPublic.of(report)
