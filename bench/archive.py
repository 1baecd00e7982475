"""« Archive des livrables » timed on a generated dataset: an operator admin asks for the most
recent period holding about N issued versions (10,000 by default), then a worker process of
its own builds the archive; prints the build's seconds (from the claim to the archive ready;
the process's start, imports included, is printed beside) and the peak RSS of that process.

    .venv/bin/python -m bench.archive --database-url postgresql://user:pass@host/db
    .venv/bin/python -m bench.archive --database-url sqlite:///var/bench-operator.db --documents 500

The builder runs in a child process (`--build ID`) so that its peak memory (the kernel's
high-water mark of that process alone) is not the asking side's. The archive is deleted
afterwards (its row is marked expired): the benchmark leaves no file behind."""

import argparse
import json
import os
import resource
import subprocess
import sys
import time

from sqlmodel import Session, col, func, select

from app.core.dates import to_local
from app.core.db import build_engine
from app.models.deliverable_archives import (
    ArchiveFilters,
    ArchiveStatus,
    DeliverableArchive,
)
from app.models.deliverables import DeliverableVersion
from app.models.nomenclatures import Role
from app.models.operators import Operator
from app.models.staff import StaffUser

SECONDS_TARGET = 60
PEAK_MB_TARGET = 300


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", default=os.environ.get("FILROUGE_DATABASE_URL"))
    parser.add_argument("--documents", type=int, default=10_000)
    parser.add_argument("--build", type=int, help=argparse.SUPPRESS)  # the child's work
    args = parser.parse_args()
    if not args.database_url:
        parser.error("--database-url (or FILROUGE_DATABASE_URL) is required")
    return args


def main() -> None:
    args = parse_args()
    os.environ["FILROUGE_DATABASE_URL"] = args.database_url
    if args.build:
        build(args.database_url, args.build)
        return
    engine = build_engine(args.database_url)
    archive_id, asked = ask(engine, args.documents)
    child = [sys.executable, "-m", "bench.archive", "--database-url", args.database_url]
    started = time.perf_counter()
    built = subprocess.run(
        [*child, "--build", str(archive_id)], check=True, capture_output=True, text=True
    )
    with_start = time.perf_counter() - started
    seconds = json.loads(built.stdout.strip().splitlines()[-1])["seconds"]
    # ru_maxrss of the children: the builder's own peak (kilobytes on Linux).
    peak_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    result = finish(engine, archive_id)
    engine.dispose()
    met = seconds <= SECONDS_TARGET and peak_mb <= PEAK_MB_TARGET and result["ready"]
    print(
        json.dumps(
            {
                **asked,
                **result,
                "seconds": round(seconds, 1),
                "seconds_with_process_start": round(with_start, 1),
                "peak_rss_mb": round(peak_mb),
                "target": f"<= {SECONDS_TARGET} s and peak RSS <= {PEAK_MB_TARGET} MB",
                "met": met,
            },
            ensure_ascii=False,
        )
    )


def ask(engine, documents: int) -> tuple[int, dict]:
    """The archive of the most recent days holding at least `documents` issued versions of
    the operator with the most, asked by its first admin."""
    from app.services.deliverables.period_archive import request_archive

    with Session(engine) as session:
        operator_id, _count = session.exec(
            select(DeliverableVersion.operator_id, func.count())
            .group_by(DeliverableVersion.operator_id)
            .order_by(func.count().desc())
        ).first()
        operator = session.get(Operator, operator_id)
        admin = session.exec(
            select(StaffUser)
            .where(StaffUser.operator_id == operator_id, StaffUser.role == Role.OPERATOR_ADMIN)
            .order_by(StaffUser.id)
        ).first()
        newest = (
            session.exec(
                select(DeliverableVersion.issued_at)
                .where(DeliverableVersion.operator_id == operator_id)
                .order_by(col(DeliverableVersion.issued_at).desc())
                .offset(documents - 1)
                .limit(1)
            ).first()
            or session.exec(select(func.min(DeliverableVersion.issued_at))).one()
        )
        latest = session.exec(
            select(func.max(DeliverableVersion.issued_at)).where(
                DeliverableVersion.operator_id == operator_id
            )
        ).one()
        start = to_local(newest, operator.time_zone).date()
        end = to_local(latest, operator.time_zone).date()
        filters = ArchiveFilters(start=start, end=end)
        archive = request_archive(session=session, actor=admin, filters=filters)
        session.commit()
        asked = {
            "operator": operator.code,
            "period": f"{start.isoformat()}..{end.isoformat()}",
            "documents": archive.documents_total,
        }
        return archive.id, asked


def build(database_url: str, archive_id: int) -> None:
    from app.services.deliverables.archive_build import build_period_archive

    engine = build_engine(database_url)
    started = time.perf_counter()  # from the claim to the archive ready: the worker's part
    build_period_archive(engine, archive_id)
    print(json.dumps({"seconds": time.perf_counter() - started}))
    engine.dispose()


def finish(engine, archive_id: int) -> dict:
    """The archive's outcome; its file deleted and its row marked expired."""
    from app.core.storage import get_storage

    with Session(engine) as session:
        archive = session.get(DeliverableArchive, archive_id)
        result = {
            "ready": archive.status == ArchiveStatus.READY,
            "status": archive.status,
            "size_mb": round((archive.size_bytes or 0) / 1_000_000, 1),
            "error": archive.error,
        }
        if archive.storage_key:
            get_storage().delete(archive.storage_key)
        archive.status = ArchiveStatus.EXPIRED.value
        archive.storage_key = None
        archive.expires_at = archive.expires_at or archive.finished_at
        session.add(archive)
        session.commit()
    return result


if __name__ == "__main__":
    main()
