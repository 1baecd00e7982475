"""The national view: the activity report across operators, with small counts suppressed.

Statistical secrecy: no count from 1 to 10 leaves this module, nor a share or a median resting
on one, nor a cell that a published total would give back by subtraction. No name, no case."""

from dataclasses import replace
from datetime import date

from sqlmodel import Session, func, select

from app.core.dates import local_today
from app.core.errors import Forbidden, Invalid
from app.models.cases import Case
from app.models.nomenclatures import Role
from app.models.staff import StaffUser
from app.services.reports.activity import SUMMARY, report_sections
from app.services.reports.periods import check_period
from app.services.reports.tables import ActivityReport, Median, Section, Share

NATIONAL_ROLES = frozenset({Role.NATIONAL_OBSERVER})
TIME_ZONE = "Europe/Paris"  # national periods are French local days
SMALLEST_SHOWN = 11
HIDDEN = "secret"  # as INSEE writes it: a small count, or one that would give it away


def _check_role(actor: StaffUser) -> None:
    if actor.role not in NATIONAL_ROLES:
        raise Forbidden("La vue nationale est réservée aux observateurs nationaux.")


def current_year() -> int:
    return local_today(TIME_ZONE).year


def years(*, session: Session, actor: StaffUser) -> list[int]:
    """The calendar years an observer may read: from the first case's to the current one."""
    _check_role(actor)
    first = session.exec(select(func.min(Case.opened_at))).one()
    return list(range(current_year(), (first.year if first else current_year()) - 1, -1))


def year_bounds(year: int) -> tuple[date, date]:
    return date(year, 1, 1), date(year, 12, 31)


def national_report(
    *, session: Session, actor: StaffUser, start: date, end: date
) -> ActivityReport:
    """Every operator's figures for one calendar year (Paris days), suppressed.

    Whole calendar years only, and all operators together: two overlapping periods, or the
    whole and one operator, would give a suppressed cell back by subtraction (the per-operator
    table gives each operator's headline figures, itself suppressed)."""
    _check_role(actor)
    check_period(start, end, bounded=True)
    if (start, end) != year_bounds(start.year):
        raise Invalid(
            {
                "au": "La vue nationale se lit par année civile entière, du 1er janvier au 31 décembre."
            }
        )
    sections = report_sections(
        session=session,
        operator_id=None,
        time_zone=TIME_ZONE,
        start=start,
        end=end,
        by_operator=True,
    )
    suppressed = [suppress(section) for section in sections]
    return ActivityReport(
        start,
        end,
        "tous",
        suppressed,
        kind="national",
        hidden_label=HIDDEN,
        operator_name="Tous opérateurs",
    )


# ---- suppression ------------------------------------------------------------------------------


def _is_count(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _small(count: int) -> bool:
    return 0 < count < SMALLEST_SHOWN


def _too_small(value) -> bool:
    if _is_count(value):
        return _small(value)
    if isinstance(value, Share | Median):
        return any(_small(count) for count in value.counts())
    return False


def _lines(rows: list[tuple]) -> list[list[tuple[int, int]]]:
    """The count cells of each column and of each row: what a total could be checked against."""
    columns: dict[int, list] = {}
    by_row: dict[int, list] = {}
    for i, row in enumerate(rows):
        for j, value in enumerate(row[1:], start=1):
            if _is_count(value):
                columns.setdefault(j, []).append((i, j))
                by_row.setdefault(i, []).append((i, j))
    return [*columns.values(), *by_row.values()]


def _secondary(rows: list[tuple], hidden: set[tuple[int, int]]) -> bool:
    """Hide one more cell beside each lone hidden one; False once nothing changes."""
    changed = False
    for line in _lines(rows):
        if sum(cell in hidden for cell in line) != 1:
            continue
        others = [(i, j) for i, j in line if (i, j) not in hidden and rows[i][j] != 0]
        if others:
            hidden.add(min(others, key=lambda cell: rows[cell[0]][cell[1]]))
            changed = True
    return changed


def suppress(section: Section) -> Section:
    """The section with small counts, their complements and what rests on them as None."""
    rows = section.rows
    hidden = {
        (i, j)
        for i, row in enumerate(rows)
        for j, value in enumerate(row[1:], start=1)
        if _too_small(value)
    }
    # A share resting on a small count (or a small complement) hides the counts of its row too:
    # the share's part and whole, shown beside it, would give the small one back.
    for i, j in list(hidden):
        if isinstance(rows[i][j], Share):
            hidden.update((i, k) for k in range(1, len(rows[i])) if _is_count(rows[i][k]))
    # The summary lists separate indicators, not parts of a total: nothing to subtract there.
    while section.key != SUMMARY and _secondary(rows, hidden):
        pass
    # A share or a median beside a hidden count could help work it out.
    for i, row in enumerate(rows):
        if any(_is_count(row[j]) and (i, j) in hidden for j in range(1, len(row))):
            derived = (j for j in range(1, len(row)) if isinstance(row[j], float | Share | Median))
            hidden.update((i, j) for j in derived)
    masked = [
        tuple(None if (i, j) in hidden else value for j, value in enumerate(row))
        for i, row in enumerate(rows)
    ]
    return replace(section, rows=masked)
