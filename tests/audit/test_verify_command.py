"""`filrouge audit verify` on a committed database: it links the entries waiting, then says the
chain holds, or names the first entry that breaks it and exits non-zero."""

import pytest
from alembic import command
from sqlmodel import Session
from typer.testing import CliRunner

from app.cli import cli
from app.core.db import build_engine
from app.models.audit import AuditAction
from app.services.audit.trail import link_pending, record, snapshot_engine
from tests.audit.trail_tampering import tamper
from tests.conftest import alembic_config, scratch_database
from tests.factories import make_operator, make_staff


def _export(session, staff, n):
    record(session, actor=staff, action=AuditAction.EXPORT, record_type="case", record_id=n)


@pytest.fixture
def trail_engine(database_url, tmp_path, monkeypatch):
    with scratch_database(database_url, "audit_cli", tmp_path) as url:
        engine = build_engine(url)
        with engine.begin() as conn:
            command.upgrade(alembic_config(conn), "head")
        monkeypatch.setattr("app.cli.get_engine", lambda: engine)
        with Session(engine) as session:
            staff = make_staff(session, make_operator(session))
            for n in range(5):
                _export(session, staff, n)
            session.commit()
        yield engine
        engine.dispose()


def test_an_intact_trail_is_linked_then_verified(trail_engine):
    result = CliRunner().invoke(cli, ["audit", "verify"])
    assert result.exit_code == 0, result.output
    assert "intact : 5 entrées vérifiées" in result.output
    assert "pas encore chaînées" not in result.output


def test_an_entry_committed_after_the_linking_is_counted_as_waiting(trail_engine, monkeypatch):
    """An entry committed between the command's linking and its snapshot of the chain."""

    def record_then_snapshot(engine):
        with Session(trail_engine) as other:
            _export(other, None, 99)
            other.commit()
        return snapshot_engine(engine)

    monkeypatch.setattr("app.cli.snapshot_engine", record_then_snapshot)
    result = CliRunner().invoke(cli, ["audit", "verify"])
    assert "intact : 5 entrées vérifiées" in result.output
    assert "Entrées pas encore chaînées : 1." in result.output


def test_a_tampered_entry_is_named_and_the_command_fails(trail_engine):
    with trail_engine.begin() as conn:
        link_pending(Session(bind=conn))
        tamper(conn, "UPDATE audit_events SET action = 'read' WHERE seq = 4")
    result = CliRunner().invoke(cli, ["audit", "verify"])
    assert result.exit_code == 1
    assert "altéré à l'entrée n° 4 : contenu modifié" in result.output
