"""The national view for national observers: its page, its CSV/XLSX tables and its API endpoint.

No route here leads to a case or a person: every figure comes suppressed from the service."""

from datetime import date
from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request
from sqlmodel import SQLModel

from app.deps import ApiStaff, CurrentStaff, SessionDep
from app.errors import Invalid
from app.exports import table_response
from app.forms import parse_form
from app.models.fields import OptionalDay, OptionalRowId
from app.rendering import render
from app.routes.activity import ActivityReportPublic
from app.routes.api import API_ERRORS
from app.services.activity import SUMMARY
from app.services.national import (
    HIDDEN,
    default_national_period,
    list_operators,
    national_report,
)
from app.services.report_tables import ActivityReport

router = APIRouter(include_in_schema=False)
api_router = APIRouter(prefix="/api/v1", tags=["rapports"], responses=API_ERRORS)


class NationalFilters(SQLModel):
    """The filters of the national page, named as the GET form sends them."""

    du: OptionalDay = None
    au: OptionalDay = None
    operateur: OptionalRowId = None


def _report(session, user, filters: NationalFilters) -> ActivityReport:
    first, today = default_national_period()
    return national_report(
        session=session,
        actor=user,
        start=filters.du or first,
        end=filters.au or today,
        operator_id=filters.operateur,
    )


@router.get("/rapports/national")
def national_page(request: Request, session: SessionDep, user: CurrentStaff):
    operators = list_operators(session=session, actor=user)  # refuses anyone but observers
    report, errors = None, {}
    try:
        report = _report(session, user, parse_form(NationalFilters, request.query_params))
    except Invalid as exc:
        errors = exc.fields
    form = dict(request.query_params)
    if report is not None:
        form = {"du": report.start.isoformat(), "au": report.end.isoformat(), **form}
    return render(
        request,
        "national/report.html",
        {
            "report": report,
            "form": form,
            "errors": errors,
            "query": request.url.query,
            "operators": operators,
            "hidden": HIDDEN,
        },
    )


@router.get("/rapports/national/{section}.{fmt}")
def national_table(
    request: Request, session: SessionDep, user: CurrentStaff, section: str, fmt: str
):
    report = _report(session, user, parse_form(NationalFilters, request.query_params))
    return table_response(report.table(section), fmt)


# ---- API -------------------------------------------------------------------------------------


@api_router.get("/reports/national", response_model=ActivityReportPublic)
def get_national_report(
    session: SessionDep,
    user: ApiStaff,
    start: Annotated[date, Query(alias="from")],
    end: Annotated[date, Query(alias="to")],
    format: Literal["json", "csv", "xlsx"] = "json",
    section: str = SUMMARY,
    operator_id: Annotated[int | None, Query(ge=1)] = None,
):
    """The activity report across operators, for the Paris days `from`..`to` (national observers).

    The same sections as `/reports/activity`, plus `operateurs` (new cases and people served per
    operator). Counts from 1 to 10 are suppressed (null in JSON, « secret » in files), and so are
    the cells that would let them be worked out, and the shares and medians resting on them."""
    report = national_report(
        session=session, actor=user, start=start, end=end, operator_id=operator_id
    )
    if format != "json":
        return table_response(report.table(section), format)
    return ActivityReportPublic.of(report)
