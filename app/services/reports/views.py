"""What the report pages show: the ledger and its drill-down over a period that defaults to last
month, the activity report over this year so far, the national view of one calendar year —
with what their filters choose from. A refused period comes back as the form's field messages."""

from dataclasses import dataclass, field
from datetime import date
from urllib.parse import urlencode

from sqlmodel import Session

from app.core.dates import local_today
from app.core.errors import Invalid
from app.core.tables import table_heading
from app.models.catalogue import ServiceUnit
from app.models.markets import Market
from app.models.operators import Operator, Site
from app.models.staff import StaffUser
from app.services.access.scope import operator_of
from app.services.admin.operators import list_sites, time_zone_of
from app.services.admin.staff import Colleague, list_colleagues
from app.services.reports.activity import TABS, activity_report, default_period, tab_of
from app.services.reports.bands import UNKNOWN
from app.services.reports.definitions import DEFINITIONS
from app.services.reports.headings import filters_label
from app.services.reports.key_figures import KeyFigure, key_figures
from app.services.reports.ledger import (
    DRILL_DOWN_LIMIT,
    LEDGER_TITLE,
    Ledger,
    LedgerCase,
    ledger_cases,
    previous_month,
    unit_ledger,
)
from app.services.reports.national import current_year, national_report, year_bounds, years
from app.services.reports.tables import ActivityReport, Section, plain

# ---- the ledger ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Period:
    """The days asked for; either end left out takes its default."""

    start: date | None = None
    end: date | None = None


def ledger_period(*, session: Session, actor: StaffUser, asked: Period) -> tuple[date, date]:
    """The ledger's period: by default the operator's previous calendar month."""
    today = local_today(time_zone_of(session=session, operator_id=operator_of(actor)))
    default_start, default_end = previous_month(today)
    return asked.start or default_start, asked.end or default_end


def ledger_of(
    *, session: Session, actor: StaffUser, asked: Period, site_id: int | None = None
) -> Ledger:
    start, end = ledger_period(session=session, actor=actor, asked=asked)
    return unit_ledger(session=session, actor=actor, start=start, end=end, site_id=site_id)


@dataclass
class LedgerView:
    ledger: Ledger | None  # None when the filters were refused
    sites: list[Site]


def ledger_view(
    *, session: Session, actor: StaffUser, asked: Period | None, site_id: int | None = None
) -> LedgerView:
    """The page for the period asked for; None when the filters were refused (the form is
    shown again with its messages, and nothing is counted)."""
    ledger = (
        ledger_of(session=session, actor=actor, asked=asked, site_id=site_id)
        if asked is not None
        else None
    )
    return LedgerView(ledger, list_sites(session=session, operator_id=operator_of(actor)))


@dataclass
class LedgerDrillDown:
    """The episodes behind one ledger line."""

    unit: ServiceUnit
    rows: list[LedgerCase]
    total: int
    start: date
    end: date
    time_zone: str  # the operator's
    heading: str = ""  # the download's title row: operator, filters, period, unit


def ledger_drill_down(
    *,
    session: Session,
    actor: StaffUser,
    unit_id: int,
    asked: Period,
    site_id: int | None = None,
    complete: bool | None = None,
    market_id: int | None = None,
    limit: int | None = DRILL_DOWN_LIMIT,
) -> LedgerDrillDown:
    start, end = ledger_period(session=session, actor=actor, asked=asked)
    unit, rows, total = ledger_cases(
        session=session,
        actor=actor,
        unit_id=unit_id,
        start=start,
        end=end,
        site_id=site_id,
        complete=complete,
        market_id=market_id,
        limit=limit,
    )
    operator = session.get(Operator, operator_of(actor))
    filters = [filters_label(session=session, operator_id=operator.id, site_id=site_id)]
    market = session.get(Market, market_id) if market_id is not None else None
    filters.append(market.name if market else "")
    if complete is not None:
        filters.append("preuves complètes" if complete else "preuves incomplètes")
    heading = table_heading(
        label=LEDGER_TITLE,
        operator=operator.name,
        filters=", ".join(part for part in filters if part),
        start=start,
        end=end,
        title=f"{unit.code} {unit.label}",
    )
    return LedgerDrillDown(unit, rows, total, start, end, operator.time_zone, heading)


# ---- the activity report ------------------------------------------------------------------


def activity_of(
    *,
    session: Session,
    actor: StaffUser,
    asked: Period,
    site_id: int | None = None,
    counsellor_id: int | None = None,
) -> ActivityReport:
    """The activity report; by default from 1 January to today, in the operator's zone."""
    first, today = default_period(session=session, actor=actor)
    return activity_report(
        session=session,
        actor=actor,
        start=asked.start or first,
        end=asked.end or today,
        site_id=site_id,
        counsellor_id=counsellor_id,
    )


@dataclass
class ActivityView:
    report: ActivityReport | None  # None when the filters or the period were refused
    sites: list[Site]
    colleagues: list[Colleague]
    errors: dict[str, str] = field(default_factory=dict)  # why, by field
    previous: ActivityReport | None = None  # the same period and filters a year before


def activity_view(
    *,
    session: Session,
    actor: StaffUser,
    asked: Period | None,
    site_id: int | None = None,
    counsellor_id: int | None = None,
) -> ActivityView:
    report, previous, errors = None, None, {}
    filters = {"site_id": site_id, "counsellor_id": counsellor_id}
    if asked is not None:
        try:
            report = activity_of(session=session, actor=actor, asked=asked, **filters)
        except Invalid as exc:
            errors = exc.fields
    if report is not None:
        before = Period(year_before(report.start), year_before(report.end))
        previous = activity_of(session=session, actor=actor, asked=before, **filters)
    operator_id = operator_of(actor)
    return ActivityView(
        previous=previous,
        report=report,
        sites=list_sites(session=session, operator_id=operator_id),
        colleagues=list_colleagues(session=session, operator_id=operator_id),
        errors=errors,
    )


# ---- the national view --------------------------------------------------------------------


def national_of(
    *, session: Session, actor: StaffUser, year: int | None, reader: Session | None = None
) -> ActivityReport:
    """The national view of a calendar year, the current one by default (see national_report
    for the two sessions)."""
    start, end = year_bounds(year or current_year())
    return national_report(session=session, actor=actor, start=start, end=end, reader=reader)


@dataclass
class NationalView:
    years: list[int]  # the years that may be read, the latest first
    report: ActivityReport | None  # None when the year was refused
    errors: dict[str, str] = field(default_factory=dict)
    previous: ActivityReport | None = None  # the year before, when it may be read


def national_view(
    *,
    session: Session,
    actor: StaffUser,
    year: int | None,
    refused: bool = False,
    reader: Session | None = None,
) -> NationalView:
    """The page for `year`; `refused` when the form could not be read (nothing is counted)."""
    reader = reader or session
    choices = years(session=reader, actor=actor)  # refuses anyone but observers
    report, previous, errors = None, None, {}
    sessions = {"session": session, "reader": reader}
    if not refused:
        try:
            report = national_of(**sessions, actor=actor, year=year)
        except Invalid as exc:
            errors = exc.fields
    if report is not None and report.start.year - 1 in choices:
        previous = national_of(**sessions, actor=actor, year=report.start.year - 1)
    return NationalView(years=choices, report=report, errors=errors, previous=previous)


# ---- the dashboards -------------------------------------------------------------------------


@dataclass
class Dashboard:
    """What a report page shows above and in its open tab."""

    figures: list[KeyFigure]
    previous_label: str  # « la même période un an plus tôt », or empty without comparison
    definitions: tuple
    tabs: list[tuple[str, str, str]]  # (key, label, url)
    tab: str
    sections: list[Section]  # the open tab's
    coverage_map: dict[str, float | None]  # département → share (%), None when suppressed
    query: str  # the filters, for the download links


def dashboard(
    report: ActivityReport,
    previous: ActivityReport | None,
    *,
    path: str,
    params: dict,
    tab: str | None,
) -> Dashboard:
    """The page of `report` with the tab asked for (the first one by default)."""
    keys = [key for key, _, _ in TABS]
    tab = tab if tab in keys else keys[0]
    filters = {name: value for name, value in params.items() if name != "onglet"}
    query = urlencode(filters)
    tabs = [
        (key, label, f"{path}?{urlencode({**filters, 'onglet': key})}") for key, label, _ in TABS
    ]
    shown = [section for section in report.sections if tab_of(section.key) == tab]
    return Dashboard(
        figures=key_figures(report, previous),
        previous_label="la même période un an plus tôt" if previous else "",
        definitions=DEFINITIONS,
        tabs=tabs,
        tab=tab,
        sections=shown,
        coverage_map=_coverage_map(report),
        query=query,
    )


def _coverage_map(report: ActivityReport) -> dict[str, float | None]:
    rows = report.section("territoire").rows[:-1]  # the total closes the table
    return {
        str(row[0]).split(" — ")[0]: (None if row[3] is None else plain(row[3]))
        for row in rows
        if row[0] != UNKNOWN
    }


def year_before(day: date) -> date:
    """The same day a year before (28 February for a 29th)."""
    try:
        return day.replace(year=day.year - 1)
    except ValueError:
        return day.replace(year=day.year - 1, day=28)
