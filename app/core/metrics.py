"""What each app process counts for /metrics (app/routes/system/metrics.py): the requests'
durations and the bookings. The figures read from the database at scrape time (outbox,
proof packs, workers) are app/services/system/figures.py's.

Labels carry route templates, statuses, channels and operator codes, never an address, a
name or an id of anyone.

Several processes: `filrouge serve` with more than one web process points
PROMETHEUS_MULTIPROC_DIR at a fresh directory before starting them (enable_multiprocess);
each process then writes its counts there and /metrics adds up all of them, whichever
process answers the scrape."""

import os
import shutil
import tempfile

from prometheus_client import REGISTRY, CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.multiprocess import MultiProcessCollector

MULTIPROCESS_DIR = "PROMETHEUS_MULTIPROC_DIR"
# A request to an address no route knows (a scanner's guesses): one label for all of them.
UNMATCHED = "unmatched"
# The methods a label may name; any other (a client's invention: HTTP lets it choose any word)
# is counted as OTHER, so that nobody can add a series per request.
METHODS = frozenset({"GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"})
OTHER_METHOD = "OTHER"

REQUEST_SECONDS = Histogram(
    "filrouge_http_request_duration_seconds",
    "Durée des requêtes HTTP, par modèle de route, méthode et statut",
    ["route", "method", "status"],
)
BOOKINGS = Counter(
    "filrouge_bookings",
    "Rendez-vous pris, et refusés faute de créneau encore libre",
    ["operator", "channel", "outcome"],
)


def observe_request(*, route: str | None, method: str, status: int, seconds: float) -> None:
    method = method if method in METHODS else OTHER_METHOD
    REQUEST_SECONDS.labels(route or UNMATCHED, method, str(status)).observe(seconds)


def count_booking(*, operator: str, channel: str, made: bool) -> None:
    BOOKINGS.labels(operator, channel, "made" if made else "refused").inc()


def process_metrics() -> bytes:
    """This process's metrics, or every process's when they share a directory."""
    if os.environ.get(MULTIPROCESS_DIR):
        registry = CollectorRegistry()
        MultiProcessCollector(registry)
        return generate_latest(registry)
    return generate_latest(REGISTRY)


def enable_multiprocess() -> str:
    """Point the web processes about to start at a fresh directory of their own for their
    counts (set before they import prometheus_client); returns it, for remove_multiprocess."""
    directory = tempfile.mkdtemp(prefix="filrouge-metrics-")
    os.environ[MULTIPROCESS_DIR] = directory
    return directory


def remove_multiprocess(directory: str) -> None:
    os.environ.pop(MULTIPROCESS_DIR, None)
    shutil.rmtree(directory, ignore_errors=True)
