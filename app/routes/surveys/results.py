"""Survey results: the managers' page with its tables and comments (CSV/XLSX, the comments
pseudonymised), a counsellor's own figures, and the API endpoint."""

from datetime import date
from typing import Annotated, Literal
from urllib.parse import urlencode

from fastapi import Query, Request
from pydantic import BaseModel
from sqlmodel import SQLModel

from app.core.errors import Invalid
from app.models.bounds import Day, OptionalYear, PageNumber
from app.routes.reports.activity import ActivityFilters
from app.services.audit import accesses
from app.services.reports.views import Period
from app.services.surveys.result_pages import (
    comments_table,
    own_results,
    results_of,
    results_view,
    survey_figures,
)
from app.web.api_errors import API_ERRORS
from app.web.deps import ApiCaseWorker, CaseWorker, ReadSessionDep, SessionDep
from app.web.export_purpose import export_reason
from app.web.exports import TABLE_DOWNLOADS, table_response
from app.web.forms import parse_form
from app.web.rendering import render
from app.web.routing import new_router

router = new_router(include_in_schema=False)
api_router = new_router(prefix="/api/v1", tags=["rapports"], responses=API_ERRORS)


# The same filters as the activity report page, which links here with its query.
ResultsFilters = ActivityFilters


def _asked(filters: ResultsFilters) -> dict:
    return {
        "asked": Period(filters.du, filters.au),
        "site_id": filters.lieu,
        "counsellor_id": filters.conseiller,
    }


def _filters_query(request: Request) -> str:
    """The filters of the page, for its downloads and its pages of comments."""
    return urlencode([(k, v) for k, v in request.query_params.multi_items() if k != "page"])


@router.get("/rapports/enquetes")
def results_page(request: Request, reader: ReadSessionDep, user: CaseWorker, page: PageNumber = 1):
    asked, errors = {"asked": None}, {}
    try:
        asked = _asked(parse_form(ResultsFilters, request.query_params))
    except Invalid as exc:
        errors = exc.fields
    view = results_view(session=reader, actor=user, page=page, **asked)
    results, errors = view.results, errors or view.errors
    form = dict(request.query_params)
    if results is not None:
        report = results.report
        form = {"du": report.start.isoformat(), "au": report.end.isoformat(), **form}
    return render(
        request,
        "surveys/results.html",
        {
            "results": results,
            "form": form,
            "errors": errors,
            "query": _filters_query(request),
            "sites": view.sites,
            "colleagues": view.colleagues,
        },
    )


@router.get("/rapports/enquetes/commentaires.{fmt}")
def comments_file(
    request: Request, session: SessionDep, reader: ReadSessionDep, user: CaseWorker, fmt: str
):
    """The people's own words, their names taken out: still personal data, so a purpose (the
    export is audited on the primary, read on the read database)."""
    asked = _asked(parse_form(ResultsFilters, request.query_params))
    table = comments_table(session=reader, actor=user, **asked)
    purpose = export_reason(request)  # once the reader is known to be allowed
    accesses.exported(session, actor=user, record_type="survey_comments", purpose=purpose)
    return table_response(table, fmt)


@router.get("/rapports/enquetes/{section}.{fmt}")
def results_table(
    request: Request, reader: ReadSessionDep, user: CaseWorker, section: str, fmt: str
):
    asked = _asked(parse_form(ResultsFilters, request.query_params))
    results = results_of(session=reader, actor=user, **asked)
    return table_response(results.report.table(section), fmt)


class OwnFilters(SQLModel):
    annee: OptionalYear = None


@router.get("/rapports/enquetes/mes-resultats")
def own_results_page(request: Request, reader: ReadSessionDep, user: CaseWorker):
    results, errors = None, {}
    try:
        year = parse_form(OwnFilters, request.query_params).annee
        results = own_results(session=reader, actor=user, year=year)
    except Invalid as exc:
        errors = exc.fields
    if errors:
        results = own_results(session=reader, actor=user, year=None)
    return render(
        request,
        "surveys/own_results.html",
        {
            "results": results,
            "errors": errors,
            "form": {"annee": str(results.year)},
            "years": [(year, str(year)) for year in results.years],
        },
    )


# ---- API -------------------------------------------------------------------------------------


class LevelFigures(BaseModel):
    invited: int
    answered: int
    rate: float | None
    share: float | None


class SatisfactionLevel(LevelFigures):
    satisfied: int


class UtilityLevel(LevelFigures):
    useful: int


class SatisfactionFigures(BaseModel):
    level_1: SatisfactionLevel
    level_2: SatisfactionLevel


class UtilityFigures(BaseModel):
    level_1: UtilityLevel
    level_2: UtilityLevel


class SurveyFiguresPublic(BaseModel):
    start: date
    end: date
    satisfaction: SatisfactionFigures
    utility: UtilityFigures


@api_router.get("/reports/surveys", response_model=SurveyFiguresPublic, responses=TABLE_DOWNLOADS)
def get_survey_figures(
    reader: ReadSessionDep,
    user: ApiCaseWorker,
    start: Annotated[Day, Query(alias="from")],
    end: Annotated[Day, Query(alias="to")],
    format: Literal["json", "csv", "xlsx"] = "json",
):
    """Satisfaction at the end of each level and utility six months later, for the surveys sent
    on the local days `from`..`to` (managers and operator admins).

    Per survey, per level: `invited` (surveys sent), `answered` (answers submitted, whenever),
    `satisfied` or `useful` (answers saying so), `rate` (answered per invited) and `share`
    (satisfied or useful per answer), both in percent to one decimal, null when there is
    nothing to divide by. `csv` and `xlsx` give the same figures as one table, a row per survey
    and level."""
    result = survey_figures(session=reader, actor=user, start=start, end=end)
    if format != "json":
        return table_response(result.report.table("enquetes"), format)
    return SurveyFiguresPublic(start=start, end=end, **result.figures)
