"""`make load`: a working morning played against two app nodes and a worker on one PostgreSQL
database, for a fixed number of minutes, on localhost only; it stops by itself.

    .venv/bin/python -m bench.load --database-url postgresql://user:pass@127.0.0.1/db --minutes 2

What plays (issue 22, item 6):
- `--counsellors` (200) counsellors, each a browser of its own logged in through the login form
  (the dataset's accounts taken in turn: several browsers may share one) at a moment drawn in
  the first `--arrival-seconds` (60), as a morning starts, browse their home,
  agenda, open cases and search, and record interactions through the case page's form, one
  action every `--think-seconds` on average; each request goes to either node, as a proxy
  without sticky sessions would send it;
- people book through the public API at `--bookings-per-minute` (50), each booking on time
  whatever the answers before it;
- half-way, a manager opens the operator's activity report and draws a control campaign whose
  proof pack the worker (or the node that took the request) builds.

At the end: p50/p95/p99 per route template, the interactive requests' p50/p95 minute by minute
(the arrivals against the steady state), the 5xx and transport errors, the e-mails queued
during the run against those the SMTP sink received (lost or doubled, after the outbox has
drained), and the most connections PostgreSQL had open at once (pg_stat_activity, sampled
twice a second) against its max_connections. Each process's pool follows the number of
processes (`pool_size`, FILROUGE_DATABASE_POOL_SIZE), so that all of them together stay within
max_connections.

The run writes to the database (logins, interactions, bookings, a campaign): use a copy.
Latencies are client-side round trips on localhost, the load generator sharing the machine."""

import argparse
import itertools
import os
import random
import signal
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # `python bench/load.py` too

from app.core.config import get_settings  # noqa: E402
from app.core.db import default_web_workers  # noqa: E402
from app.synthetic import SYNTHETIC_PASSWORD  # noqa: E402
from bench import booking, nodes  # noqa: E402
from bench.database import RawDatabase  # noqa: E402
from bench.measure import percentile  # noqa: E402
from bench.server import REPO  # noqa: E402
from bench.staff import ANON_CSRF_COOKIE, SESSION_COOKIE  # noqa: E402
from bench.subjects import pick_subjects  # noqa: E402

INTERACTIVE_P95_MS = 100
# Connections kept aside for whoever else connects: superusers, psql, this script's sampler.
SPARE_CONNECTIONS = 10
DRAIN_SECONDS = 120  # the outbox's bound to empty after the morning
_CSRF_META = 'name="csrf-token" content="'


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--database-url",
        default=os.environ.get("LOAD_DATABASE_URL") or os.environ.get("FILROUGE_DATABASE_URL"),
    )
    parser.add_argument("--minutes", type=float, default=2)
    parser.add_argument("--counsellors", type=int, default=200)
    parser.add_argument("--think-seconds", type=float, default=10)
    parser.add_argument(
        "--arrival-seconds",
        type=float,
        default=60,
        help="counsellors arrive (log in) spread over this many seconds from the start",
    )
    parser.add_argument("--bookings-per-minute", type=float, default=50)
    parser.add_argument("--nodes", type=int, default=2)
    parser.add_argument("--web-processes", type=int, help="per node (default: as `serve`)")
    parser.add_argument("--password", default=SYNTHETIC_PASSWORD)
    parser.add_argument("--catch-up-minutes", type=float, default=30)
    args = parser.parse_args()
    if not args.database_url or not args.database_url.startswith("postgresql"):
        parser.error("--database-url (or LOAD_DATABASE_URL): a PostgreSQL database")
    return args


# ---- what is measured ---------------------------------------------------------------------


@dataclass
class Record:
    """Every request's duration per route template, its status, and the failures."""

    durations: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    statuses: dict[str, list[int]] = field(default_factory=lambda: defaultdict(list))
    failures: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    started: float = field(default_factory=time.monotonic)
    # (seconds into the run when the request ended, route, ms): the run minute by minute.
    moments: list[tuple[float, str, float]] = field(default_factory=list)

    def timed(self, route: str, send) -> httpx.Response | None:
        started = time.perf_counter()
        try:
            response = send()
        except httpx.HTTPError as exc:
            with self.lock:
                self.failures.append(f"{route}: {type(exc).__name__}")
            return None
        elapsed = (time.perf_counter() - started) * 1000
        with self.lock:
            self.durations[route].append(elapsed)
            self.statuses[route].append(response.status_code)
            self.moments.append((time.monotonic() - self.started, route, elapsed))
        return response


class ConnectionWatch(threading.Thread):
    """The most backends PostgreSQL had at once, sampled twice a second until stopped."""

    def __init__(self, url: str) -> None:
        super().__init__(daemon=True)
        self.db = RawDatabase(url)
        self.max_connections = int(self.db.scalar("SHOW max_connections"))
        self.most = self.most_here = 0
        self.stop = threading.Event()

    def run(self) -> None:
        while not self.stop.is_set():
            total, here = self.db.rows(
                "SELECT count(*), count(*) FILTER (WHERE datname = current_database())"
                " FROM pg_stat_activity WHERE backend_type = 'client backend'"
            )[0]
            self.most, self.most_here = max(self.most, total), max(self.most_here, here)
            self.stop.wait(0.5)

    def close(self) -> None:
        self.stop.set()
        self.join()
        self.db.close()


def pool_size(max_connections: int, processes: int) -> int:
    """The largest pool with which every process at its peak (pool, as many again in
    overflow, /healthz's two) fits in max_connections, less a few spare."""
    per_process = (max_connections - SPARE_CONNECTIONS) // processes
    size = (per_process - 2) // 2
    if size < 1:
        raise SystemExit(f"{processes} processes cannot share {max_connections} connections")
    return min(size, 10)


# ---- the morning's players ----------------------------------------------------------------


class Morning:
    def __init__(self, args, node_urls: list[str], db: RawDatabase, record: Record) -> None:
        self.args, self.urls, self.db, self.record = args, node_urls, db, record
        self.deadline = time.monotonic() + args.minutes * 60
        self.run_id = uuid.uuid4().hex[:8]
        self.when = (datetime.now(UTC) - timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M")
        self.subjects = pick_subjects(db)

    def node(self) -> str:
        return random.choice(self.urls)

    def counsellor_accounts(self) -> list[tuple[str, list[int]]]:
        """The operator's counsellors with open cases, each with up to 30 of them."""
        rows = self.db.rows(
            "SELECT s.email, array_agg(c.id ORDER BY c.last_activity_at DESC)"
            " FROM staff_users s JOIN cases c ON c.referent_id = s.id"
            " WHERE s.role = 'counsellor' AND s.active AND c.status = 'open'"
            " GROUP BY s.email ORDER BY s.email"
        )
        if not rows:
            raise SystemExit("no counsellor with open cases: generate a dataset first")
        return [(email, case_ids[:30]) for email, case_ids in rows]

    # -- counsellors --

    def counsellor(self, number: int, email: str, case_ids: list[int]) -> None:
        rng = random.Random(number)
        time.sleep(rng.uniform(0, self.args.arrival_seconds))  # arrivals spread
        with httpx.Client(timeout=60) as client:
            csrf = self._log_in(client, email)
            if csrf is None:
                return
            actions = [
                (self._home, 3),
                (self._agenda, 2),
                (self._case, 4),
                (self._search, 1),
                (self._interaction, 2),
            ]
            doers, weights = zip(*actions, strict=True)
            while time.monotonic() < self.deadline:
                rng.choices(doers, weights)[0](client, csrf, rng.choice(case_ids), rng)
                time.sleep(rng.expovariate(1 / self.args.think_seconds))

    def _log_in(self, client: httpx.Client, email: str) -> str | None:
        node = self.node()
        if self.record.timed("GET /login", lambda: client.get(f"{node}/login")) is None:
            return None
        token = client.cookies.get(ANON_CSRF_COOKIE, "")
        form = {"email": email, "password": self.args.password, "next": "/", "csrf_token": token}
        self.record.timed("POST /login", lambda: client.post(f"{node}/login", data=form))
        if SESSION_COOKIE not in client.cookies:
            with self.record.lock:
                self.record.failures.append(f"login refused for {email}")
            return None
        home = self.record.timed("GET /", lambda: client.get(f"{self.node()}/"))
        if home is None or _CSRF_META not in home.text:
            return None
        return home.text.split(_CSRF_META, 1)[1].split('"', 1)[0]

    def _home(self, client, _csrf, _case_id, _rng) -> None:
        self.record.timed("GET /", lambda: client.get(f"{self.node()}/"))

    def _agenda(self, client, _csrf, _case_id, _rng) -> None:
        self.record.timed("GET /agenda", lambda: client.get(f"{self.node()}/agenda"))

    def _case(self, client, _csrf, case_id, _rng) -> None:
        self.record.timed(
            "GET /cases/{case_id}", lambda: client.get(f"{self.node()}/cases/{case_id}")
        )

    def _search(self, client, _csrf, _case_id, rng) -> None:
        term = rng.choice(["Martin", "Bernard", "Dubois", "Petit", "Durand", "Leroy"])
        self.record.timed(
            "GET /search?q=", lambda: client.get(f"{self.node()}/search", params={"q": term})
        )

    def _interaction(self, client, csrf, case_id, _rng) -> None:
        """The case page, then its interaction form, posted as htmx posts it."""
        self._case(client, csrf, case_id, _rng)
        form = {
            "occurred_at": self.when,
            "duration_minutes": "20",
            "channel": "telephone",
            "summary": "Point d'étape (charge)",
            "csrf_token": csrf,
        }
        self.record.timed(
            "POST /cases/{case_id}/interactions",
            lambda: client.post(
                f"{self.node()}/cases/{case_id}/interactions",
                data=form,
                headers={"HX-Request": "true"},
            ),
        )

    # -- people booking --

    def bookings(self, slots: list[booking.Slot]) -> None:
        """One booking every 60 / rate seconds, each in a thread of its own: a slow answer
        never delays the next arrival."""
        numbers, pending = itertools.count(1), iter(slots)
        gap = 60 / self.args.bookings_per_minute
        next_at = time.monotonic()
        with ThreadPoolExecutor(max_workers=16) as pool:
            while next_at < self.deadline:
                time.sleep(max(0.0, next_at - time.monotonic()))
                slot = next(pending, None)
                if slot is None:
                    with self.record.lock:
                        self.record.failures.append("no free slot left to book")
                    return
                pool.submit(self._book, slot, next(numbers))
                next_at += gap

    def _book(self, slot: booking.Slot, number: int) -> None:
        body = booking.booking_request(slot, self.run_id, number)
        self.record.timed(
            "POST /api/v1/public/appointments",
            lambda: httpx.post(f"{self.node()}{booking.API}/appointments", json=body, timeout=60),
        )

    # -- the manager, half-way --

    def manager(self) -> dict:
        """At half-time: the operator's activity report, then a control campaign whose pack
        is polled until ready (bounded by the end of the run plus a minute)."""
        s = self.subjects
        time.sleep(max(0.0, (self.deadline - time.monotonic()) / 2))
        if not s.manager:
            return {"note": "no manager in the dataset"}
        with httpx.Client(timeout=120) as client:
            if self._log_in(client, s.manager) is None:
                return {"note": "the manager could not log in"}
            year = f"du={s.report_year}-01-01&au={s.report_year}-12-31"
            self.record.timed(
                "GET /rapports/activite (report)",
                lambda: client.get(f"{self.node()}/rapports/activite?{year}"),
            )
        return self._proof_pack()

    def _proof_pack(self) -> dict:
        s = self.subjects
        if s.pack_period is None:
            return {"note": "no ended billable unit: no campaign"}
        token = httpx.post(
            f"{self.node()}/api/v1/auth/token",
            data={"username": s.manager, "password": self.args.password},
        ).json()["access_token"]
        headers = {"Authorization": f"Bearer {token}"}
        body = {
            "from": s.pack_period[0].isoformat(),
            "to": s.pack_period[1].isoformat(),
            "sample_size": s.pack_units,
        }
        started = time.monotonic()
        created = self.record.timed(
            "POST /api/v1/control-campaigns (proof pack)",
            lambda: httpx.post(
                f"{self.node()}/api/v1/control-campaigns", json=body, headers=headers, timeout=60
            ),
        )
        if created is None or created.status_code != 202:
            return {"note": f"campaign refused: {created and created.text[:200]}"}
        location = created.headers["location"]
        campaign = created.json()
        give_up = self.deadline + 60
        while campaign["status"] not in ("ready", "failed") and time.monotonic() < give_up:
            time.sleep(0.5)
            campaign = httpx.get(f"{self.node()}{location}", headers=headers).json()
        return {
            "status": campaign["status"],
            "seconds": round(time.monotonic() - started, 1),
            "sampled_units": s.pack_units,
        }


# ---- running it ---------------------------------------------------------------------------


def run(args) -> dict:
    db = RawDatabase(args.database_url)
    web = args.web_processes or default_web_workers(args.database_url)
    processes = args.nodes * web + 1  # the worker: one process, its two threads share a pool
    watch = ConnectionWatch(args.database_url)
    pool = pool_size(watch.max_connections, processes)
    first_message = db.scalar("SELECT coalesce(max(id), 0) FROM outbox_messages")
    scratch = Path(tempfile.mkdtemp(prefix="filrouge-load-"))
    record = Record()
    with nodes.smtp_sink() as (sink, smtp_port):
        env = nodes.cluster_env(
            database_url=args.database_url,
            storage=_dataset_storage(),
            smtp_port=smtp_port,
            scratch=scratch,
            database_pool_size=str(pool),
            # Every person books from 127.0.0.1 here: the limit is not what is measured.
            public_rate_limit="1000000/minute",
            log_level="WARNING",
        )
        catch_up = _catch_up(env, scratch, args.catch_up_minutes)
        cluster = [
            nodes.node(f"node-{n}", env, scratch, web_processes=web) for n in range(args.nodes)
        ]
        cluster.append(nodes.worker("worker", env, scratch, interval=1))
        with nodes.running(cluster):
            urls = [process.base_url for process in cluster if process.port]
            morning = Morning(args, urls, db, record)
            wanted = int(args.bookings_per_minute * args.minutes * 1.5) + 10
            with httpx.Client(base_url=urls[0], timeout=60) as anonymous:
                slots = booking.open_slots(anonymous, [morning.subjects.operator_code], wanted)
            morning.deadline = time.monotonic() + args.minutes * 60
            watch.start()
            started = record.started = time.monotonic()
            pack = _play(morning, slots)
            played = time.monotonic() - started
            outbox = _drain(db, sink, first_message)
            watch.close()
    db.close()
    return {
        "minutes": round(played / 60, 2),
        "catch_up_seconds": catch_up,
        "nodes": args.nodes,
        "web_processes_per_node": web,
        "workers": 1,
        "pool_size": pool,
        "counsellors": args.counsellors,
        "bookings_per_minute": args.bookings_per_minute,
        "routes": _routes(record),
        "minutes_interactive": _by_minute(record),
        "errors_5xx": sum(s >= 500 for statuses in record.statuses.values() for s in statuses),
        "failures": record.failures[:20],
        "failure_count": len(record.failures),
        "outbox": outbox,
        "proof_pack": pack,
        "connections": {
            "max_seen": watch.most,
            "max_seen_this_database": watch.most_here,
            "max_connections": watch.max_connections,
            "budget": f"{processes} processes x (2 x {pool} + 2) = {processes * (2 * pool + 2)}",
        },
        "logs": str(scratch),
    }


def _dataset_storage() -> dict[str, str]:
    """The file store the dataset's files are in (its issued PDFs go into the proof pack):
    the one the settings name, as `filrouge generate` wrote to it from the repository. Given
    in full: the nodes inherit no FILROUGE_* variable (bench/nodes.py, cluster_env)."""
    settings = get_settings()
    directory = settings.storage_dir
    storage = {
        "FILROUGE_STORAGE_DIR": str(directory if directory.is_absolute() else REPO / directory)
    }
    if settings.storage_url:
        storage |= {
            "FILROUGE_STORAGE_URL": settings.storage_url,
            "FILROUGE_STORAGE_ENDPOINT_URL": settings.storage_endpoint_url,
            "FILROUGE_STORAGE_REGION": settings.storage_region,
            "FILROUGE_STORAGE_ACCESS_KEY_ID": settings.storage_access_key_id,
            "FILROUGE_STORAGE_SECRET_ACCESS_KEY": (
                settings.storage_secret_access_key.get_secret_value()
            ),
        }
    return storage


def _catch_up(env: dict[str, str], scratch: Path, minutes: float) -> float:
    """One worker pass before the morning: on a dataset just generated, the daily jobs
    (anonymising people past the retention period, the national snapshots…) have a backlog
    that a running deployment has long cleared. Once a day: the next run skips it."""
    started = time.monotonic()
    catching_up = nodes.worker("catch-up", env, scratch, once=True)
    catching_up.start()
    try:
        catching_up.popen.wait(timeout=minutes * 60)
    except subprocess.TimeoutExpired:
        raise SystemExit(
            f"the worker's first pass took over {minutes} min; see {scratch}"
        ) from None
    finally:
        catching_up.stop()
    return round(time.monotonic() - started, 1)


def _play(morning: Morning, slots: list[booking.Slot]) -> dict:
    accounts = morning.counsellor_accounts()
    threads = [
        threading.Thread(target=morning.counsellor, args=(n, *accounts[n % len(accounts)]))
        for n in range(morning.args.counsellors)
    ]
    threads.append(threading.Thread(target=morning.bookings, args=(slots,)))
    pack: dict = {}
    threads.append(threading.Thread(target=lambda: pack.update(morning.manager())))
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return pack


def _drain(db: RawDatabase, sink: nodes.SmtpSink, after_id: int) -> dict:
    """Wait (bounded) until the e-mails queued during the run are sent or failed, then count
    them against what the sink received."""
    deadline = time.monotonic() + DRAIN_SECONDS
    while time.monotonic() < deadline:
        waiting = db.scalar(
            "SELECT count(*) FROM outbox_messages WHERE id > %s AND channel = 'email'"
            " AND status IN ('pending', 'sending')",
            after_id,
        )
        if not waiting:
            break
        time.sleep(0.5)
    rows = db.rows(
        "SELECT message_id, status FROM outbox_messages WHERE id > %s AND channel = 'email'",
        after_id,
    )
    tally = sink.tally({message_id for message_id, _status in rows})
    statuses: dict[str, int] = defaultdict(int)
    for _message_id, status in rows:
        statuses[status] += 1
    return {
        "queued": len(rows),
        "statuses": dict(statuses),
        "received": tally.received,
        "lost": tally.lost,
        "doubled": tally.doubled,
    }


def _routes(record: Record) -> list[dict]:
    rows = []
    for route, durations in sorted(record.durations.items()):
        statuses = record.statuses[route]
        rows.append(
            {
                "route": route,
                "requests": len(durations),
                "p50_ms": round(percentile(durations, 0.50), 1),
                "p95_ms": round(percentile(durations, 0.95), 1),
                "p99_ms": round(percentile(durations, 0.99), 1),
                "5xx": sum(s >= 500 for s in statuses),
                "4xx": sum(400 <= s < 500 for s in statuses),
            }
        )
    return rows


def _by_minute(record: Record) -> list[dict]:
    """Every interactive request (not the manager's report nor the proof pack), minute by
    minute: the counsellors' arrival (their logins) against the steady state after it."""
    minutes: dict[int, list[float]] = defaultdict(list)
    for moment, route, elapsed in record.moments:
        if "(" not in route:  # "(report)", "(proof pack)": read, not worked in
            minutes[int(moment // 60)].append(elapsed)
    return [
        {
            "minute": minute + 1,
            "requests": len(durations),
            "p50_ms": round(percentile(durations, 0.50), 1),
            "p95_ms": round(percentile(durations, 0.95), 1),
        }
        for minute, durations in sorted(minutes.items())
    ]


def print_report(report: dict) -> None:
    print(
        f"\nLoad: {report['minutes']} min, {report['nodes']} nodes x "
        f"{report['web_processes_per_node']} web processes + {report['workers']} worker, "
        f"pool {report['pool_size']}; {report['counsellors']} counsellors, "
        f"{report['bookings_per_minute']:g} bookings/min"
    )
    print(f"\n{'route':48} {'n':>6} {'p50':>8} {'p95':>8} {'p99':>8} {'4xx':>5} {'5xx':>5}")
    for row in report["routes"]:
        print(
            f"{row['route']:48} {row['requests']:>6} {row['p50_ms']:>8} {row['p95_ms']:>8} "
            f"{row['p99_ms']:>8} {row['4xx']:>5} {row['5xx']:>5}"
        )
    print("\nInteractive requests minute by minute (the arrivals, then the steady state):")
    for row in report["minutes_interactive"]:
        print(
            f"  minute {row['minute']}: {row['requests']} requests, p50 {row['p50_ms']} ms, "
            f"p95 {row['p95_ms']} ms"
        )
    outbox, connections = report["outbox"], report["connections"]
    print(f"\n5xx: {report['errors_5xx']}; failures: {report['failure_count']}")
    for failure in report["failures"]:
        print(f"  {failure}")
    print(
        f"E-mails: {outbox['queued']} queued {outbox['statuses']}, {outbox['received']} "
        f"received; lost {outbox['lost']}, doubled {outbox['doubled']}"
    )
    print(f"Proof pack: {report['proof_pack']}")
    print(
        f"PostgreSQL connections: at most {connections['max_seen']} "
        f"({connections['max_seen_this_database']} on this database) of "
        f"{connections['max_connections']}; budget {connections['budget']}"
    )
    print(f"Worker's catch-up pass before the morning: {report['catch_up_seconds']} s")
    print(f"Logs: {report['logs']}")


def main() -> None:
    # SIGTERM (a `timeout`, a CI's stop) ends the run as Ctrl-C does: the nodes are stopped.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit("stopped by SIGTERM"))
    print_report(run(parse_args()))


if __name__ == "__main__":
    main()
