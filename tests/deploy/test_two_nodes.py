"""Two app nodes and two workers, each a process of its own as two machines would run them,
on one PostgreSQL database, one S3 store (SeaweedFS) and one SMTP server (issue 22, item 2): what one
node does, the other sees — a file, a proof pack, a session, the public rate limit — and a
burst of e-mails survives a worker killed with SIGKILL in the middle of it.

PostgreSQL only: on SQLite, two machines cannot share the database. Run with `pytest -s` to
see the outbox figures."""

import hashlib
import re
import secrets
import time
from datetime import UTC, date, datetime, timedelta
from html import unescape
from pathlib import Path

import httpx
import pytest
from alembic import command
from sqlalchemy.engine import make_url
from sqlmodel import Session, col, func, select

from app.core.config import get_settings
from app.core.db import build_engine
from app.models.attachments import Attachment
from app.models.nomenclatures import Role
from app.models.outbox import MessageStatus, OutboxMessage
from app.services.messaging.outbox import queue_email
from bench import nodes
from tests.conftest import alembic_config, scratch_database
from tests.factories import (
    PASSWORD,
    bearer,
    ended_unit,
    make_appointment_type,
    make_case,
    make_openings,
    make_operator,
    make_site,
    make_staff,
    paris_today,
)

RATE_LIMIT = 8  # public requests per minute and address, on both nodes together
LEASE_SECONDS = 4  # a killed worker's message waits this long before another takes it
BURST = 300
KILL_AFTER = BURST // 3  # the worker is killed while the server takes this message of the burst
# Each worker process delivers e-mails from one thread, one claimed message at a time
# (app/services/messaging/outbox.py, deliver_due): a worker killed holds one message.
IN_HAND_PER_WORKER = 1
WAIT_SECONDS = 30  # the bound on every wait below; nothing is asserted on time


def _own_scratch(env: dict[str, str], scratch: Path, name: str) -> dict[str, str]:
    """A process's environment with a scratch directory of its own, as on its own machine:
    what one process needs of another's files can only come through the S3 store."""
    return env | {"FILROUGE_STORAGE_DIR": str(scratch / name / "files")}


def _poll(condition, what: str, seconds: float = WAIT_SECONDS):
    """Wait until `condition()` gives something true (returned), a tenth of a second apart."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if found := condition():
            return found
        time.sleep(0.1)
    pytest.fail(f"still waiting after {seconds} s: {what}")


class Seeded:
    def __init__(self, engine) -> None:
        with Session(engine, expire_on_commit=False) as session:
            operator = make_operator(session, code="NOD", name="Opérateur des deux nœuds")
            site = make_site(session, operator)
            counsellor = make_staff(session, operator, full_name="Nadia Deux-Nœuds")
            manager = make_staff(session, operator, Role.MANAGER)
            make_openings(session, counsellor, site)
            kind = make_appointment_type(session, operator)
            case = make_case(session, counsellor)
            ended = paris_today() - timedelta(days=10)
            for _ in range(3):  # UO0 needs no proof: billable, drawn as it is
                ended_unit(session, make_case(session, counsellor), "UO0", ended_at=_noon(ended))
            session.commit()
        self.operator_id = operator.id
        self.site_id, self.kind_id, self.case_id = site.id, kind.id, case.id
        self.counsellor, self.counsellor_name = counsellor.email, counsellor.full_name
        self.manager = manager  # with two-factor authentication: an API token, not a password
        self.period = (ended - timedelta(days=5), ended + timedelta(days=5))


def _noon(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, 11, tzinfo=UTC)


class Cluster:
    def __init__(self, engine, seeded, sink, a, b, workers) -> None:
        self.engine, self.seeded, self.sink = engine, seeded, sink
        self.a, self.b, self.workers = a, b, workers


@pytest.fixture(scope="module")
def cluster(database_url, tmp_path_factory, s3_server):
    if make_url(database_url).get_backend_name() != "postgresql":
        pytest.skip("two nodes share a PostgreSQL database; SQLite is one machine's")
    scratch = tmp_path_factory.mktemp("two-nodes")
    with (
        scratch_database(database_url, "nodes", scratch) as url,
        nodes.smtp_sink() as (sink, smtp_port),
    ):
        engine = build_engine(url)
        with engine.begin() as conn:
            command.upgrade(alembic_config(conn), "head")
        seeded = Seeded(engine)
        env = nodes.cluster_env(
            database_url=url,
            storage=s3_server.environment(f"nodes-{secrets.token_hex(4)}"),
            smtp_port=smtp_port,
            scratch=scratch,
            # This process's: it signs the manager's API token (tests.factories.bearer).
            secret_key=get_settings().resolved_secret_key(),
            public_rate_limit=f"{RATE_LIMIT}/minute",
            outbox_lease_seconds=str(LEASE_SECONDS),
            smtp_timeout_seconds=str(LEASE_SECONDS / 2),
        )
        a = nodes.node("node-a", _own_scratch(env, scratch, "node-a"), scratch)
        b = nodes.node("node-b", _own_scratch(env, scratch, "node-b"), scratch)
        workers = [
            nodes.worker(f"worker-{n}", _own_scratch(env, scratch, f"worker-{n}"), scratch)
            for n in (1, 2)
        ]
        try:
            with nodes.running([a, b, *workers]):
                yield Cluster(engine, seeded, sink, a, b, workers)
        finally:
            engine.dispose()


def _hidden(html: str, name: str) -> str:
    return unescape(re.search(rf'name="{name}" value="([^"]*)"', html).group(1))


def _browser_on(node: nodes.Process, email: str) -> httpx.Client:
    """A browser logged in through `node`'s login form."""
    client = httpx.Client(base_url=node.base_url, timeout=WAIT_SECONDS)
    form = {
        "email": email,
        "password": PASSWORD,
        "csrf_token": _hidden(client.get("/login").text, "csrf_token"),
    }
    assert client.post("/login", data=form).status_code == 303
    return client


def _same_browser_on(client: httpx.Client, node: nodes.Process) -> httpx.Client:
    """The browser's cookies, sent to the other node (as a proxy would)."""
    other = httpx.Client(base_url=node.base_url, timeout=WAIT_SECONDS)
    other.cookies.update(client.cookies)
    return other


def test_a_session_opened_on_a_works_on_b_and_ends_on_both(cluster):
    on_a = _browser_on(cluster.a, cluster.seeded.counsellor)
    on_b = _same_browser_on(on_a, cluster.b)

    home = on_b.get("/")
    assert home.status_code == 200 and cluster.seeded.counsellor_name in home.text

    # The CSRF token of the session, given by B, is good on A: logging out there ends it on B.
    token = re.search(r'<meta name="csrf-token" content="([^"]+)"', home.text).group(1)
    assert on_a.post("/logout", data={"csrf_token": token}).status_code == 303
    after = on_b.get("/")
    assert after.status_code == 303 and after.headers["location"].startswith("/login")


def test_a_file_uploaded_through_a_is_downloaded_through_b_byte_for_byte(cluster):
    case_id = cluster.seeded.case_id
    on_a = _browser_on(cluster.a, cluster.seeded.counsellor)
    token = _hidden(on_a.get(f"/cases/{case_id}").text, "csrf_token")
    content = b"%PDF-1.7\n%" + secrets.token_hex(200_000).encode() + b"\n%%EOF\n"
    upload = on_a.post(
        f"/cases/{case_id}/attachments",
        data={"csrf_token": token, "description": "Pièce des deux nœuds"},
        files={"file": ("piece.pdf", content, "application/pdf")},
    )
    assert upload.status_code == 303, upload.text[-2000:]
    with Session(cluster.engine) as session:
        attachment_id = session.exec(
            select(Attachment.id).where(Attachment.case_id == case_id)
        ).one()

    on_b = _same_browser_on(on_a, cluster.b)
    download = on_b.get(f"/attachments/{attachment_id}/download")

    assert download.status_code == 200
    assert hashlib.sha256(download.content).digest() == hashlib.sha256(content).digest()


def test_a_proof_pack_requested_on_a_is_built_once_and_served_by_b(cluster):
    first, last = cluster.seeded.period
    body = {"from": first.isoformat(), "to": last.isoformat(), "sample_size": 3}
    on_a = httpx.Client(
        base_url=cluster.a.base_url,
        headers=bearer(cluster.seeded.manager),
        timeout=WAIT_SECONDS,
    )
    created = on_a.post("/api/v1/control-campaigns", json=body)
    assert created.status_code == 202, created.text
    location = created.headers["location"]

    # Node A's own background task and the two workers race for it: the lease lets one build.
    on_b = httpx.Client(
        base_url=cluster.b.base_url,
        headers=bearer(cluster.seeded.manager),
        timeout=WAIT_SECONDS,
    )

    def finished():
        campaign = on_b.get(location).json()
        return campaign if campaign["status"] in ("ready", "failed") else None

    campaign = _poll(finished, "the proof pack")
    assert campaign["status"] == "ready", campaign
    pack = on_b.get(f"{location}/proof-pack", params={"purpose": "controle_service_fait"})
    assert pack.status_code == 200, pack.text[:500]
    assert hashlib.sha256(pack.content).hexdigest() == campaign["pack_sha256"]
    assert len(pack.content) == campaign["pack_size"]


def test_the_public_rate_limit_holds_across_both_nodes(cluster):
    tomorrow = paris_today() + timedelta(days=1)
    params = {
        "appointment_type": cluster.seeded.kind_id,
        "site": cluster.seeded.site_id,
        "from": tomorrow.isoformat(),
        "to": (tomorrow + timedelta(days=6)).isoformat(),
    }
    statuses = [
        httpx.get(f"{node.base_url}/api/v1/public/slots", params=params).status_code
        for node in [cluster.a, cluster.b] * (RATE_LIMIT // 2 + 1)
    ]

    # Either node alone let through half of the allowance: the count is the database's.
    assert statuses == [200] * RATE_LIMIT + [429] * 2


def _queue_burst(engine) -> set[str]:
    with Session(engine) as session:
        queued = {
            queue_email(
                session=session,
                recipient=f"personne{n}@exemple.fr",
                subject=f"Rafale {n}",
                text="Bonjour,\nCeci est un essai d'envoi par deux nœuds.\n",
            ).message_id
            for n in range(BURST)
        }
        session.commit()
    return queued


def _statuses(engine, message_ids: set[str]) -> dict[str, int]:
    with Session(engine) as session:
        query = (
            select(OutboxMessage.status, func.count())
            .where(col(OutboxMessage.message_id).in_(message_ids))
            .group_by(OutboxMessage.status)
        )
        return dict(session.exec(query).all())


def _in_hand(engine, message_ids: set[str]) -> set[str]:
    """The burst's messages a worker holds now (claimed, not yet recorded as sent)."""
    with Session(engine) as session:
        query = select(OutboxMessage.message_id).where(
            col(OutboxMessage.message_id).in_(message_ids),
            OutboxMessage.status == MessageStatus.SENDING.value,
        )
        return set(session.exec(query).all())


def _daily_pass_done(cluster) -> None:
    """Stop both workers (SIGTERM: they leave no message claimed), then one `worker --once`
    pass: the day's housekeeping is done, the burst meets workers that only send."""
    for worker in cluster.workers:
        worker.stop()
    first = cluster.workers[0]
    once = nodes.worker("worker-once", first.env, first.scratch, once=True).start()
    try:
        once.wait(timeout=WAIT_SECONDS)
    finally:
        once.stop()
    assert once.popen.returncode == 0, once.tail()


def test_a_burst_of_messages_survives_a_worker_killed_mid_batch(cluster):
    """None lost, and the one message the killed worker held is the only one sent twice, if any.

    The window: a worker claims one message (a committed lease), sends it, then commits
    "sent". Killed before the server accepted the message, it has sent nothing: the lease runs
    out (LEASE_SECONDS here) and another worker sends it once. Killed after the server
    accepted it and before the "sent" commit, the message goes out again when the lease runs
    out — under the same Message-ID, so that mail systems drop the copy.

    The victim is killed in that window every time: by the SMTP server itself, once the data of
    the burst's KILL_AFTER-th message is in and before its reply. It runs alone until then
    (a lease does not name its worker: what is claimed at the kill is the victim's); the
    survivor starts after the kill. The figures are printed (`pytest -s`)."""
    engine, sink = cluster.engine, cluster.sink
    victim, survivor = cluster.workers
    _daily_pass_done(cluster)
    queued = _queue_burst(engine)
    killed: list[str] = []  # the Message-ID whose reply the victim was waiting for

    def kill_mid_message(message_id: str) -> bool:
        if killed or message_id not in queued or sink.tally(queued).received < KILL_AFTER:
            return False
        victim.kill()
        killed.append(message_id)
        return True

    sink.before_reply = kill_mid_message
    victim.start()
    _poll(lambda: killed, f"the victim killed at message {KILL_AFTER} of the burst")
    held = _in_hand(engine, queued)  # claimed and never recorded: the victim's
    received_at_kill = sink.tally(queued).received
    survivor.start()
    victim.start()  # the same machine, back after its power cut

    def all_sent():
        return _statuses(engine, queued) == {MessageStatus.SENT.value: BURST}

    _poll(all_sent, "every message of the burst sent", seconds=WAIT_SECONDS + LEASE_SECONDS)
    tally, doubled = sink.tally(queued), sink.repeated(queued)
    print(
        f"\n[two nodes] burst of {BURST}: worker killed after {received_at_kill} received, "
        f"holding {sorted(held)}; received {tally.received}, lost {tally.lost}, "
        f"sent twice {sorted(doubled)}"
    )
    assert len(held) == IN_HAND_PER_WORKER and held == set(killed)
    assert tally.lost == 0
    assert doubled <= held
    assert tally.doubled == len(doubled)  # a copy at most, never two
    assert survivor.running() and victim.running()
