"""`filrouge worker`: one pass delivers and says so; a database error does not end the loop."""

import threading

import pytest
from alembic import command
from sqlmodel import Session
from typer.testing import CliRunner

from app.cli import cli
from app.core.db import build_engine
from app.services.messaging.outbox import queue_email
from app.worker import run_delivery_loop
from tests.conftest import alembic_config, scratch_database


@pytest.fixture
def worker_engine(database_url, tmp_path, monkeypatch):
    with scratch_database(database_url, "worker", tmp_path) as url:
        engine = build_engine(url)
        with engine.begin() as conn:
            command.upgrade(alembic_config(conn), "head")
        monkeypatch.setattr("app.worker.get_engine", lambda: engine)
        # Ctrl-C handling belongs to a real process, not to the test runner.
        monkeypatch.setattr("app.cli.stop_on_signals", lambda *_: None)
        yield engine
        engine.dispose()


def test_worker_once_delivers_what_is_due_and_reports_it(worker_engine, smtp_server):
    with Session(worker_engine) as session:
        for n in range(2):
            queue_email(session=session, recipient=f"zoe{n}@exemple.fr", subject="Rdv", text="…")
        session.commit()
    result = CliRunner().invoke(cli, ["worker", "--once"])
    assert result.exit_code == 0, result.output
    assert f"envoyés par SMTP via 127.0.0.1:{smtp_server.port}" in result.output
    assert "2 envoyé(s), 0 à réessayer, 0 en échec" in result.output
    assert len(smtp_server.messages) == 2


def test_worker_stays_quiet_when_there_is_nothing_to_send(worker_engine, smtp_server):
    result = CliRunner().invoke(cli, ["worker", "--once"])
    assert result.exit_code == 0 and "Messages :" not in result.output


def test_a_database_error_is_reported_instead_of_ending_the_loop(tmp_path, smtp_server):
    empty = build_engine(f"sqlite:///{tmp_path / 'empty.db'}")  # no tables at all
    lines: list[str] = []
    run_delivery_loop(echo=lines.append, stop=threading.Event(), once=True, engine=empty)
    empty.dispose()
    assert len(lines) == 1 and "Envoi des messages impossible" in lines[0]


def test_a_failed_pass_is_logged_with_its_full_traceback(tmp_path, smtp_server, log_lines):
    empty = build_engine(f"sqlite:///{tmp_path / 'empty.db'}")  # no tables at all
    run_delivery_loop(echo=lambda _line: None, stop=threading.Event(), once=True, engine=empty)
    empty.dispose()

    [line] = [line for line in log_lines() if line["logger"] == "app.worker"]
    assert (line["level"], line["message"]) == ("ERROR", "outbox delivery pass failed")
    assert line["exception"].startswith("Traceback (most recent call last)")
    assert "in deliver_due" in line["exception"]  # where it failed, not only what
    assert "sqlalchemy.exc.OperationalError: (sqlite3.OperationalError)" in line["exception"]


def test_a_failed_housekeeping_job_is_reported_and_the_next_one_still_runs(
    worker_engine, smtp_server, monkeypatch
):
    import app.worker as worker

    def broken(*, session):
        raise RuntimeError("panne")

    (_, name, done, failed), *others = worker._HOUSEKEEPING
    monkeypatch.setattr(
        worker,
        "_HOUSEKEEPING",
        ((broken, name, done, failed), *others, (lambda *, session: 2, "x", "Fait", "Raté")),
    )
    lines: list[str] = []
    run_delivery_loop(echo=lines.append, stop=threading.Event(), once=True, engine=worker_engine)
    assert any(f"{failed} : RuntimeError" in line for line in lines)
    assert any(line.endswith("Fait : 2.") for line in lines)


def test_the_first_pass_of_the_month_takes_the_national_snapshots(worker_engine, smtp_server):
    """This year's and last year's national figures, once: nobody waits for them on the 1st."""
    lines: list[str] = []
    for _ in range(2):
        run_delivery_loop(
            echo=lines.append, stop=threading.Event(), once=True, engine=worker_engine
        )
    assert sum(line.endswith("Vues nationales du mois arrêtées : 2.") for line in lines) == 1
