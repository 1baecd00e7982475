"""France compétences' indicators by name (`GET /api/v1/reports/indicators`): an operator's for
its managers and administrators, every operator's for national observers (whole calendar
years, small counts suppressed)."""

from typing import Annotated, Any, Literal

from fastapi import Query

from app.core.tables import Table
from app.models.bounds import Day
from app.models.nomenclatures import Role
from app.services.reports.activity import activity_report
from app.services.reports.definitions import DEFINITIONS
from app.services.reports.indicator_keys import flattened, indicator_keys
from app.services.reports.national import HIDDEN, national_report
from app.services.reports.periods import check_period
from app.web.api_errors import API_ERRORS
from app.web.deps import ApiStaff, ReadSessionDep, SessionDep
from app.web.exports import TABLE_DOWNLOADS, table_response
from app.web.routing import new_router

api_router = new_router(prefix="/api/v1", tags=["rapports"], responses=API_ERRORS)
DESCRIPTION = """The indicators of the local days `from`..`to`: the operator's (managers and
operator administrators), or, for national observers, every operator's together and each one's
(`by_operator`), for one calendar year (`from` its 1 January, `to` its 31 December), with
counts from 1 to 10 and what would give them away as null (« secret » in files). Shares are
percentages, delays days. `csv` and `xlsx` give the same figures, one per line. At most three
years, none before 1 January 2020 (422).

""" + "\n".join(f"- `{d.key}` ({d.label}) : {d.meaning}" for d in DEFINITIONS)


@api_router.get(
    "/reports/indicators",
    response_model=dict[str, Any],
    responses=TABLE_DOWNLOADS,
    description=DESCRIPTION,
)
def get_indicators(
    session: SessionDep,
    reader: ReadSessionDep,
    user: ApiStaff,
    start: Annotated[Day, Query(alias="from")],
    end: Annotated[Day, Query(alias="to")],
    format: Literal["json", "csv", "xlsx"] = "json",
):
    check_period(start, end, national=True)  # at most three years, none before 2020
    if user.role == Role.NATIONAL_OBSERVER:
        report = national_report(session=session, reader=reader, actor=user, start=start, end=end)
    else:
        report = activity_report(session=reader, actor=user, start=start, end=end)
    figures = indicator_keys(report)
    if format == "json":
        return figures
    rows = [(key, HIDDEN if value is None else value) for key, value in flattened(figures)]
    filename = f"indicateurs-{report.operator_code}-{report.start}-{report.end}"
    return table_response(Table("Indicateurs", ["Indicateur", "Valeur"], rows, filename), format)
