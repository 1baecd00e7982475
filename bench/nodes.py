"""Several app nodes and workers on one database, as several machines would run them: each node
a `filrouge serve --no-worker` process (uvicorn and its web processes), each worker a
`filrouge worker` process, all sharing one database, one file store and one SMTP server. Used
by tests/deploy/test_two_nodes.py and by `make load` (bench/load.py).

Every process starts in a process group of its own and is stopped through it, by its pid:
SIGTERM, then SIGKILL if it has not ended in time. `kill()` is the power cut (SIGKILL now).

A process's settings are the cluster's and nothing else: no FILROUGE_* variable of the shell
that started the run, and no .env file (the settings read the one of the current directory:
each process runs in a directory of its own under the scratch directory, with none there)."""

import os
import secrets
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email import message_from_bytes
from email.policy import default
from pathlib import Path

import httpx

from bench.server import REPO, _free_port

# A node answers /healthz within this, or the run stops: importing the app takes a few seconds
# per web process, and several nodes' processes start together on a machine of two cores.
START_SECONDS = 120


class SmtpSink:
    """An SMTP server's DATA handler (aiosmtpd) that keeps each accepted message's Message-ID.

    A message counts as accepted once its data is in, before the 250 reply, as a relay that has
    queued it. `before_reply`, when set, is called there with the Message-ID, the client waiting
    for the reply; once it returns True it is not called again (a test kills the client there:
    a worker that dies with its message accepted without knowing it)."""

    def __init__(self) -> None:
        self.received: list[str] = []
        self.lock = threading.Lock()
        self.before_reply: Callable[[str], bool] | None = None

    async def handle_DATA(self, server, session, envelope):
        message_id = str(message_from_bytes(envelope.content, policy=default)["Message-ID"])
        with self.lock:
            self.received.append(message_id)
        if self.before_reply is not None and self.before_reply(message_id):
            self.before_reply = None
        return "250 Message accepted for delivery"

    def count(self) -> int:
        with self.lock:
            return len(self.received)

    def tally(self, queued: set[str]) -> "Tally":
        """Of the `queued` Message-IDs: how many never came, how many came more than once."""
        with self.lock:
            counts = Counter(self.received)
        ours = {message_id: n for message_id, n in counts.items() if message_id in queued}
        return Tally(
            lost=len(queued - set(ours)),
            doubled=sum(n - 1 for n in ours.values()),
            received=sum(ours.values()),
        )

    def repeated(self, queued: set[str]) -> set[str]:
        """The `queued` Message-IDs that came more than once."""
        with self.lock:
            counts = Counter(self.received)
        return {message_id for message_id in queued if counts[message_id] > 1}


@dataclass(frozen=True)
class Tally:
    lost: int
    doubled: int
    received: int


@contextmanager
def smtp_sink() -> Iterator[tuple[SmtpSink, int]]:
    """A real SMTP server on a free port of 127.0.0.1, for the time of the block."""
    from aiosmtpd.controller import Controller  # a test dependency, as for bench.outbox_crash

    sink, port = SmtpSink(), _free_port()
    controller = Controller(sink, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield sink, port
    finally:
        controller.stop()


def cluster_env(
    *,
    database_url: str,
    storage: dict[str, str],
    smtp_port: int,
    scratch: Path,
    secret_key: str | None = None,
    **settings: str,
) -> dict[str, str]:
    """What every node and worker shares: the database, the file store (`storage`: the
    FILROUGE_STORAGE_* settings of one back-end), the SMTP server, the secret key (a session
    or a CSRF token signed by one node must be read by the other; a new one unless given) and `settings` (FILROUGE_*
    names without their prefix, e.g. PUBLIC_RATE_LIMIT="8/minute"). Of this process's
    environment, every FILROUGE_* variable is left out: a setting of the shell that started
    the run must not reach the cluster (a second database URL, a storage of its own…)."""
    inherited = {name: value for name, value in os.environ.items() if not _is_setting(name)}
    # The processes run outside the repository (see `Process.start`): Python finds `app` here.
    inherited["PYTHONPATH"] = os.pathsep.join(
        filter(None, [str(REPO), os.environ.get("PYTHONPATH", "")])
    )
    env = inherited | {
        "FILROUGE_DATABASE_URL": database_url,
        "FILROUGE_SECRET_KEY": secret_key or secrets.token_urlsafe(48),
        "FILROUGE_SMTP_HOST": "127.0.0.1",
        "FILROUGE_SMTP_PORT": str(smtp_port),
        "FILROUGE_SMTP_SECURITY": "none",
        "FILROUGE_SMTP_USERNAME": "",
        "FILROUGE_MAIL_DIR": str(scratch / "mail"),
        "FILROUGE_SMS_DIR": str(scratch / "sms"),
    }
    env |= storage
    env |= {f"FILROUGE_{name.upper()}": value for name, value in settings.items()}
    return env


def _is_setting(name: str) -> bool:
    return name.upper().startswith("FILROUGE_")  # the settings ignore the case of names


@dataclass
class Process:
    """One node or worker; `name` names its log file in the scratch directory."""

    name: str
    arguments: list[str]
    env: dict[str, str]
    scratch: Path
    port: int | None = None
    popen: subprocess.Popen | None = field(default=None, repr=False)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def log(self) -> Path:
        return self.scratch / f"{self.name}.log"

    @property
    def pid(self) -> int:
        return self.popen.pid

    @property
    def directory(self) -> Path:
        """Its current directory: one of its own, without the repository's .env file."""
        return self.scratch / self.name

    def start(self) -> "Process":
        command = [sys.executable, "-m", "app.cli", *self.arguments]
        self.directory.mkdir(parents=True, exist_ok=True)
        with self.log.open("a") as out:
            self.popen = subprocess.Popen(
                command,
                cwd=self.directory,
                env=self.env,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # its own process group: uvicorn's children go with it
            )
        return self

    def running(self) -> bool:
        return self.popen is not None and self.popen.poll() is None

    def kill(self) -> None:
        """What a power cut does: nothing after it runs, no lease released."""
        os.killpg(self.pid, signal.SIGKILL)
        self.popen.wait()

    def wait(self, timeout: float) -> None:
        """Until it ends by itself (`worker --once`); still running after `timeout` s: raise."""
        try:
            self.popen.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            raise RuntimeError(f"{self.name} still running after {timeout} s") from None

    def stop(self, timeout: float = 20) -> None:
        if not self.running():
            return
        os.killpg(self.pid, signal.SIGTERM)
        try:
            self.popen.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.kill()

    def wait_until_healthy(self) -> None:
        deadline = time.monotonic() + START_SECONDS
        while time.monotonic() < deadline:
            if not self.running():
                raise RuntimeError(f"{self.name} stopped:\n{self.tail()}")
            try:
                if httpx.get(f"{self.base_url}/healthz", timeout=2).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.1)
        raise RuntimeError(f"{self.name} did not answer /healthz:\n{self.tail()}")

    def tail(self, size: int = 3000) -> str:
        return self.log.read_text()[-size:] if self.log.exists() else ""


def node(name: str, env: dict[str, str], scratch: Path, *, web_processes: int = 1) -> Process:
    """An app node: `filrouge serve` without its delivery thread (workers deliver)."""
    port = _free_port()
    arguments = ["serve", "--no-worker", "--port", str(port), "--workers", str(web_processes)]
    return Process(name, arguments, env, scratch, port=port)


def worker(
    name: str, env: dict[str, str], scratch: Path, *, interval: float = 0.2, once: bool = False
) -> Process:
    """A worker; `once`: one pass, then it ends (`Process.wait`)."""
    arguments = ["worker", "--once"] if once else ["worker", "--interval", str(interval)]
    return Process(name, arguments, env, scratch)


@contextmanager
def running(processes: list[Process]) -> Iterator[list[Process]]:
    """Start them one after the other, each node answering /healthz before the next starts;
    stop each by its pid at the end, whatever happened (a worker killed and started again by
    the caller included). One at a time: uvicorn's supervisor ends a web process that has not
    answered its health check within seconds, and on a busy machine of two cores, several
    nodes importing the app at once are that slow."""
    try:
        for process in processes:
            process.start()
            if process.port is not None:
                process.wait_until_healthy()
        yield processes
    finally:
        for process in processes:
            process.stop()
