"""The documents' feed under real concurrency, on a database whose commits are real: writers
issue versions through the issue service, each in its own session and transaction, while a
reader pages through the feed; the pages read, put end to end, are every version issued, in
issue order, none skipped, none repeated. Run with `pytest -s` to see the figures.

Correctness never depends on timing: the reader reads between the writers' commits because
each writer waits (bounded) for a read after each of its commits, not because of a sleep."""

import threading
from dataclasses import dataclass

import pytest
from alembic import command
from sqlalchemy import text
from sqlmodel import Session, col, select

from app.core.db import build_engine
from app.models.deliverables import DeliverableVersion
from app.models.staff import StaffUser
from app.services.audit.changes import bind_actor
from app.services.deliverables.dms_feed import feed_page
from app.services.deliverables.documents import issue_deliverable
from tests.conftest import alembic_config, scratch_database
from tests.factories import draft, make_case, make_operator, make_staff

WRITERS = 4
VERSIONS_EACH = 4
PAGE = 3
BOUND = 60  # seconds any one wait may last before the test fails instead of hanging


@pytest.fixture(scope="module")
def committed_engine(database_url, tmp_path_factory):
    with scratch_database(database_url, "feed", tmp_path_factory.mktemp("feed")) as url:
        engine = build_engine(url, pool_size=WRITERS + 2)
        with engine.begin() as conn:
            command.upgrade(alembic_config(conn), "head")
        yield engine
        engine.dispose()


@dataclass
class Writer:
    counsellor_id: int
    deliverable_ids: list[int]


def _seed(engine, code: str) -> tuple[int, list[Writer]]:
    """An operator; per writer, a counsellor, a case and drafts ready to issue."""
    with Session(engine, expire_on_commit=False) as session:
        operator = make_operator(session, code=code, name=f"Opérateur {code}")
        writers = []
        for _ in range(WRITERS):
            counsellor = make_staff(session, operator)
            case = make_case(session, counsellor)
            drafts = [draft(session, counsellor, case).id for _ in range(VERSIONS_EACH)]
            writers.append(Writer(counsellor.id, drafts))
        session.commit()
    return operator.id, writers


class Progress:
    """Commits made and pages read, for each side to wait on the other (a condition, bounded,
    no sleep): a writer waits for a read after its commit, the reader for a commit after an
    empty page."""

    def __init__(self):
        self.commits = self.reads = 0
        self.done = False
        self.changed = threading.Condition()

    def count(self, what: str) -> None:
        with self.changed:
            setattr(self, what, getattr(self, what) + 1)
            self.changed.notify_all()

    def finish(self) -> None:
        with self.changed:
            self.done = True
            self.changed.notify_all()

    def wait_for(self, what: str, past: int) -> None:
        with self.changed:
            self.changed.wait_for(lambda: self.done or getattr(self, what) > past, timeout=BOUND)


def _issue_all(engine, writer: Writer, start: threading.Barrier, progress: Progress, errors,
               together: threading.Barrier | None = None):  # fmt: skip
    """Issue the writer's drafts one by one. `together`: the first issues of all writers
    begin inside transactions open at the same time (PostgreSQL only: on SQLite the second
    BEGIN IMMEDIATE waits for the first commit), so that they race for the numbers."""
    try:
        start.wait(timeout=BOUND)
        for deliverable_id in writer.deliverable_ids:
            seen = progress.reads
            with Session(engine, expire_on_commit=False) as session:
                actor = session.get(StaffUser, writer.counsellor_id)
                if together is not None:
                    together.wait(timeout=BOUND)
                    together = None
                bind_actor(session, actor)
                issue_deliverable(session=session, actor=actor, deliverable_id=deliverable_id)
                session.commit()
            progress.count("commits")
            progress.wait_for("reads", seen)  # the reader sees this commit before the next
    except BaseException as exc:  # pragma: no cover - reported by the assertion
        errors.append(exc)


def _page_through(reader_engine, operator_id, start, progress: Progress, pages, errors):
    """Page on until the writers are done and a read begun after that finds nothing more."""
    try:
        start.wait(timeout=BOUND)
        cursor = None
        for _ in range(10 * WRITERS * VERSIONS_EACH):  # bound: a read per commit, and more
            finished, commits = progress.done, progress.commits
            with Session(reader_engine) as session:
                page = feed_page(session=session, operator_id=operator_id, since=cursor,
                                 limit=PAGE)  # fmt: skip
                session.commit()
            pages.append([v.id for v in page.versions])
            cursor = page.next_cursor
            progress.count("reads")
            if finished and not page.has_more:
                return
            if not page.versions:
                progress.wait_for("commits", commits)
        raise AssertionError("the reader never reached the end of the feed")
    except BaseException as exc:  # pragma: no cover - reported by the assertion
        errors.append(exc)


def test_pages_read_while_versions_are_issued_miss_none_and_repeat_none(committed_engine):
    operator_id, writers = _seed(committed_engine, "FLUX")
    # The reader reads as the app's requests do, but without SQLite's write lock (a plain
    # BEGIN): it reads a snapshot while writers write, the harder case.
    reader_engine = committed_engine.execution_options(sqlite_immediate=False)
    start, progress = threading.Barrier(WRITERS + 1), Progress()
    postgresql = committed_engine.dialect.name == "postgresql"
    together = threading.Barrier(WRITERS) if postgresql else None
    pages: list[list[int]] = []
    errors: list[BaseException] = []
    threads = [
        threading.Thread(
            target=_issue_all, args=(committed_engine, w, start, progress, errors, together)
        )
        for w in writers
    ]
    reader = threading.Thread(
        target=_page_through,
        args=(reader_engine, operator_id, start, progress, pages, errors),
    )
    for thread in [*threads, reader]:
        thread.start()
    for thread in threads:
        thread.join(timeout=BOUND * VERSIONS_EACH)
    progress.finish()
    reader.join(timeout=BOUND)
    assert errors == [] and not reader.is_alive()

    read = [version_id for page in pages for version_id in page]
    with Session(committed_engine) as session:
        query = select(DeliverableVersion).where(DeliverableVersion.operator_id == operator_id)
        issued = session.exec(query.order_by(col(DeliverableVersion.feed_seq))).all()
    print(
        f"\n[{committed_engine.dialect.name}] {len(issued)} versions issued by {WRITERS} writers,"
        f" read in {len(pages)} pages, {sum(1 for p in pages if p)} of them not empty"
    )
    assert len(issued) == WRITERS * VERSIONS_EACH
    assert [v.feed_seq for v in issued] == list(range(1, len(issued) + 1))
    assert read == [v.id for v in issued]
    # Pages were read while versions were being issued, not only once all were.
    assert sum(1 for page in pages if page) > 1


def test_an_issue_waits_for_the_one_before_to_commit_before_taking_its_number(committed_engine):
    """PostgreSQL: the second issuer waits on the operator's row until the first commits, so
    that while the first is under way the reader sees neither (SQLite's BEGIN IMMEDIATE
    serialises the two writers the same way, before they read anything)."""
    if committed_engine.dialect.name != "postgresql":
        pytest.skip("SQLite serialises writers at BEGIN IMMEDIATE")
    operator_id, writers = _seed(committed_engine, "ATTENTE")
    first, second = writers[0], writers[1]
    holder = Session(committed_engine, expire_on_commit=False)
    actor = holder.get(StaffUser, first.counsellor_id)
    bind_actor(holder, actor)
    held = issue_deliverable(
        session=holder, actor=actor, deliverable_id=first.deliverable_ids[0]
    )  # not committed: the operator's row stays locked
    pid = holder.exec(text("SELECT pg_backend_pid()")).scalar_one()
    errors: list[BaseException] = []
    done = threading.Event()

    def second_issue():
        _issue_all(committed_engine, Writer(second.counsellor_id, second.deliverable_ids[:1]),
                   threading.Barrier(1), _NoReads(), errors)  # fmt: skip
        done.set()

    thread = threading.Thread(target=second_issue)
    thread.start()
    try:
        assert _waits_for(committed_engine, pid), "the second issuer never waited on the lock"
        assert not done.is_set()
        with Session(committed_engine) as session:
            page = feed_page(session=session, operator_id=operator_id, since=None, limit=10)
        assert page.versions == []
    finally:
        holder.commit()
        holder.close()
    thread.join(timeout=BOUND)
    assert errors == [] and done.is_set()
    with Session(committed_engine) as session:
        page = feed_page(session=session, operator_id=operator_id, since=None, limit=10)
    assert [v.feed_seq for v in page.versions] == [1, 2]
    assert page.versions[0].id == held.id


class _NoReads(Progress):
    """Nobody reads: a writer goes on at once."""

    def wait_for(self, what: str, past: int) -> None:
        return None


def _waits_for(engine, blocker_pid: int) -> bool:
    """True once a backend waits on a lock that `blocker_pid` holds; polled, bounded."""
    waiting = text("SELECT count(*) FROM pg_stat_activity WHERE :pid = ANY(pg_blocking_pids(pid))")
    event = threading.Event()
    for _ in range(BOUND * 20):
        with engine.connect() as conn:
            if conn.execute(waiting, {"pid": blocker_pid}).scalar_one() > 0:
                return True
        event.wait(0.05)  # a poll interval, not a condition of correctness
    return False
