"""`filrouge worker` stopped by SIGTERM, as a real process: the message in hand is sent, no
lease is left held, the heartbeat goes, and the process exits 0."""

import asyncio
import os
import signal
import subprocess
import sys
import threading
import time

import pytest
from alembic import command
from sqlmodel import Session, col, func, select

from app.core.config import get_settings
from app.core.db import build_engine
from app.models.outbox import MessageStatus, OutboxMessage
from app.models.system import WorkerHeartbeat
from app.services.messaging.outbox import queue_email
from tests.conftest import ROOT, alembic_config, scratch_database
from tests.smtp import RecordingHandler, SmtpServer

MESSAGES = 5


class HeldHandler(RecordingHandler):
    """Keeps the first message's DATA unanswered until the test lets it through."""

    def __init__(self) -> None:
        super().__init__()
        self.let_through = threading.Event()

    async def handle_DATA(self, server, session, envelope):
        await asyncio.get_running_loop().run_in_executor(None, self.let_through.wait, 60)
        return await super().handle_DATA(server, session, envelope)


@pytest.fixture
def held_smtp():
    server = SmtpServer()
    handler = HeldHandler()
    server.handler = server.controller.handler = handler
    with server:
        yield server
        handler.let_through.set()


@pytest.fixture
def scratch(database_url, tmp_path):
    with scratch_database(database_url, "shutdown", tmp_path) as url:
        engine = build_engine(url)
        with engine.begin() as conn:
            command.upgrade(alembic_config(conn), "head")
        yield url, engine
        engine.dispose()


def queue_messages(engine) -> None:
    with Session(engine) as session:
        for n in range(MESSAGES):
            queue_email(session=session, recipient=f"zoe{n}@exemple.fr", subject="Rdv", text="…")
        session.commit()


def heartbeats(engine) -> list[WorkerHeartbeat]:
    with Session(engine) as session:
        return list(session.exec(select(WorkerHeartbeat)))


def start_worker(url: str, smtp: SmtpServer, tmp_path) -> subprocess.Popen:
    env = os.environ | {
        "FILROUGE_DATABASE_URL": url,
        "FILROUGE_SECRET_KEY": get_settings().resolved_secret_key(),
        "FILROUGE_STORAGE_DIR": str(tmp_path / "files"),
        "FILROUGE_MAIL_DIR": str(tmp_path / "mail"),
        "FILROUGE_SMS_DIR": str(tmp_path / "sms"),
        "FILROUGE_SMTP_HOST": smtp.host,
        "FILROUGE_SMTP_PORT": str(smtp.port),
        "FILROUGE_SMTP_SECURITY": "none",
        "FILROUGE_SMTP_USERNAME": "",
    }
    log = (tmp_path / "worker.log").open("w")
    return subprocess.Popen(
        [sys.executable, "-m", "app.cli", "worker", "--interval", "0.2"],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )


def wait_for(condition, process: subprocess.Popen, tmp_path) -> None:
    for _ in range(600):  # 60 s at most; the test asserts what happened, not how fast
        if condition():
            return
        if process.poll() is not None:
            break
        time.sleep(0.1)
    pytest.fail(f"the worker never got there:\n{(tmp_path / 'worker.log').read_text()[-3000:]}")


def count(engine, *conditions) -> int:
    with Session(engine) as session:
        return session.exec(
            select(func.count()).select_from(OutboxMessage).where(*conditions)
        ).one()


def test_sigterm_sends_the_message_in_hand_and_leaves_no_lease(scratch, held_smtp, tmp_path):
    url, engine = scratch
    worker = start_worker(url, held_smtp, tmp_path)
    try:
        wait_for(lambda: len(heartbeats(engine)) == 1, worker, tmp_path)  # a first pass ran
        assert heartbeats(engine)[0].worker.endswith(f":{worker.pid}")
        queue_messages(engine)
        # The first message is in hand: claimed, its DATA held by the SMTP server.
        sending = OutboxMessage.status == MessageStatus.SENDING.value
        wait_for(lambda: count(engine, sending) == 1, worker, tmp_path)
        worker.send_signal(signal.SIGTERM)
        held_smtp.handler.let_through.set()
        assert worker.wait(timeout=60) == 0, (tmp_path / "worker.log").read_text()
    finally:
        if worker.poll() is None:
            worker.kill()
            worker.wait()

    assert count(engine, OutboxMessage.status == MessageStatus.SENT.value) == 1
    assert len(held_smtp.messages) == 1  # sent once, not cut off and sent again later
    assert count(engine, OutboxMessage.status == MessageStatus.PENDING.value) == MESSAGES - 1
    assert count(engine, sending) == 0
    assert count(engine, col(OutboxMessage.lease_until).is_not(None)) == 0
    assert heartbeats(engine) == []  # stopped on purpose, not dead
    assert (
        "Arrêté : aucun message ni dossier laissé en cours."
        in (tmp_path / "worker.log").read_text()
    )
