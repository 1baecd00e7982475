"""The audit trail: entries chained by hash, refused any change by the database, and a broken
chain found by `verify`."""

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlmodel import select

from app.models.audit import AuditAction, AuditChain, AuditEvent
from app.services.audit.trail import Origin, entry_hash, record, verify
from tests.audit.trail_tampering import tamper


def _three_reads(session, counsellor, case):
    origin = Origin(ip="203.0.113.7", user_agent="Mozilla/5.0 " + "x" * 400)
    return [
        record(
            session,
            actor=counsellor,
            action=AuditAction.READ,
            record_type="case",
            record_id=case.id,
            beneficiary_id=case.beneficiary_id,
            origin=origin,
        )
        for _ in range(3)
    ]


def test_each_entry_chains_to_the_one_before(session, counsellor, case):
    first, second, third = _three_reads(session, counsellor, case)
    assert first.previous_hash == ""
    assert second.previous_hash == first.hash and third.previous_hash == second.hash
    assert [e.id for e in (first, second, third)] == [1, 2, 3]
    assert len({first.hash, second.hash, third.hash}) == 3
    chain = session.get(AuditChain, 1)
    assert (chain.head_id, chain.head_hash) == (3, third.hash)


def test_an_entry_says_who_what_whom_and_where_but_no_content(session, counsellor, case):
    entry = _three_reads(session, counsellor, case)[0]
    session.expire_all()
    stored = session.get(AuditEvent, entry.id)
    assert (stored.actor_id, stored.actor_role) == (counsellor.id, "counsellor")
    assert (stored.record_type, stored.record_id) == ("case", case.id)
    assert (stored.beneficiary_id, stored.operator_id) == (
        case.beneficiary_id,
        counsellor.operator_id,
    )
    assert stored.ip == "203.0.113.7" and len(stored.user_agent) == 200
    assert entry_hash(stored) == stored.hash  # the stored fields hash as they were written


def test_an_intact_chain_verifies(session, counsellor, case):
    _three_reads(session, counsellor, case)
    assert verify(session).intact and verify(session).checked == 3


@pytest.mark.parametrize(
    "statement",
    ["UPDATE audit_events SET record_id = record_id + 1", "DELETE FROM audit_events"],
)
def test_the_database_refuses_to_change_or_delete_an_entry(session, counsellor, case, statement):
    _three_reads(session, counsellor, case)
    with pytest.raises(DBAPIError, match="written once"), session.begin_nested():
        session.execute(text(statement))
    assert len(session.exec(select(AuditEvent)).all()) == 3


def test_postgresql_refuses_to_truncate_the_trail(session, counsellor, case):
    if session.get_bind().dialect.name != "postgresql":
        pytest.skip("TRUNCATE is PostgreSQL's")
    _three_reads(session, counsellor, case)
    with pytest.raises(DBAPIError, match="written once"), session.begin_nested():
        session.execute(text("TRUNCATE audit_events"))


@pytest.mark.parametrize(
    ("statement", "broken_id", "problem"),
    [
        ("UPDATE audit_events SET record_id = 999 WHERE id = 2", 2, "contenu modifié"),
        ("DELETE FROM audit_events WHERE id = 2", 2, "entrée manquante"),
        ("DELETE FROM audit_events WHERE id = 3", 3, "dernières entrées manquantes"),
    ],
)
def test_verify_finds_the_first_tampered_entry(
    session, counsellor, case, statement, broken_id, problem
):
    _three_reads(session, counsellor, case)
    session.flush()
    tamper(session.connection(), statement)
    session.expire_all()
    verdict = verify(session)
    assert (verdict.broken_id, verdict.problem) == (broken_id, problem)


def test_a_rewritten_entry_with_a_recomputed_hash_breaks_the_next_link(session, counsellor, case):
    first, second, _ = _three_reads(session, counsellor, case)
    second.record_id = 999
    forged = entry_hash(second)
    session.expire_all()
    tamper(
        session.connection(),
        f"UPDATE audit_events SET record_id = 999, hash = '{forged}' WHERE id = 2",
    )
    assert verify(session).broken_id == 3
