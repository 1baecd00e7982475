"""The national view: the activity report across operators, with small counts suppressed.

Statistical secrecy: no count from 1 to 10 leaves this module, nor a share or a median resting
on one, nor a cell that a published total would give back by subtraction — within a reading, nor
between two: a year is read from its latest monthly snapshot (snapshots.py). No name, no case."""

from dataclasses import replace
from datetime import date, datetime
from functools import partial

from sqlmodel import Session, func, select

from app.core.dates import local_today
from app.core.errors import Forbidden, Invalid
from app.models.cases import Case
from app.models.nomenclatures import Role
from app.models.staff import StaffUser
from app.services.reports.activity import SUMMARY, report_sections
from app.services.reports.periods import check_period
from app.services.reports.snapshots import snapshot_report, take_snapshot
from app.services.reports.tables import ActivityReport, Median, Section, Share

NATIONAL_ROLES = frozenset({Role.NATIONAL_OBSERVER})
TIME_ZONE = "Europe/Paris"  # national periods are French local days
SMALLEST_SHOWN = 11
HIDDEN = "secret"  # as INSEE writes it: a small count, or one that would give it away
SNAPSHOT_KIND = "national"


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
    *,
    session: Session,
    actor: StaffUser,
    start: date,
    end: date,
    now: datetime | None = None,
    reader: Session | None = None,
) -> ActivityReport:
    """Every operator's figures for one calendar year (Paris days), suppressed, as the
    latest monthly snapshot holds them (`now` by default the current time).

    The snapshots are read and stored through `session`, the primary: of two first readers
    of the month, the second must find the first one's. A missing one is counted through
    `reader` (the read replica, by default `session`).

    Whole calendar years only, and all operators together: two overlapping periods, or the
    whole and one operator, would give a suppressed cell back by subtraction (the per-operator
    table gives each operator's headline figures, itself suppressed). And every year, past ones
    too, from a monthly snapshot: a past year still changes a little (an answer to a survey
    sent in December, a person's record erased), and a reading a day later would show it."""
    _check_role(actor)
    check_period(start, end, bounded=True)
    if (start, end) != year_bounds(start.year):
        raise Invalid(
            {
                "au": "La vue nationale se lit par année civile entière, du 1er janvier au 31 décembre."
            }
        )
    return snapshot_report(
        session=session,
        kind=SNAPSHOT_KIND,
        year=start.year,
        time_zone=TIME_ZONE,
        count=partial(count_national, session=reader or session, year=start.year),
        now=now,
        worker_takes_it=start.year in worker_years(now),
    )


def count_national(*, session: Session, year: int) -> ActivityReport:
    """The national figures of `year` as the database holds them now, suppressed: what a
    snapshot stores. Unchecked: callers check the actor."""
    start, end = year_bounds(year)
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


def worker_years(now: datetime | None = None) -> tuple[int, int]:
    """The years whose snapshots the worker takes each month: the current one and the one before."""
    this_year = local_today(TIME_ZONE, now=now).year
    return this_year, this_year - 1


def take_national_snapshots(*, session: Session, now: datetime | None = None) -> int:
    """The worker's job: this month's snapshots of the current year and of the one before (the
    two read most), taken on its first pass of the month so that no reader waits for them;
    returns how many it took."""
    taken = 0
    for year in worker_years(now):
        taken += take_snapshot(
            session=session,
            kind=SNAPSHOT_KIND,
            year=year,
            time_zone=TIME_ZONE,
            count=partial(count_national, session=session, year=year),
            now=now,
        )
    return taken


# ---- suppression ------------------------------------------------------------------------------
# A hidden count must not come back by subtraction from what is shown beside it: from the total
# of its column (every column is taken to add up, to a total row or to the summary), from the
# total of its row when the row holds one (one count is the sum of the others, as orientations
# and their outcomes), from a share or a median resting on it, or, for a hidden share, from two
# of its part, complement and whole shown in its row. A row that holds no total (the units
# started and ended; the surveys' invitations, answers and positive answers) is not a sum: a
# small cell there hides nothing else of its row but what rests on it.


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


def _holds_its_total(counts: list[int]) -> bool:
    """One of the counts is the sum of the others: the row adds up, like a column."""
    return len(counts) > 1 and any(2 * count == sum(counts) for count in counts)


def _lines(rows: list[tuple]) -> list[list[tuple[int, int]]]:
    """The count cells of each column, and of each row that holds its total: the lines whose
    total is shown, that a hidden cell could be worked out from."""
    columns: dict[int, list] = {}
    by_row: dict[int, list] = {}
    for i, row in enumerate(rows):
        for j, value in enumerate(row[1:], start=1):
            if _is_count(value):
                columns.setdefault(j, []).append((i, j))
                by_row.setdefault(i, []).append((i, j))
    sums = [cells for cells in by_row.values() if _holds_its_total([rows[i][j] for i, j in cells])]
    return [*columns.values(), *sums]


def _secondary(rows: list[tuple], lines: list, hidden: set[tuple[int, int]]) -> bool:
    """Hide the smallest other non-zero count of each line whose total would give its hidden
    counts back: one hidden alone, or hidden ones adding up to a small count (two ones of a
    column, hidden, would read as 2); False once nothing changes."""
    changed = False
    for line in lines:
        concealed = [rows[i][j] for i, j in line if (i, j) in hidden]
        if not concealed or (len(concealed) > 1 and not _small(sum(concealed))):
            continue
        others = [(i, j) for i, j in line if (i, j) not in hidden and rows[i][j] != 0]
        if others:
            hidden.add(min(others, key=lambda cell: rows[cell[0]][cell[1]]))
            changed = True
    return changed


def _beside_a_share(row: tuple, i: int, share: Share, hidden: set) -> set[tuple[int, int]]:
    """What to hide beside a hidden share: its part, its complement and its whole add up, so
    two of them shown in its row give the third (55 positive answers of 60: five negative
    ones). Then the part goes, or failing a part cell the complement: the whole is the figure
    most read."""
    roles = (share.part, share.whole - share.part, share.whole)
    cells = [
        {(i, j) for j, value in enumerate(row) if j and _is_count(value) and value == role}
        for role in roles
        if role
    ]
    shown = [found - hidden for found in cells if found - hidden]
    return shown[0] if len(shown) > 1 else set()


def _rests_on(value, concealed: set[int]) -> bool:
    """A share or a median built on a hidden count (its part, its whole or their difference)
    would give it back; a bare number beside one may too, for all that is known of it."""
    if isinstance(value, Share | Median):
        return any(count in concealed for count in value.counts())
    return isinstance(value, float)


def _protect(rows: list[tuple], lines: list, hidden: set[tuple[int, int]]) -> bool:
    """One round: what rests on a hidden count, what a hidden share's row would give back,
    then the lines' totals; False once nothing changes."""
    before = len(hidden)
    for i, row in enumerate(rows):
        concealed = {row[j] for j in range(1, len(row)) if _is_count(row[j]) and (i, j) in hidden}
        if concealed:
            hidden.update((i, j) for j in range(1, len(row)) if _rests_on(row[j], concealed))
    for i, j in [(i, j) for i, j in hidden if isinstance(rows[i][j], Share)]:
        hidden |= _beside_a_share(rows[i], i, rows[i][j], hidden)
    while _secondary(rows, lines, hidden):
        pass
    return len(hidden) > before


def suppress(section: Section) -> Section:
    """The section with small counts, what would give them back and what rests on them as None."""
    rows = section.rows
    hidden = {
        (i, j)
        for i, row in enumerate(rows)
        for j, value in enumerate(row[1:], start=1)
        if _too_small(value)
    }
    # The summary lists separate indicators, not parts of a total: nothing to subtract there.
    lines = [] if section.key == SUMMARY else _lines(rows)
    while _protect(rows, lines, hidden):
        pass
    masked = [
        tuple(None if (i, j) in hidden else value for j, value in enumerate(row))
        for i, row in enumerate(rows)
    ]
    return replace(section, rows=masked)
