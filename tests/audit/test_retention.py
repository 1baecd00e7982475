"""The worker purges the trail's entries past `audit_retention_months`, through the one path the
database allows, and the rest of the chain still verifies from the moved checkpoint."""

from datetime import timedelta

import pytest
from alembic import command
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlmodel import Session, select

from app.core.db import build_engine
from app.models.audit import AuditAction, AuditChain, AuditEvent, AuditPurgePermit
from app.services.audit.retention import purge_expired
from app.services.audit.trail import link_pending, record, verify
from app.worker import _housekeeping
from tests.conftest import NOW, alembic_config, scratch_database
from tests.factories import make_operator, make_staff


def _login_at(session, time_machine, user, moment):
    time_machine.move_to(moment, tick=False)
    return record(session, actor=user, action=AuditAction.LOGIN, record_type="staff_user")


@pytest.fixture
def trail(session, time_machine, counsellor):
    """Two entries 13 months old, one 11 months old, one of today (default: 12 months kept)."""
    moments = [NOW - timedelta(days=400), NOW - timedelta(days=396)]
    moments += [NOW - timedelta(days=330), NOW]
    entries = [_login_at(session, time_machine, counsellor, moment) for moment in moments]
    link_pending(session)
    return entries


def test_entries_past_the_retention_period_are_purged(session, trail):
    assert purge_expired(session=session, now=NOW) == 2
    kept = session.exec(select(AuditEvent.id).order_by(AuditEvent.seq)).all()
    assert kept == [trail[2].id, trail[3].id]
    assert session.exec(select(AuditPurgePermit)).all() == []  # the permit went with them


def test_the_chain_verifies_after_a_purge(session, trail):
    purge_expired(session=session, now=NOW)
    chain = session.get(AuditChain, 1)
    assert (chain.checkpoint_seq, chain.checkpoint_hash) == (trail[1].seq, trail[1].hash)
    verdict = verify(session)
    assert verdict.intact and verdict.checked == 2


def test_a_second_purge_finds_nothing_more(session, trail):
    purge_expired(session=session, now=NOW)
    assert purge_expired(session=session, now=NOW) == 0


def test_a_longer_retention_keeps_them(session, trail, monkeypatch):
    from app.core.config import get_settings

    monkeypatch.setattr(get_settings(), "audit_retention_months", 24)
    assert purge_expired(session=session, now=NOW) == 0
    assert verify(session).checked == 4


def test_an_entry_not_linked_yet_waits_for_a_later_purge(session, time_machine, counsellor):
    old = _login_at(session, time_machine, counsellor, NOW - timedelta(days=400))
    assert purge_expired(session=session, now=NOW) == 0
    link_pending(session)
    assert purge_expired(session=session, now=NOW) == 1
    assert session.get(AuditChain, 1).checkpoint_hash == old.hash


def test_a_permit_never_covers_an_entry_not_linked_yet(session, time_machine, counsellor):
    old = _login_at(session, time_machine, counsellor, NOW - timedelta(days=400))
    session.add(AuditPurgePermit(cutoff=NOW))
    session.flush()
    with pytest.raises(DBAPIError, match="written once"), session.begin_nested():
        session.execute(text(f"DELETE FROM audit_events WHERE id = {old.id}"))


def test_a_permit_covers_only_the_entries_older_than_its_cutoff(session, trail):
    session.add(AuditPurgePermit(cutoff=NOW - timedelta(days=365)))
    session.flush()
    with pytest.raises(DBAPIError, match="written once"), session.begin_nested():
        session.execute(text(f"DELETE FROM audit_events WHERE id = {trail[3].id}"))


@pytest.fixture
def committed_engine(database_url, tmp_path):
    with scratch_database(database_url, "audit_purge", tmp_path) as url:
        engine = build_engine(url)
        with engine.begin() as conn:
            command.upgrade(alembic_config(conn), "head")
        yield engine
        engine.dispose()


def test_the_worker_links_then_purges_on_its_pass(committed_engine, time_machine):
    with Session(committed_engine, expire_on_commit=False) as session:
        user = make_staff(session, make_operator(session))
        for moment in (NOW - timedelta(days=400), NOW - timedelta(days=1)):
            _login_at(session, time_machine, user, moment)
        session.commit()
    said: list[str] = []
    _housekeeping(committed_engine, said.append)
    assert any("Entrées du journal d'accès purgées" in line and ": 1." in line for line in said)
    with Session(committed_engine) as session:
        verdict = verify(session)
        assert (verdict.checked, verdict.unlinked) == (1, 0)
