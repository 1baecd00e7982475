"""Timing requests (client-side round trips on localhost) and the two floors of an operation."""

import math
import re
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass

import httpx

from bench.database import RawDatabase

TRACE = {"X-Bench-Trace": "1"}
_COLUMNS = re.compile(r"SELECT (.{60,}?) FROM")
# A request: called with extra headers, returns the response.
Send = Callable[[dict[str, str]], httpx.Response]


@dataclass
class Result:
    operation: str
    target: str
    met: bool | None = None
    requests: int = 0
    p50_ms: float | None = None
    p95_ms: float | None = None
    floor_sql_ms: float | None = None
    floor_empty_ms: float | None = None
    statements: int | None = None
    sql_in_request_ms: float | None = None
    replay_failures: int | None = None
    slowest_sql: list[dict] | None = None
    extra: dict | None = None
    note: str = ""


def percentile(values: list[float], share: float) -> float:
    """Nearest-rank percentile (p95 of 100 values is the 95th smallest)."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(share * len(ordered)) - 1)]


def time_requests(send: Send, *, count: int, warmup: int, expect: tuple[int, ...]) -> list[float]:
    """Milliseconds per request, sent one after the other on a keep-alive connection."""
    for _ in range(warmup):
        _check(send({}), expect)
    durations = []
    for _ in range(count):
        started = time.perf_counter()
        response = send({})
        durations.append((time.perf_counter() - started) * 1000)
        _check(response, expect)
    return durations


def _check(response: httpx.Response, expect: tuple[int, ...]) -> None:
    if response.status_code not in expect:
        raise RuntimeError(
            f"{response.request.method} {response.request.url.path} answered "
            f"{response.status_code}: {response.text[:300]}"
        )


def empty_floor(base_url: str, *, count: int) -> float:
    """Median ms of the app's empty route, timed like the pages (no session: no SQL at all)."""
    with httpx.Client(base_url=base_url) as client:
        durations = time_requests(
            lambda headers: client.get("/bench/empty", headers=headers),
            count=count,
            warmup=10,
            expect=(200,),
        )
    return statistics.median(durations)


def sql_floor(
    send: Send, trace_client: httpx.Client, db: RawDatabase, *, times: int, expect: tuple[int, ...]
) -> tuple[float, list[dict], int]:
    """Send one traced request, then replay its SQL with the raw driver: (median ms of the
    replay, the statements as traced, how many failed on replay)."""
    _check(send(TRACE), expect)
    trace = trace_client.get("/bench/last-trace").json()["statements"]
    floor, failures = db.replay(trace, times)
    return floor, trace, failures


def slowest(trace: list[dict], count: int = 3) -> list[dict]:
    """The statements that took the app longest, to see where a page's SQL time goes."""
    ordered = sorted(trace, key=lambda statement: statement["ms"] or 0, reverse=True)
    return [{"ms": round(s["ms"] or 0, 2), "sql": _shorter(s["sql"])} for s in ordered[:count]]


def _shorter(sql: str) -> str:
    """One line, without the column list of the first SELECT: what is read, and how."""
    return _COLUMNS.sub("SELECT … FROM", " ".join(sql.split()), count=1)[:600]


def fill(result: Result, durations: list[float]) -> Result:
    result.requests = len(durations)
    result.p50_ms = statistics.median(durations)
    result.p95_ms = percentile(durations, 0.95)
    return result
