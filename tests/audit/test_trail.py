"""The audit trail: entries inserted unlinked, then chained by hash by the linker, refused any
other change by the database, and a broken chain found by `verify`."""

from types import SimpleNamespace

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlmodel import col, select

from app.models.audit import AuditAction, AuditChain, AuditEvent
from app.services.audit.trail import Origin, entry_hash, link_pending, record, verify
from tests.audit.trail_tampering import tamper


@pytest.fixture
def case():
    """Only its ids are recorded: no rows, whose creation would add entries of its own."""
    return SimpleNamespace(id=41, beneficiary_id=42)


def _three_reads(session, counsellor, case, *, linked=True):
    origin = Origin(ip="203.0.113.7", user_agent="Mozilla/5.0 " + "x" * 400)
    entries = [
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
    if linked:
        link_pending(session)
    return entries


def test_an_entry_is_recorded_unlinked(session, counsellor, case):
    entries = _three_reads(session, counsellor, case, linked=False)
    assert all(
        e.id is not None and (e.seq, e.previous_hash, e.hash) == (None,) * 3 for e in entries
    )
    assert verify(session).unlinked == 3 and verify(session).checked == 0


def test_the_linker_chains_each_entry_to_the_one_before(session, counsellor, case):
    first, second, third = _three_reads(session, counsellor, case)
    assert first.previous_hash == ""
    assert second.previous_hash == first.hash and third.previous_hash == second.hash
    assert [e.seq for e in (first, second, third)] == [1, 2, 3]
    assert len({first.hash, second.hash, third.hash}) == 3
    chain = session.get(AuditChain, 1)
    assert (chain.head_seq, chain.head_hash) == (3, third.hash)


def test_a_second_link_finds_nothing_and_a_later_entry_follows_the_head(session, counsellor, case):
    *_, third = _three_reads(session, counsellor, case)
    assert link_pending(session) == 0
    fourth = record(session, actor=counsellor, action=AuditAction.EXPORT, record_type="case")
    assert link_pending(session) == 1
    assert (fourth.seq, fourth.previous_hash) == (4, third.hash)


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
    verdict = verify(session)
    assert verdict.intact and (verdict.checked, verdict.unlinked) == (3, 0)


def test_the_database_lets_an_unlinked_entry_be_linked_once(session, counsellor, case):
    entry = _three_reads(session, counsellor, case, linked=False)[0]
    link = (
        f"UPDATE audit_events SET seq = 99, previous_hash = 'p', hash = 'h' WHERE id = {entry.id}"
    )
    session.execute(text(link))
    with pytest.raises(DBAPIError, match="written once"), session.begin_nested():
        session.execute(text(link.replace("99", "100").replace("'h'", "'h2'")))


def _other_value(column):
    """A value unlike any the entry holds, for the column's type."""
    if column.name == "at":
        return "'2001-01-01 00:00:00+00:00'"
    return "4242" if column.type.python_type is int else "'export'"


@pytest.mark.parametrize(
    "column",
    [c for c in AuditEvent.__table__.columns if c.name not in ("seq", "previous_hash", "hash")],
    ids=lambda c: c.name,
)
def test_linking_cannot_change_any_other_column(session, counsellor, case, column):
    """Every column is covered, one added later included (the SQLite trigger names them)."""
    entry = _three_reads(session, counsellor, case, linked=False)[1]
    value = _other_value(column)
    forged = (
        f"UPDATE audit_events SET seq = 99, previous_hash = 'p', hash = 'h',"
        f" {column.name} = {value} WHERE id = {entry.id}"
    )
    with pytest.raises(DBAPIError, match="written once"), session.begin_nested():
        session.execute(text(forged))


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE audit_events SET seq = NULL, previous_hash = NULL, hash = NULL",
        "UPDATE audit_events SET seq = seq + 10",
        "UPDATE audit_events SET hash = previous_hash || 'x'",
    ],
)
def test_a_linked_entry_cannot_be_unlinked_or_linked_again(session, counsellor, case, statement):
    _three_reads(session, counsellor, case)
    with pytest.raises(DBAPIError, match="written once"), session.begin_nested():
        session.execute(text(statement))


@pytest.mark.parametrize(
    "statement",
    ["UPDATE audit_events SET record_id = record_id + 1", "DELETE FROM audit_events"],
)
def test_the_database_refuses_to_change_or_delete_an_entry(session, counsellor, case, statement):
    _three_reads(session, counsellor, case)
    with pytest.raises(DBAPIError, match="written once"), session.begin_nested():
        session.execute(text(statement))
    assert len(session.exec(select(AuditEvent).where(col(AuditEvent.seq).is_not(None))).all()) == 3


def test_postgresql_refuses_to_truncate_the_trail(session, counsellor, case):
    if session.get_bind().dialect.name != "postgresql":
        pytest.skip("TRUNCATE is PostgreSQL's")
    _three_reads(session, counsellor, case)
    with pytest.raises(DBAPIError, match="written once"), session.begin_nested():
        session.execute(text("TRUNCATE audit_events"))


@pytest.mark.parametrize(
    ("statement", "broken_seq", "problem"),
    [
        ("UPDATE audit_events SET record_id = 999 WHERE seq = 2", 2, "contenu modifié"),
        (
            "UPDATE audit_events SET at = '2001-01-01 00:00:00+00:00' WHERE seq = 1",
            1,
            "contenu modifié",
        ),
        ("DELETE FROM audit_events WHERE seq = 2", 2, "entrée manquante"),
        ("DELETE FROM audit_events WHERE seq = 3", 3, "dernières entrées manquantes"),
    ],
)
def test_verify_finds_the_first_tampered_entry(
    session, counsellor, case, statement, broken_seq, problem
):
    _three_reads(session, counsellor, case)
    session.flush()
    tamper(session.connection(), statement)
    session.expire_all()
    verdict = verify(session)
    assert (verdict.broken_seq, verdict.problem) == (broken_seq, problem)


def test_a_rewritten_entry_with_a_recomputed_hash_breaks_the_next_link(session, counsellor, case):
    first, second, _ = _three_reads(session, counsellor, case)
    second.record_id = 999
    forged = entry_hash(second)
    session.expire_all()
    tamper(
        session.connection(),
        f"UPDATE audit_events SET record_id = 999, hash = '{forged}' WHERE seq = 2",
    )
    assert verify(session).broken_seq == 3
