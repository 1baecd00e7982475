"""The outbox after a worker crash: a real `filrouge worker` process sends a batch of e-mails
to a real SMTP server (aiosmtpd, from the test dependencies), is killed with SIGKILL in the
middle of the batch a few times and started again; then every Message-ID the server received
is counted against those queued: lost (never received) and duplicated (received twice).

    .venv/bin/python -m bench.outbox_crash                      # SQLite in a scratch directory
    .venv/bin/python -m bench.outbox_crash --database-url postgresql://…/scratch --trigger random

`--trigger acceptance` kills the worker as soon as the server has accepted a chosen message:
the worst moment, between the server's acceptance and the worker's "sent" commit. `random`
kills it at a random moment of the batch. The lease is shortened (`--lease`, default 6 s) so
that the run takes a minute, not the default 120 s per crash: what a crash loses or sends
twice does not depend on it, only how long the message in flight waits. Everything started
here is stopped by pid, and the run gives up after `--max-seconds`.
"""

import argparse
import asyncio
import json
import os
import random
import signal
import subprocess
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime
from email import message_from_bytes
from email.policy import default
from pathlib import Path

from aiosmtpd.controller import Controller
from alembic import command
from sqlalchemy import func
from sqlmodel import Session, col, select

from app.cli import alembic_config
from app.core.db import build_engine
from app.models.outbox import OutboxMessage
from app.services.messaging.outbox import queue_email
from bench.server import REPO, _free_port


class Recorder:
    """An SMTP server's DATA handler that keeps each accepted Message-ID and when it came."""

    def __init__(self, delay: float) -> None:
        self.delay = delay
        self.received: list[tuple[float, str]] = []
        self.lock = threading.Lock()

    async def handle_DATA(self, server, session, envelope):
        message_id = message_from_bytes(envelope.content, policy=default)["Message-ID"]
        with self.lock:  # accepted from here on, as a relay that has queued the message
            self.received.append((time.monotonic(), str(message_id)))
        if self.delay:
            await asyncio.sleep(self.delay)
        return "250 Message accepted for delivery"

    def count(self) -> int:
        with self.lock:
            return len(self.received)


class Worker:
    """One `filrouge worker` process; stopped by its pid only."""

    def __init__(self, env: dict[str, str], log: Path) -> None:
        self.env, self.log = env, log
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        command_line = [sys.executable, "-m", "app.cli", "worker", "--interval", "0.2"]
        with self.log.open("a") as log:
            self.process = subprocess.Popen(
                command_line, cwd=REPO, env=self.env, stdout=log, stderr=subprocess.STDOUT
            )

    def kill(self) -> None:
        """What a power cut does: nothing after it runs."""
        os.kill(self.process.pid, signal.SIGKILL)
        self.process.wait()

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        os.kill(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.kill()


def prepare(url: str, count: int) -> set[str]:
    """Migrate the scratch database and queue `count` e-mails; returns their Message-IDs."""
    config = alembic_config()
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    config.attributes["configure_logger"] = False
    command.upgrade(config, "head")
    engine = build_engine(url)
    with Session(engine) as session:
        if session.exec(select(func.count()).select_from(OutboxMessage)).one():
            raise SystemExit("the database already has outbox messages: give a scratch one")
        ids = {
            queue_email(
                session=session,
                recipient=f"personne{n}@exemple.fr",
                subject=f"Message {n}",
                text="Bonjour,\nCeci est un essai d'envoi.\n",
            ).message_id
            for n in range(count)
        }
        session.commit()
    engine.dispose()
    return ids


def statuses(url: str) -> dict[str, int]:
    engine = build_engine(url)
    with Session(engine) as session:
        query = select(OutboxMessage.status, func.count()).group_by(OutboxMessage.status)
        found = dict(session.exec(query).all())
    engine.dispose()
    return found


def in_hand(url: str) -> dict[int, str]:
    """The messages a worker holds (status "sending"): id → Message-ID."""
    engine = build_engine(url)
    with Session(engine) as session:
        query = select(OutboxMessage.id, OutboxMessage.message_id).where(
            OutboxMessage.status == "sending"
        )
        found = dict(session.exec(query).all())
    engine.dispose()
    return found


def sent_at(url: str, ids: list[int]) -> dict[int, datetime | None]:
    engine = build_engine(url)
    with Session(engine) as session:
        query = select(OutboxMessage.id, OutboxMessage.sent_at).where(
            col(OutboxMessage.id).in_(ids)
        )
        found = dict(session.exec(query).all())
    engine.dispose()
    return found


def run(args: argparse.Namespace) -> dict:
    scratch = Path(tempfile.mkdtemp(prefix="filrouge-outbox-crash-"))
    url = args.database_url or f"sqlite:///{scratch / 'outbox.db'}"
    queued = prepare(url, args.messages)
    recorder = Recorder(args.server_delay_ms / 1000)
    port = _free_port()
    controller = Controller(recorder, hostname="127.0.0.1", port=port)
    controller.start()
    env = os.environ | {
        "FILROUGE_DATABASE_URL": url,
        "FILROUGE_SMTP_HOST": "127.0.0.1",
        "FILROUGE_SMTP_PORT": str(port),
        "FILROUGE_SMTP_SECURITY": "none",
        "FILROUGE_OUTBOX_LEASE_SECONDS": str(args.lease),
        "FILROUGE_SMTP_TIMEOUT_SECONDS": str(args.lease / 2),
        "FILROUGE_STORAGE_DIR": str(scratch / "files"),
    }
    worker = Worker(env, scratch / "worker.log")
    give_up = time.monotonic() + args.max_seconds
    rng = random.Random(args.seed)
    kills: list[dict] = []
    started = time.monotonic()
    try:
        for n in range(args.kills):
            worker.start()
            target = (n + 1) * args.messages // (args.kills + 1)  # spread over the batch
            while recorder.count() < target and time.monotonic() < give_up:
                time.sleep(0.0005 if args.trigger == "acceptance" else 0.01)
            if args.trigger == "random":
                time.sleep(rng.uniform(0, 0.5))
            worker.kill()
            killed_at = datetime.now(UTC)
            accepted = {message_id for _at, message_id in list(recorder.received)}
            # The dead worker's message, before the next worker starts (earlier ones may
            # still wait for their lease).
            earlier = {row["id"] for kill in kills for row in kill["in_hand"]}
            held = {k: v for k, v in in_hand(url).items() if k not in earlier}
            kills.append(
                {
                    "after_received": recorder.count(),
                    "at_s": round(time.monotonic() - started, 2),
                    "in_hand": [
                        {"id": row_id, "accepted_by_the_server": message_id in accepted}
                        for row_id, message_id in held.items()
                    ],
                    "killed_at": killed_at,
                }
            )
        worker.start()
        while time.monotonic() < give_up:
            found = statuses(url)
            if found.get("sent", 0) + found.get("failed", 0) == args.messages:
                break
            time.sleep(0.5)
    finally:
        worker.stop()
        controller.stop()
    held = [row for kill in kills for row in kill["in_hand"]]
    finished = sent_at(url, [row["id"] for row in held])
    for kill in kills:
        killed_at = kill.pop("killed_at")
        for row in kill["in_hand"]:
            done = finished.get(row["id"])
            row["sent_again_after_s"] = (
                round((done - killed_at).total_seconds(), 1) if done else None
            )
    ids = [message_id for _at, message_id in recorder.received]
    unique = set(ids)
    return {
        "engine": url.split(":", 1)[0],
        "messages": args.messages,
        "kills": kills,
        "trigger": args.trigger,
        "server_delay_ms": args.server_delay_ms,
        "lease_seconds": args.lease,
        "received": len(ids),
        "lost": len(queued - unique),
        "duplicated": len(ids) - len(unique),
        # A copy under another Message-ID would be counted here: receivers could not drop it.
        "unknown_ids": len(unique - queued),
        "statuses": statuses(url),
        "seconds": round(time.monotonic() - started, 1),
        "timed_out": time.monotonic() >= give_up,
        "worker_log": str(scratch / "worker.log"),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", help="a scratch database (default: SQLite in /tmp)")
    parser.add_argument("--messages", type=int, default=409)
    parser.add_argument("--kills", type=int, default=3)
    parser.add_argument("--trigger", choices=("acceptance", "random"), default="acceptance")
    parser.add_argument("--server-delay-ms", type=float, default=0, help="before each 250 reply")
    parser.add_argument("--lease", type=int, default=6, help="FILROUGE_OUTBOX_LEASE_SECONDS")
    parser.add_argument("--max-seconds", type=float, default=180)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--out", type=Path, help="also write the result as JSON here")
    args = parser.parse_args()
    text = json.dumps(run(args), indent=2, ensure_ascii=False)
    print(text)
    if args.out:
        args.out.write_text(text + "\n")


if __name__ == "__main__":
    main()
