"""The national view is read from the snapshot of the month: a new case changes it on the 1st
of the next month, not the next day; the snapshot keeps every value of the report as it was."""

import json
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from sqlmodel import select

from app.models.reports import ReportSnapshot
from app.services.reports.national import national_report, take_national_snapshots
from app.services.reports.snapshots import from_payload, month_of, to_payload
from app.services.reports.tables import ActivityReport, Median, Section, Share
from tests.conftest import NOW
from tests.factories import make_case, make_episode, make_operator, make_staff, report_rows

PARIS = ZoneInfo("Europe/Paris")
YEAR = NOW.astimezone(PARIS).year
# The first moments of the next month, in Paris: the worker's first pass of the month.
NEXT_MONTH = datetime(YEAR + 1, 1, 1, 0, 5, tzinfo=PARIS).astimezone(UTC)


def national(session, observer, year: int, now: datetime) -> ActivityReport:
    start, end = date(year, 1, 1), date(year, 12, 31)
    return national_report(session=session, actor=observer, start=start, end=end, now=now)


def new_cases(session, counsellor, n: int, opened_at: datetime | None = None) -> None:
    """`n` cases entering level 1 now (the clock's), or at `opened_at`."""
    for _ in range(n):
        case = make_case(session, counsellor)
        episode = make_episode(session, counsellor, case, "UO1")
        if opened_at is not None:
            case.opened_at = episode.started_at = opened_at
            session.add_all([case, episode])
    session.flush()


@pytest.fixture
def counsellor(session, clock):
    """A counsellor of ARA, whose cases open at the clock's time (this year's)."""
    return make_staff(session, make_operator(session))


# ---- the payload ----------------------------------------------------------------------------


def a_report_of_every_kind_of_value() -> ActivityReport:
    rows = [
        ("Compte", 12, None, 0),
        ("Part", Share(3, 7), Share(0, 0), None),
        ("Délai", Median(4.5, 12), Median(None, 0), 12.0),
        ("Drapeau et jour", True, date(2026, 3, 1), "texte"),
    ]
    section = Section("t", "Tableau", ["Libellé", "A", "B", "C"], rows, None, True)
    counted = datetime(2026, 12, 1, 0, 5, tzinfo=UTC)
    return ActivityReport(
        date(2026, 1, 1),
        date(2026, 12, 31),
        "tous",
        [section],
        "national",
        "secret",
        counted_at=counted,
    )


def test_a_report_comes_back_from_its_payload_with_every_value_of_its_type():
    report = a_report_of_every_kind_of_value()

    back = from_payload(json.loads(json.dumps(to_payload(report))))

    # repr tells a share from the percentage it equals, and a tuple from a list.
    assert repr(back) == repr(report)
    share, empty = back.sections[0].rows[1][1:3]
    assert (type(share), share.part, share.whole, empty.whole) == (Share, 3, 7, 0)
    assert back.sections[0].rows[0][2] is None  # the suppressed marker stays None


def test_a_report_comes_back_from_the_database(session):
    report = a_report_of_every_kind_of_value()
    row = ReportSnapshot(
        kind="essai",
        year=2026,
        month=date(2026, 12, 1),
        version=1,
        taken_at=report.counted_at,
        payload=to_payload(report),
    )
    session.add(row)
    session.flush()
    session.expire(row)

    assert repr(from_payload(session.get(ReportSnapshot, row.id).payload)) == repr(report)


def test_a_value_a_snapshot_cannot_hold_is_refused():
    report = a_report_of_every_kind_of_value()
    report.sections[0].rows.append(("Montant", Decimal("1.5"), 0, 0))

    with pytest.raises(TypeError, match="Decimal"):
        to_payload(report)


def test_the_month_of_a_moment_is_the_paris_one():
    # 31 December, 23:30 UTC is already 1 January in Paris.
    assert month_of(datetime(2026, 12, 31, 23, 30, tzinfo=UTC), "Europe/Paris") == date(2027, 1, 1)


# ---- one month, one set of figures ----------------------------------------------------------


def test_a_new_case_shows_in_the_next_months_figures_not_before(session, counsellor, observer):
    new_cases(session, counsellor, 12)
    first = national(session, observer, YEAR, now=NOW)
    new_cases(session, counsellor, 1)

    later = national(session, observer, YEAR, now=NOW + timedelta(days=20))
    take_national_snapshots(session=session, now=NEXT_MONTH)
    next_month = national(session, observer, YEAR, now=NEXT_MONTH + timedelta(hours=1))

    assert report_rows(first, "synthese")["Entrées"] == (12,)
    assert report_rows(later, "synthese")["Entrées"] == (12,)
    assert later.counted_at == first.counted_at == NOW
    assert report_rows(next_month, "synthese")["Entrées"] == (13,)
    assert next_month.counted_at == NEXT_MONTH


def test_until_the_worker_has_taken_the_months_figures_readers_read_the_month_befores(
    session, counsellor, observer
):
    """Nobody waits for a count on the 1st: the month before's snapshot serves meanwhile."""
    new_cases(session, counsellor, 12)
    national(session, observer, YEAR, now=NOW)
    new_cases(session, counsellor, 1)

    early = national(session, observer, YEAR, now=NEXT_MONTH)

    assert report_rows(early, "synthese")["Entrées"] == (12,)
    assert early.counted_at == NOW
    months = session.exec(select(ReportSnapshot.month).where(ReportSnapshot.year == YEAR)).all()
    assert months == [month_of(NOW, "Europe/Paris")]  # the reader counted nothing


def test_the_figures_are_those_of_the_moment_they_were_counted(session, counsellor, observer):
    """Whoever reads first in the month counts for the month: a reading later that day shows
    what the database held then, not what it holds now."""
    new_cases(session, counsellor, 11)
    national(session, observer, YEAR, now=NOW)
    new_cases(session, counsellor, 30)

    found = national(session, observer, YEAR, now=NOW + timedelta(hours=1))

    assert report_rows(found, "synthese")["Entrées"] == (11,)


def test_a_past_year_also_changes_once_a_month(session, counsellor, observer):
    """A past year still changes a little (a late survey answer, a record erased): read a day
    apart, it would give the change away just the same."""
    last_year = datetime(YEAR - 1, 6, 3, 9, tzinfo=UTC)
    new_cases(session, counsellor, 12, opened_at=last_year)
    national(session, observer, YEAR - 1, now=NOW)
    new_cases(session, counsellor, 1, opened_at=last_year)

    later = national(session, observer, YEAR - 1, now=NOW + timedelta(days=1))
    next_month = national(session, observer, YEAR - 1, now=NEXT_MONTH)  # its first reader

    assert report_rows(later, "synthese")["Entrées"] == (12,)
    assert report_rows(next_month, "synthese")["Entrées"] == (13,)


def test_the_worker_takes_the_months_snapshots_on_its_first_pass(session, counsellor, observer):
    new_cases(session, counsellor, 12)

    taken = take_national_snapshots(session=session, now=NEXT_MONTH)
    again = take_national_snapshots(session=session, now=NEXT_MONTH + timedelta(minutes=1))
    new_cases(session, counsellor, 1)
    read = national(session, observer, YEAR, now=NEXT_MONTH + timedelta(days=3))

    assert (taken, again) == (2, 0)  # the new year and the one just ended
    stored = session.exec(select(ReportSnapshot.year, ReportSnapshot.month)).all()
    assert sorted(stored) == [(YEAR, date(YEAR + 1, 1, 1)), (YEAR + 1, date(YEAR + 1, 1, 1))]
    assert read.counted_at == NEXT_MONTH
    assert report_rows(read, "synthese")["Entrées"] == (12,)
