"""The migration to a chain linked by the worker: entries chained under the former design keep
verifying (their `seq` is their id), new ones follow them, and the downgrade gives the former
chain back while every entry is linked in id order."""

from datetime import timedelta

import pytest
from alembic import command
from sqlalchemy import text
from sqlmodel import Session

from app.core.db import build_engine
from app.models.audit import AuditAction, AuditEvent
from app.models.base import utcnow
from app.services.audit.trail import entry_hash, link_pending, record, verify
from tests.conftest import alembic_config, scratch_database

BEFORE = "6a2c414ba8ba"


@pytest.fixture
def engine_before(database_url, tmp_path):
    with scratch_database(database_url, "audit_chain_migration", tmp_path) as url:
        engine = build_engine(url)
        with engine.begin() as conn:
            command.upgrade(alembic_config(conn), BEFORE)
        yield engine
        engine.dispose()


def _former_entries(conn, count: int) -> None:
    """Entries as the former `record()` wrote them: ids in chain order, hashed at once."""
    previous = ""
    for n in range(1, count + 1):
        at = utcnow() - timedelta(minutes=count - n)
        entry = AuditEvent(
            id=n, at=at, action="login", record_type="staff_user", previous_hash=previous
        )
        entry.hash = entry_hash(entry)
        conn.execute(
            text(
                "INSERT INTO audit_events (id, at, action, record_type, ip, user_agent,"
                " previous_hash, hash) VALUES (:id, :at, 'login', 'staff_user', '', '', :p, :h)"
            ),
            {"id": n, "at": at, "p": previous, "h": entry.hash},
        )
        previous = entry.hash
    conn.execute(
        text("UPDATE audit_chain SET head_id = :n, head_hash = :h"), {"n": count, "h": previous}
    )


def test_former_entries_keep_verifying_and_new_ones_follow(engine_before):
    with engine_before.begin() as conn:
        _former_entries(conn, 3)
        command.upgrade(alembic_config(conn), "head")
    with Session(engine_before) as session:
        new = record(session, actor=None, action=AuditAction.LOGIN_FAILED, record_type="staff_user")
        assert new.id == 4  # the sequence starts past the former ids
        link_pending(session)
        assert new.seq == 4
        session.commit()
        verdict = verify(session)
        assert verdict.intact and verdict.checked == 4


def _former_chain_holds(conn) -> bool:
    """What the former `verify` checked: ids from 1 in chain order, each entry's hash over its
    fields and the previous one's, the head on the last one."""
    rows = conn.execute(text("SELECT * FROM audit_events ORDER BY id")).mappings().all()
    previous = ""
    for number, row in enumerate(rows, start=1):
        entry = AuditEvent.model_validate(dict(row))
        if (entry.id, entry.previous_hash, entry_hash(entry)) != (number, previous, entry.hash):
            return False
        previous = entry.hash
    head = conn.execute(text("SELECT head_id, head_hash FROM audit_chain")).one()
    return tuple(head) == (len(rows), previous)


def test_the_downgrade_gives_the_former_chain_back(engine_before):
    with engine_before.begin() as conn:
        _former_entries(conn, 2)
        command.upgrade(alembic_config(conn), "head")
        command.downgrade(alembic_config(conn), BEFORE)
        assert _former_chain_holds(conn)


def test_the_downgrade_links_the_entries_waiting_in_chain_order(engine_before):
    """The second entry, linked first, comes first in the former chain; the third waits."""
    with engine_before.begin() as conn:
        _former_entries(conn, 1)
        command.upgrade(alembic_config(conn), "head")
    with Session(engine_before) as session:
        record(session, actor=None, action=AuditAction.LOGIN_FAILED, record_id=2)
        early_id = record(session, actor=None, action=AuditAction.LOGIN_FAILED, record_id=3).id
        session.commit()
    with Session(engine_before) as session, session.begin():
        # Link only the second, as the linker would have had the first not committed yet.
        event = session.get(AuditEvent, early_id)
        head = session.execute(text("SELECT head_hash FROM audit_chain")).scalar_one()
        event.seq, event.previous_hash = 2, head
        event.hash = entry_hash(event)
        session.execute(
            text("UPDATE audit_chain SET head_seq = 2, head_hash = :h"), {"h": event.hash}
        )
    with engine_before.begin() as conn:
        command.downgrade(alembic_config(conn), BEFORE)
        assert _former_chain_holds(conn)
        order = conn.execute(text("SELECT record_id FROM audit_events ORDER BY id")).scalars()
        assert list(order) == [None, 3, 2]
