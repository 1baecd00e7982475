"""The national view: the activity report across operators, with small counts suppressed.

Statistical secrecy: no count from 1 to 10 leaves this module, nor a share or a median resting
on one, nor a cell that a published total would give back by subtraction. No name, no case."""

from dataclasses import replace
from datetime import date, datetime
from zoneinfo import ZoneInfo

from sqlmodel import Session, select

from app.errors import Forbidden, Invalid
from app.models.nomenclatures import Role
from app.models.operators import Operator
from app.models.staff import StaffUser
from app.services.activity import check_period, report_sections
from app.services.report_tables import ActivityReport, Median, Section, Share

NATIONAL_ROLES = frozenset({Role.NATIONAL_OBSERVER})
TIME_ZONE = "Europe/Paris"  # national periods are French local days
SMALLEST_SHOWN = 11
HIDDEN = "secret"  # as INSEE writes it: a small count, or one that would give it away


def _check_role(actor: StaffUser) -> None:
    if actor.role not in NATIONAL_ROLES:
        raise Forbidden("La vue nationale est réservée aux observateurs nationaux.")


def default_national_period() -> tuple[date, date]:
    """From 1 January of the current year to today, in Paris."""
    today = datetime.now(ZoneInfo(TIME_ZONE)).date()
    return date(today.year, 1, 1), today


def list_operators(*, session: Session, actor: StaffUser) -> list[Operator]:
    """The operators an observer may filter on, by name."""
    _check_role(actor)
    return list(session.exec(select(Operator).order_by(Operator.name)))


def national_report(
    *,
    session: Session,
    actor: StaffUser,
    start: date,
    end: date,
    operator_id: int | None = None,
) -> ActivityReport:
    """Every operator's figures (or one's) for the Paris days start..end, suppressed."""
    _check_role(actor)
    check_period(start, end)
    code = "tous"
    if operator_id is not None:
        operator = session.get(Operator, operator_id)
        if operator is None:
            raise Invalid({"operateur": "Opérateur inconnu"})
        code = operator.code
    sections = report_sections(
        session=session,
        operator_id=operator_id,
        time_zone=TIME_ZONE,
        start=start,
        end=end,
        by_operator=True,
    )
    suppressed = [suppress(section) for section in sections]
    return ActivityReport(start, end, code, suppressed, kind="national", hidden_label=HIDDEN)


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
    while _secondary(rows, hidden):
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
