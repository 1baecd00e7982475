"""Many requests record at once, on a database whose commits are real: every entry lands in one
chain, without a fork (two entries after the same one) nor a request refused."""

import threading

import pytest
from alembic import command
from sqlmodel import Session, select

from app.core.db import build_engine
from app.models.audit import AuditAction, AuditEvent
from app.services.audit.trail import record, verify
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


def test_concurrent_records_make_one_chain(committed_engine):
    with Session(committed_engine, expire_on_commit=False) as session:
        staff = make_staff(session, make_operator(session))
        session.commit()
    barrier = threading.Barrier(RECORDERS)
    errors: list[BaseException] = []

    def read_a_file(n: int) -> None:
        barrier.wait()
        try:
            with Session(committed_engine) as session:
                record(
                    session, actor=staff, action=AuditAction.READ, record_type="case", record_id=n
                )
                session.commit()
        except BaseException as exc:  # reported below, with the others
            errors.append(exc)

    threads = [threading.Thread(target=read_a_file, args=(n,)) for n in range(RECORDERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    with Session(committed_engine) as session:
        entries = session.exec(select(AuditEvent)).all()
        previous = [entry.previous_hash for entry in entries]
        assert len(entries) == RECORDERS and len(set(previous)) == RECORDERS  # no fork
        assert sorted(entry.record_id for entry in entries) == list(range(RECORDERS))
        assert verify(session).intact
