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


def test_the_downgrade_gives_the_former_chain_back(engine_before):
    with engine_before.begin() as conn:
        _former_entries(conn, 2)
        command.upgrade(alembic_config(conn), "head")
        command.downgrade(alembic_config(conn), BEFORE)
        head = conn.execute(text("SELECT head_id FROM audit_chain")).scalar_one()
        assert head == 2


def test_the_downgrade_is_refused_while_an_entry_waits_to_be_linked(engine_before):
    with engine_before.begin() as conn:
        command.upgrade(alembic_config(conn), "head")
    with Session(engine_before) as session:
        record(session, actor=None, action=AuditAction.LOGIN_FAILED, record_type="staff_user")
        session.commit()
    with engine_before.begin() as conn, pytest.raises(RuntimeError, match="unlinked"):
        command.downgrade(alembic_config(conn), BEFORE)
