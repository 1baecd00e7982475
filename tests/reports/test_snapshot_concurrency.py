"""The month's first readers of the national view, at once, on a database whose commits are
real: one snapshot is stored, and every reader gets its figures, counted at its moment."""

import threading
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta

import pytest
from alembic import command
from sqlmodel import Session, func, select

from app.core.db import build_engine
from app.models.nomenclatures import Role
from app.models.reports import ReportSnapshot
from app.services.reports.national import count_national, national_report
from app.services.reports.snapshots import snapshot_report
from app.services.reports.tables import ActivityReport
from tests.conftest import alembic_config, scratch_database
from tests.factories import make_case, make_episode, make_operator, make_staff

READERS = 6
YEAR = 2025
# Each reader comes at its own second of one month: were each to keep its own counting, the
# moments they give back would differ.
FIRST_OF_JUNE = datetime(2025, 6, 1, 8, tzinfo=UTC)


@pytest.fixture(scope="module")
def committed_engine(database_url, tmp_path_factory):
    with scratch_database(database_url, "snapshots", tmp_path_factory.mktemp("snapshots")) as url:
        engine = build_engine(url)
        with engine.begin() as conn:
            command.upgrade(alembic_config(conn), "head")
        yield engine
        engine.dispose()


@pytest.fixture(scope="module")
def observer(committed_engine):
    """A national observer, and twelve entries of 2025 for them to count."""
    with Session(committed_engine, expire_on_commit=False) as session:
        counsellor = make_staff(session, make_operator(session, "SNAP", "Opérateur SNAP"))
        for _ in range(12):
            case = make_case(session, counsellor)
            episode = make_episode(session, counsellor, case, "UO1")
            case.opened_at = episode.started_at = datetime(2025, 3, 4, 9, tzinfo=UTC)
            session.add_all([case, episode])
        observer = make_staff(session, None, Role.NATIONAL_OBSERVER)
        session.commit()
    return observer


def _together(engine, read: Callable[[Session, int], ActivityReport]) -> tuple[list, list]:
    """READERS threads, each with its own session, released together: (reports, errors)."""
    barrier = threading.Barrier(READERS)
    reports: list[ActivityReport] = []
    errors: list[BaseException] = []
    lock = threading.Lock()

    def run(n: int) -> None:
        barrier.wait()
        try:
            with Session(engine, expire_on_commit=False) as session:
                report = read(session, n)
                session.commit()
            with lock:
                reports.append(report)
        except BaseException as exc:  # pragma: no cover - reported by the assertion
            with lock:
                errors.append(exc)

    threads = [threading.Thread(target=run, args=(n,)) for n in range(READERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return reports, errors


def _stored(engine, month: date) -> int:
    with Session(engine) as session:
        statement = select(func.count()).where(ReportSnapshot.month == month)
        return session.exec(statement.select_from(ReportSnapshot)).one()


def test_first_readers_at_once_store_one_snapshot_and_all_read_it(committed_engine, observer):
    def read(session: Session, n: int) -> ActivityReport:
        now = FIRST_OF_JUNE + timedelta(seconds=n)
        return national_report(
            session=session,
            actor=observer,
            start=date(YEAR, 1, 1),
            end=date(YEAR, 12, 31),
            now=now,
        )

    reports, errors = _together(committed_engine, read)

    assert errors == []
    assert len(reports) == READERS
    assert len({report.counted_at for report in reports}) == 1
    assert {report.section("synthese").rows[0] for report in reports} == {("Entrées", 12)}
    assert _stored(committed_engine, date(2025, 6, 1)) == 1


def test_readers_counting_at_the_same_time_keep_the_first_stored(committed_engine, observer):
    """Every reader has found no snapshot and counted before any stores: the database keeps
    the first one stored, the others give it back rather than theirs."""
    if committed_engine.dialect.name == "sqlite":
        pytest.skip(
            "SQLite: each transaction takes the write lock at its start (BEGIN IMMEDIATE), so "
            "a second reader starts once the first has committed, and finds its snapshot"
        )
    counted = threading.Barrier(READERS)

    def read(session: Session, n: int) -> ActivityReport:
        def count() -> ActivityReport:
            report = count_national(session=session, year=YEAR)
            counted.wait(timeout=60)  # nobody stores before everybody has counted
            return report

        now = datetime(2025, 7, 1, 8, tzinfo=UTC) + timedelta(seconds=n)
        return snapshot_report(
            session=session,
            kind="national",
            year=YEAR,
            time_zone="Europe/Paris",
            count=count,
            now=now,
        )

    reports, errors = _together(committed_engine, read)

    assert errors == []
    assert len({report.counted_at for report in reports}) == 1
    assert _stored(committed_engine, date(2025, 7, 1)) == 1
