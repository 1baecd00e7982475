"""The worker purges the trail's entries past `audit_retention_months`, through the one path the
database allows, and the rest of the chain still verifies from the moved checkpoint."""

from datetime import timedelta

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlmodel import select

from app.models.audit import AuditAction, AuditChain, AuditEvent, AuditPurgePermit
from app.services.audit.retention import purge_expired
from app.services.audit.trail import record, verify
from tests.conftest import NOW


def _login_at(session, time_machine, user, moment):
    time_machine.move_to(moment, tick=False)
    return record(session, actor=user, action=AuditAction.LOGIN, record_type="staff_user")


@pytest.fixture
def trail(session, time_machine, counsellor):
    """Two entries 13 months old, one 11 months old, one of today (default: 12 months kept)."""
    moments = [NOW - timedelta(days=400), NOW - timedelta(days=396)]
    moments += [NOW - timedelta(days=330), NOW]
    entries = [_login_at(session, time_machine, counsellor, moment) for moment in moments]
    return entries


def test_entries_past_the_retention_period_are_purged(session, trail):
    assert purge_expired(session=session, now=NOW) == 2
    kept = session.exec(select(AuditEvent.id).order_by(AuditEvent.id)).all()
    assert kept == [trail[2].id, trail[3].id]
    assert session.exec(select(AuditPurgePermit)).all() == []  # the permit went with them


def test_the_chain_verifies_after_a_purge(session, trail):
    purge_expired(session=session, now=NOW)
    chain = session.get(AuditChain, 1)
    assert (chain.checkpoint_id, chain.checkpoint_hash) == (trail[1].id, trail[1].hash)
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


def test_a_permit_covers_only_the_entries_older_than_its_cutoff(session, trail):
    session.add(AuditPurgePermit(cutoff=NOW - timedelta(days=365)))
    session.flush()
    with pytest.raises(DBAPIError, match="written once"), session.begin_nested():
        session.execute(text(f"DELETE FROM audit_events WHERE id = {trail[3].id}"))
