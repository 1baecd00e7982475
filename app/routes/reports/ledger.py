"""The unit ledger (état de service fait): page, drill-down to the cases, downloads and API."""

from datetime import date
from decimal import Decimal
from typing import Annotated, Literal
from urllib.parse import urlencode

from fastapi import Query, Request
from pydantic import BaseModel, ValidationInfo, field_validator
from sqlmodel import SQLModel

from app.core.errors import Invalid
from app.models.bounds import Day, OptionalDay, OptionalRowId, RowId
from app.services.audit import accesses
from app.services.reports.ledger import Ledger, ledger_cases_table, ledger_table, unit_ledger
from app.services.reports.periods import checked_end
from app.services.reports.views import (
    Period,
    ledger_drill_down,
    ledger_of,
    ledger_view,
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

PAGE = "/rapports/etat-de-service"
Format = Literal["csv", "xlsx"]


class LedgerFilters(SQLModel):
    """The ledger's filters, named as the GET form sends them; no period means last month."""

    du: OptionalDay = None
    au: OptionalDay = None
    lieu: OptionalRowId = None
    preuves: Literal["completes", "incompletes", ""] = ""
    # A drill-down from a market's line: its episodes only.
    marche: OptionalRowId = None

    @field_validator("au")
    @classmethod
    def _not_before_start(cls, value: date | None, info: ValidationInfo) -> date | None:
        return checked_end(info.data.get("du"), value)

    @property
    def complete(self) -> bool | None:
        return {"completes": True, "incompletes": False}.get(self.preuves)


def _filters(request: Request) -> tuple[LedgerFilters, Period]:
    """The filters; a period left out is the operator's previous calendar month."""
    filters = parse_form(LedgerFilters, request.query_params)
    return filters, Period(filters.du, filters.au)


def _query(start: date, end: date, site_id: int | None, **extra) -> str:
    params = {"du": start.isoformat(), "au": end.isoformat(), "lieu": site_id or "", **extra}
    return urlencode({key: value for key, value in params.items() if value not in ("", None)})


@router.get(PAGE)
def ledger_page(request: Request, reader: ReadSessionDep, user: CaseWorker):
    asked, site_id, errors = None, None, {}
    try:
        filters, asked = _filters(request)
        site_id = filters.lieu
    except Invalid as exc:
        errors = exc.fields
    page = ledger_view(session=reader, actor=user, asked=asked, site_id=site_id)
    ledger = page.ledger
    form = dict(request.query_params)
    if ledger is not None:
        form = {"du": ledger.start.isoformat(), "au": ledger.end.isoformat()} | form
    return render(
        request,
        "reports/ledger/ledger.html",
        {
            "ledger": ledger,
            "query": _query(ledger.start, ledger.end, ledger.site_id) if ledger else "",
            "form": form,
            "errors": errors,
            "sites": page.sites,
        },
        fragment="reports/ledger/_partials/ledger_results.html",
    )


@router.get(PAGE + ".{fmt}")
def ledger_download(request: Request, reader: ReadSessionDep, user: CaseWorker, fmt: Format):
    filters, asked = _filters(request)
    ledger = ledger_of(session=reader, actor=user, asked=asked, site_id=filters.lieu)
    return table_response(ledger_table(ledger), fmt)


@router.get(PAGE + "/{unit_id:int}")
def ledger_cases_page(request: Request, reader: ReadSessionDep, user: CaseWorker, unit_id: RowId):
    filters, asked = _filters(request)
    found = ledger_drill_down(
        session=reader,
        actor=user,
        unit_id=unit_id,
        asked=asked,
        site_id=filters.lieu,
        complete=filters.complete,
        market_id=filters.marche,
    )
    start, end = found.start, found.end
    market = {"marche": filters.marche} if filters.marche else {}
    return render(
        request,
        "reports/ledger/cases.html",
        {
            "unit": found.unit,
            "rows": found.rows,
            "total": found.total,
            "start": start,
            "end": end,
            "preuves": filters.preuves,
            "query": _query(start, end, filters.lieu, preuves=filters.preuves, **market),
            "ledger_query": _query(start, end, filters.lieu),
            "time_zone": found.time_zone,
        },
    )


@router.get(PAGE + "/{unit_id:int}.{fmt}")
def ledger_cases_download(
    request: Request,
    session: SessionDep,
    reader: ReadSessionDep,
    user: CaseWorker,
    unit_id: RowId,
    fmt: Format,
):
    """The cases behind a unit's line, with the people's names: an export with a purpose."""
    filters, asked = _filters(request)
    found = ledger_drill_down(
        session=reader,
        actor=user,
        unit_id=unit_id,
        asked=asked,
        site_id=filters.lieu,
        complete=filters.complete,
        market_id=filters.marche,
        limit=None,
    )
    table = ledger_cases_table(
        found.unit,
        found.rows,
        start=found.start,
        end=found.end,
        time_zone=found.time_zone,
        heading=found.heading,
    )
    # Asked once the reader is known to be allowed: others get their 403 or 404, not the form.
    purpose = export_reason(request)
    accesses.exported(
        session, actor=user, record_type="ledger_cases", record_id=unit_id, purpose=purpose
    )
    return table_response(table, fmt)


# ---- API ------------------------------------------------------------------------------------


class LedgerLinePublic(BaseModel):
    unit_id: int
    code: str
    label: str
    billable: bool
    delivered: int
    proof_complete: int
    proof_incomplete: int
    billable_count: int
    # The market the episodes started under; none for those started under no lot.
    market: str | None = None
    # Billable units at the price in force in the lot at each episode's start, exact (a
    # decimal string, e.g. "1234.50"), and how many had no price in their lot.
    amount: Decimal = Decimal("0.00")
    unpriced: int = 0
    # Units France compétences found not conform in a closed control, and their amount.
    refactions: int = 0
    refaction_amount: Decimal = Decimal("0.00")


class LedgerTotalsPublic(BaseModel):
    delivered: int
    proof_complete: int
    proof_incomplete: int
    billable_count: int
    amount: Decimal = Decimal("0.00")
    unpriced: int = 0
    refactions: int = 0
    refaction_amount: Decimal = Decimal("0.00")


class LedgerMonthPublic(BaseModel):
    """What one calendar month bills under one market (episodes ended that month)."""

    month: date  # its first day
    market: str | None
    billable_count: int
    amount: Decimal
    unpriced: int


class LedgerPublic(BaseModel):
    """Units delivered = episodes ended in the period, in the operator's time zone."""

    start: date
    end: date
    time_zone: str
    units: list[LedgerLinePublic]
    totals: LedgerTotalsPublic
    months: list[LedgerMonthPublic] = []


def _ledger_out(ledger: Ledger) -> LedgerPublic:
    totals = ledger.totals
    return LedgerPublic(
        start=ledger.start,
        end=ledger.end,
        time_zone=ledger.time_zone,
        units=[
            LedgerLinePublic(
                unit_id=line.unit_id,
                code=line.code,
                label=line.label,
                billable=line.billable,
                delivered=line.delivered,
                proof_complete=line.complete,
                proof_incomplete=line.incomplete,
                billable_count=line.billable_count,
                market=line.market_name or None,
                amount=_cents(line.amount),
                unpriced=line.unpriced,
                refactions=line.refactions,
                refaction_amount=_cents(line.refaction_amount),
            )
            for line in ledger.lines
        ],
        totals=LedgerTotalsPublic(
            delivered=totals.delivered,
            proof_complete=totals.complete,
            proof_incomplete=totals.incomplete,
            billable_count=totals.billable_count,
            amount=_cents(totals.amount),
            unpriced=totals.unpriced,
            refactions=totals.refactions,
            refaction_amount=_cents(totals.refaction_amount),
        ),
        months=[
            LedgerMonthPublic(
                month=month.month,
                market=month.market_name or None,
                billable_count=month.billable_count,
                amount=_cents(month.amount),
                unpriced=month.unpriced,
            )
            for month in ledger.months
        ],
    )


def _cents(value: Decimal) -> Decimal:
    return value.quantize(Decimal("0.01"))


@api_router.get("/ledger", response_model=LedgerPublic, responses=TABLE_DOWNLOADS)
def get_ledger(
    reader: ReadSessionDep,
    user: ApiCaseWorker,
    start: Annotated[Day, Query(alias="from")],
    end: Annotated[Day, Query(alias="to")],
    format: Literal["json", "csv", "xlsx"] = "json",
):
    """The unit ledger (état de service fait): managers and operator admins only."""
    ledger = unit_ledger(session=reader, actor=user, start=start, end=end)
    if format == "json":
        return _ledger_out(ledger)
    return table_response(ledger_table(ledger), format)
