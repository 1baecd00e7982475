"""The app's own CPU per public booking, and its SQL statements, measured in-process: the app
behind starlette's TestClient (no server, no network), bookings sent one after another on
distinct free slots (bench/booking.py open_slots), `time.process_time()` around each.

    PYTHONPATH=. .venv/bin/python -m bench.booking_cpu --database-url postgresql://…/db

It writes bookings to the database: use a scratch copy. The CPU counted is the whole
process's (the app, and the test client's small share), not PostgreSQL's."""

import argparse
import os
import statistics
import sys
import threading
import time
import uuid
from collections import Counter

from sqlalchemy import create_engine, event, text
from sqlalchemy.engine import Engine


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", default=os.environ.get("FILROUGE_DATABASE_URL"))
    parser.add_argument("--bookings", type=int, default=200, help="timed bookings")
    parser.add_argument("--warm-up", type=int, default=20, help="bookings not timed")
    parser.add_argument("--show-sql", action="store_true", help="print one booking's statements")
    parser.add_argument(
        "--calls",
        action="store_true",
        help="count Python and C function calls per booking instead of timing (steadier than "
        "time on a busy machine, and slower)",
    )
    args = parser.parse_args()
    if not args.database_url:
        parser.error("--database-url (or FILROUGE_DATABASE_URL) is required")
    return args


def main() -> None:
    args = parse_args()
    os.environ["FILROUGE_DATABASE_URL"] = args.database_url
    os.environ["FILROUGE_PUBLIC_RATE_LIMIT"] = "1000000/second"
    from starlette.testclient import TestClient

    from app.main import app
    from bench import booking

    url = args.database_url.replace("postgresql://", "postgresql+psycopg://", 1)
    with create_engine(url).connect() as conn:
        codes = list(conn.execute(text("SELECT code FROM operators ORDER BY id")).scalars())
    statements: list[str] = []
    counting = [False]

    @event.listens_for(Engine, "before_cursor_execute")
    def _count(_conn, _cursor, statement, _params, _context, _many) -> None:
        if counting[0]:
            statements.append(" ".join(statement.split())[:110])

    calls = [0]

    def _count_call(_frame, event_name, _arg) -> None:
        if event_name in ("call", "c_call"):
            calls[0] += 1

    if args.calls:  # before the test client starts the threads the app runs in
        threading.setprofile(_count_call)
        sys.setprofile(_count_call)
    run_id = uuid.uuid4().hex[:8]
    wanted = args.warm_up + args.bookings
    with TestClient(app) as client:
        slots = booking.open_slots(client, codes, wanted)
        if len(slots) < wanted:
            sys.exit(f"only {len(slots)} free slots found, {wanted} wanted")
        cpu_ms, counts, failed, shown = [], [], Counter(), None
        for number, slot in enumerate(slots):
            body = booking.booking_request(slot, run_id, number)
            statements.clear()
            counting[0] = True
            calls[0], started = 0, time.process_time()
            response = client.post(f"{booking.API}/appointments", json=body)
            spent = calls[0] / 1000 if args.calls else (time.process_time() - started) * 1000
            counting[0] = False
            if response.status_code != 201:
                failed[response.status_code] += 1
                continue
            if number >= args.warm_up:
                cpu_ms.append(spent)
                counts.append(len(statements))
                if shown is None or len(statements) > len(shown):
                    shown = list(statements)
    print(
        f"{os.environ.get('BENCH_LABEL', '')} bookings {len(cpu_ms)} (failed {dict(failed)}): "
        f"{'thousand calls' if args.calls else 'CPU ms'} median {statistics.median(cpu_ms):.2f}"
        f" mean {statistics.fmean(cpu_ms):.2f}; statements median {statistics.median(counts)}"
        f" ({dict(Counter(counts))})"
    )
    if args.show_sql and shown:
        for number, statement in enumerate(shown, 1):
            print(f"{number:3} {statement}")


if __name__ == "__main__":
    main()
