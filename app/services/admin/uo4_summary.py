"""The UO4 page: an operator's actions of a year, summed by kind and by quarter, against the
UO4 budget of its lot, and the same as files (CSV, XLSX)."""

from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal

from sqlmodel import Session, select

from app.core.tables import Percent, Table, table_heading
from app.models.markets import Lot
from app.models.operators import Operator, Site
from app.models.staff import StaffUser
from app.models.uo4 import Uo4Action, Uo4Kind
from app.services.access.scope import owned_by
from app.services.admin.uo4 import (
    action_years,
    edits_uo4,
    list_actions,
    this_year,
    uo4_operator,
)

ZERO = Decimal("0.00")
QUARTERS = ("T1", "T2", "T3", "T4")
UO4_LABEL = "UO4 — qualité du service, moyens et pilotage"


def uo4_budget(session: Session, operator_id: int, year: int) -> Decimal | None:
    """The yearly UO4 budget of the operator's lot in force in `year` (the lot holding the
    year's first day, else the first one starting within it), or None when unknown."""
    lot = session.exec(
        select(Lot)
        .where(
            owned_by(Lot, operator_id),
            Lot.starts_on <= date(year, 12, 31),
            Lot.ends_on >= date(year, 1, 1),
        )
        .order_by(Lot.starts_on)
    ).first()
    return lot.uo4_budget if lot else None


@dataclass(frozen=True)
class BudgetComparison:
    budget: Decimal
    consumed: Decimal
    remaining: Decimal  # negative when the budget is exceeded
    share: Decimal | None  # of the budget consumed, in %, one decimal; None for a budget of 0

    @property
    def exceeded(self) -> bool:
        return self.remaining < 0


def compare_with_budget(consumed: Decimal, budget: Decimal | None) -> BudgetComparison | None:
    """What is consumed of the budget, what remains and which share (None: no budget known)."""
    if budget is None:
        return None
    share = None
    if budget > 0:
        share = (consumed * 100 / budget).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)
    return BudgetComparison(budget, consumed, budget - consumed, share)


@dataclass
class KindRow:
    kind: Uo4Kind
    quarters: list[Decimal]  # T1..T4
    count: int

    @property
    def total(self) -> Decimal:
        return sum(self.quarters, ZERO)


@dataclass
class Uo4Summary:
    year: int
    rows: list[KindRow]  # every kind, in the order of the list of kinds
    budget: BudgetComparison | None

    @property
    def quarter_totals(self) -> list[Decimal]:
        return [sum((row.quarters[q] for row in self.rows), ZERO) for q in range(4)]

    @property
    def total(self) -> Decimal:
        return sum((row.total for row in self.rows), ZERO)


def summarise(actions: list[Uo4Action], year: int, budget: Decimal | None) -> Uo4Summary:
    """The amounts of the year's actions (cancelled ones left out) by kind and quarter."""
    rows = {kind: KindRow(kind, [ZERO] * 4, 0) for kind in Uo4Kind}
    for action in actions:
        if action.cancelled_at is not None or action.starts_on.year != year:
            continue
        row = rows[Uo4Kind(action.kind)]
        row.quarters[(action.starts_on.month - 1) // 3] += action.amount
        row.count += 1
    summary = Uo4Summary(year, list(rows.values()), None)
    summary.budget = compare_with_budget(summary.total, budget)
    return summary


@dataclass
class Uo4Page:
    operator: Operator
    year: int
    years: list[int]
    kind: str | None  # the list's filter
    actions: list[Uo4Action]
    sites: dict[int, str]  # names of the sites the actions name
    summary: Uo4Summary  # of the whole year, whatever the list's filter
    can_edit: bool


def uo4_page(
    *, session: Session, actor: StaffUser, year: int | None = None, kind: str | None = None
) -> Uo4Page:
    operator_id = uo4_operator(actor)
    current = this_year(session=session, operator_id=operator_id)
    year = year or current
    every = list_actions(session=session, operator_id=operator_id, year=year)
    shown = [action for action in every if not kind or action.kind == kind]
    site_ids = {action.site_id for action in shown if action.site_id}
    return Uo4Page(
        operator=session.get(Operator, operator_id),
        year=year,
        years=action_years(session=session, operator_id=operator_id, around=current),
        kind=kind,
        actions=shown,
        sites={site_id: session.get(Site, site_id).name for site_id in site_ids},
        summary=summarise(every, year, uo4_budget(session, operator_id, year)),
        can_edit=edits_uo4(actor),
    )


TABLES = ("synthese", "actions")


def uo4_table(
    *, session: Session, actor: StaffUser, name: str, year: int | None = None, kind=None
) -> Table:
    """The page's summary (`synthese`) or list (`actions`) as a table to download."""
    page = uo4_page(session=session, actor=actor, year=year, kind=kind)
    stem = f"uo4-{page.operator.code}-{page.year}"
    if name == "synthese":
        return _summary_table(page.summary, stem, page.operator.name)
    columns = ["Date", "Fin", "Type", "Intitulé", "Montant (€)", "Site", "Heures",
               "Participants", "État", "Description"]  # fmt: skip
    rows = [
        (
            action.starts_on,
            action.ends_on,
            action.kind_label,
            action.title,
            action.amount,
            page.sites.get(action.site_id, ""),
            action.hours,
            action.participants,
            "Annulée" if action.cancelled_at else "Enregistrée",
            action.description,
        )
        for action in reversed(page.actions)
    ]
    title = f"Actions UO4 {page.year}"
    filters = Uo4Kind(kind).label if kind else ""
    heading = _heading(page.operator.name, page.year, "Actions", filters)
    return Table(title, columns, rows, f"{stem}-actions", heading)


def _heading(operator: str, year: int, title: str, filters: str = "") -> str:
    return table_heading(
        label=UO4_LABEL,
        operator=operator,
        filters=filters,
        start=date(year, 1, 1),
        end=date(year, 12, 31),
        title=title,
    )


def _summary_table(summary: Uo4Summary, stem: str, operator: str) -> Table:
    columns = ["Type d'action", *QUARTERS, f"Total {summary.year}", "Actions"]
    rows: list[tuple] = [
        (row.kind.label, *row.quarters, row.total, row.count) for row in summary.rows
    ]
    count = sum(row.count for row in summary.rows)
    rows.append(("Total", *summary.quarter_totals, summary.total, count))
    budget = summary.budget
    if budget is None:
        rows.append(("Budget UO4 du lot non renseigné", "", "", "", "", "", ""))
    else:
        # A percentage cell in the workbook, « 25,0 » in the CSV as the row's label says « (%) ».
        share = "" if budget.share is None else Percent(float(budget.share / 100))
        rows.append(("Budget UO4 du lot", "", "", "", "", budget.budget, ""))
        rows.append(("Reste", "", "", "", "", budget.remaining, ""))
        rows.append(("Part consommée (%)", "", "", "", "", share, ""))
    heading = _heading(operator, summary.year, "Synthèse")
    return Table(f"Synthèse UO4 {summary.year}", columns, rows, f"{stem}-synthese", heading)
