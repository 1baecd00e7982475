"""Many requests record at once, on a database whose commits are real: no request waits for
another's to end, and once linked every entry lands in one chain, without a fork (two entries
after the same one) nor a request refused."""

import threading

import pytest
from alembic import command
from sqlalchemy import text
from sqlmodel import Session, col, select

from app.core.db import build_engine
from app.models.audit import AuditAction, AuditEvent
from app.services.audit.trail import link_pending, record, verify
from tests.conftest import alembic_config, scratch_database
from tests.factories import make_operator, make_staff

RECORDERS = 16


@pytest.fixture(scope="module")
def committed_engine(database_url, tmp_path_factory):
    with scratch_database(database_url, "audit", tmp_path_factory.mktemp("audit")) as url:
        engine = build_engine(url)
        with engine.begin() as conn:
            command.upgrade(alembic_config(conn), "head")
        yield engine
        engine.dispose()


@pytest.fixture(scope="module")
def staff(committed_engine):
    with Session(committed_engine, expire_on_commit=False) as session:
        user = make_staff(session, make_operator(session))
        session.commit()
    return user


def _link(engine) -> int:
    with Session(engine) as session, session.begin():
        return link_pending(session)


def _read(session, staff, n: int) -> AuditEvent:
    return record(session, actor=staff, action=AuditAction.READ, record_type="case", record_id=n)


def test_concurrent_records_make_one_chain(committed_engine, staff):
    barrier = threading.Barrier(RECORDERS)
    errors: list[BaseException] = []

    def read_a_file(n: int) -> None:
        barrier.wait()
        try:
            with Session(committed_engine) as session:
                _read(session, staff, n)
                session.commit()
            _link(committed_engine)  # linkers racing each other too
        except BaseException as exc:  # reported below, with the others
            errors.append(exc)

    threads = [threading.Thread(target=read_a_file, args=(n,)) for n in range(RECORDERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    _link(committed_engine)
    with Session(committed_engine) as session:
        entries = session.exec(select(AuditEvent).where(AuditEvent.record_type == "case")).all()
        previous = [entry.previous_hash for entry in entries]
        assert len(entries) == RECORDERS and len(set(previous)) == RECORDERS  # no fork
        assert sorted(entry.record_id for entry in entries) == list(range(RECORDERS))
        verdict = verify(session)
        assert verdict.intact and verdict.unlinked == 0


def test_a_request_left_open_holds_up_neither_another_request_nor_the_linker(
    committed_engine, staff
):
    """The old design locked the chain till the request's end: on PostgreSQL the second request
    would wait for the first; here it may wait for no lock at all (lock_timeout: an error at once,
    not a hang). On SQLite a writing request holds the whole database anyway (BEGIN IMMEDIATE)."""
    if committed_engine.dialect.name != "postgresql":
        pytest.skip("SQLite serialises writing transactions whatever the trail does")
    with Session(committed_engine) as slow:
        early = _read(slow, staff, 1001)  # flushed, its transaction left open
        with Session(committed_engine) as quick:
            quick.execute(text("SET LOCAL lock_timeout = '50ms'"))
            later_id = _read(quick, staff, 1002).id
            quick.commit()
        assert early.id < later_id
        with Session(committed_engine) as linker, linker.begin():
            linker.execute(text("SET LOCAL lock_timeout = '50ms'"))
            assert link_pending(linker) == 1  # the committed entry only
        slow.commit()
    assert _link(committed_engine) == 1  # the late one, in a later batch
    with Session(committed_engine) as session:
        linked = session.exec(
            select(AuditEvent.record_id)
            .where(col(AuditEvent.record_id).in_([1001, 1002]))
            .order_by(AuditEvent.seq)
        ).all()
        assert linked == [1002, 1001]  # chain order is commit order, not id order
        verdict = verify(session)
        assert verdict.intact and verdict.unlinked == 0
