"""Public booking through /api/v1/public: free slots to book, a sustained run of concurrent
clients booking distinct slots, and a race of many clients for one slot."""

import itertools
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

import httpx

API = "/api/v1/public"
RACE_ATTEMPTS = 20
_WINDOWS = ((1, 31), (32, 62))  # the API serves at most 31 days per call


@dataclass(frozen=True)
class Slot:
    appointment_type: int
    site: int
    start: str


@dataclass
class BookingRun:
    booked: int = 0
    taken: int = 0
    errors: list[str] = field(default_factory=list)
    latencies: list[float] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def per_second(self) -> float:
        return self.booked / self.seconds if self.seconds else 0.0


def open_slots(client: httpx.Client, operator_codes: list[str], wanted: int) -> list[Slot]:
    """Up to `wanted` free on-site slots, one motif per site, none overlapping another of the
    same site; interleaved across sites so that concurrent clients meet different agendas."""
    per_site: list[list[Slot]] = []
    for code in operator_codes:
        kinds = client.get(f"{API}/appointment-types", params={"operator": code}).json()
        kind = next((k for k in kinds if "on_site" in k["modes"]), None)
        if kind is None:
            continue
        for site in client.get(f"{API}/sites", params={"operator": code}).json():
            per_site.append(_site_slots(client, kind, site["id"]))
        if sum(map(len, per_site)) >= wanted:
            break
    mixed = [slot for group in itertools.zip_longest(*per_site) for slot in group if slot]
    return mixed[:wanted]


def _site_slots(client: httpx.Client, kind: dict, site_id: int) -> list[Slot]:
    today = date.today()
    slots, free_from = [], None
    for first, last in _WINDOWS:
        params = {
            "appointment_type": kind["id"],
            "site": site_id,
            "from": (today + timedelta(days=first)).isoformat(),
            "to": (today + timedelta(days=last)).isoformat(),
            "mode": "on_site",
        }
        for found in client.get(f"{API}/slots", params=params).json():
            start = datetime.fromisoformat(found["start"])
            if free_from is None or start >= free_from:
                slots.append(Slot(kind["id"], site_id, found["start"]))
                free_from = datetime.fromisoformat(found["end"])
    return slots


def booking_request(slot: Slot, run_id: str, number: int) -> dict:
    return {
        "appointment_type": slot.appointment_type,
        "site": slot.site,
        "start": slot.start,
        "mode": "on_site",
        "first_name": "Banc",
        "last_name": f"Essai {number}",
        "email": f"banc-{run_id}-{number}@exemple.fr",
        "consent": True,
        "idempotency_key": f"banc-{run_id}-{number:06d}",
    }


def sustained_run(
    base_url: str, slots: list[Slot], *, run_id: str, workers: int, seconds: float
) -> BookingRun:
    """`workers` clients book the slots as fast as they are answered, for `seconds` at most."""
    queue = deque(slots)
    numbers = itertools.count(100_000)
    lock = threading.Lock()
    run = BookingRun()
    deadline = time.monotonic() + seconds

    def client_loop() -> None:
        with httpx.Client(base_url=base_url, timeout=60) as client:
            while time.monotonic() < deadline:
                with lock:
                    if not queue:
                        return
                    slot, number = queue.popleft(), next(numbers)
                started = time.perf_counter()
                try:
                    response = client.post(
                        f"{API}/appointments", json=booking_request(slot, run_id, number)
                    )
                except httpx.TransportError as exc:  # counted, and the client goes on
                    with lock:
                        run.errors.append(f"{type(exc).__name__}: {exc}")
                    continue
                elapsed = (time.perf_counter() - started) * 1000
                with lock:
                    run.latencies.append(elapsed)
                    _count(run, response)

    threads = [threading.Thread(target=client_loop) for _ in range(workers)]
    started = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    run.seconds = time.monotonic() - started
    return run


def _count(run: BookingRun, response: httpx.Response) -> None:
    if response.status_code == 201:
        run.booked += 1
    elif response.status_code == 409:
        run.taken += 1
    else:
        run.errors.append(f"{response.status_code}: {response.text[:200]}")


def race(base_url: str, slot: Slot, *, run_id: str) -> BookingRun:
    """RACE_ATTEMPTS clients, released together, each booking the same slot for someone else."""
    barrier = threading.Barrier(RACE_ATTEMPTS)
    lock = threading.Lock()
    run = BookingRun()

    def attempt(number: int) -> None:
        with httpx.Client(base_url=base_url, timeout=60) as client:
            client.get("/healthz")  # connect before the start line
            barrier.wait()
            response = client.post(
                f"{API}/appointments", json=booking_request(slot, run_id, number)
            )
        with lock:
            _count(run, response)

    threads = [threading.Thread(target=attempt, args=(900_000 + n,)) for n in range(RACE_ATTEMPTS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return run
