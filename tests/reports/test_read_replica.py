"""The reading work — reports, the national view, their downloads, the data feed — on the read
database (FILROUGE_READ_DATABASE_URL), and whatever writes on the primary.

The read database is, by turns, the test database itself through a read-only engine (on both
engines), and a real streaming replica of the test PostgreSQL (FILROUGE_TEST_REPLICA_URL, set
up by scripts/pg_replica.sh; required when FILROUGE_REQUIRE_REPLICA=1, as in .ci/run)."""

import os
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from alembic import command
from fastapi.testclient import TestClient
from sqlalchemy import event, text
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import DBAPIError
from sqlmodel import Session, delete, select

from app.core import db
from app.core.config import get_settings
from app.models.appointments import AppointmentStatus
from app.models.audit import AuditEvent
from app.models.nomenclatures import Role
from app.models.reports import ReportSnapshot
from tests.conftest import alembic_config, scratch_database
from tests.factories import (
    bearer,
    log_in,
    make_appointment,
    make_appointment_type,
    make_operator,
    make_site,
    make_staff,
)

REPLICA_URL = os.environ.get("FILROUGE_TEST_REPLICA_URL", "")
PARIS = ZoneInfo("Europe/Paris")
YEAR = {"from": "2025-01-01", "to": "2025-12-31"}
CATCH_UP_SECONDS = 30


@dataclass
class People:
    manager: dict  # bearer header
    observer: dict
    counsellor_id: int
    site_id: int
    type_id: int


@pytest.fixture(scope="module")
def primary_url(database_url, tmp_path_factory) -> Iterator[str]:
    """A database of the module's own, committed to (a replica sees no rolled-back test)."""
    with scratch_database(database_url, "reading", tmp_path_factory.mktemp("reading")) as url:
        engine = db.build_engine(url)
        with engine.begin() as conn:
            command.upgrade(alembic_config(conn), "head")
        engine.dispose()
        yield url


@pytest.fixture(scope="module")
def people(primary_url) -> People:
    engine = db.build_engine(primary_url)
    with Session(engine, expire_on_commit=False) as session:
        ara = make_operator(session)
        manager = make_staff(session, ara, Role.MANAGER)
        observer = make_staff(session, None, Role.NATIONAL_OBSERVER)
        counsellor = make_staff(session, ara)
        site = make_site(session, ara)
        kind = make_appointment_type(session, ara)
        session.commit()
        found = People(bearer(manager), bearer(observer), counsellor.id, site.id, kind.id)
    engine.dispose()
    return found


def replica_of(primary_url: str) -> str:
    """The replica's URL for the primary's database (a physical replica holds every one)."""
    database = make_url(primary_url).database
    return make_url(REPLICA_URL).set(database=database).render_as_string(hide_password=False)


def require_replica(primary_url: str) -> None:
    if make_url(primary_url).get_backend_name() != "postgresql":
        pytest.skip("a streaming replica is PostgreSQL's")
    if not REPLICA_URL:
        message = "FILROUGE_TEST_REPLICA_URL is not set (scripts/pg_replica.sh sets one up)"
        if os.environ.get("FILROUGE_REQUIRE_REPLICA") == "1":
            pytest.fail(f"{message} and FILROUGE_REQUIRE_REPLICA=1")
        pytest.skip(message)


@dataclass
class Deployment:
    """The app configured with a primary and a read database, and what each engine ran."""

    client: TestClient
    primary: Engine
    reader: Engine
    ran: dict[str, list[str]] = field(default_factory=lambda: {"primary": [], "reader": []})

    def ran_on(self, name: str, table: str) -> list[str]:
        return [s for s in self.ran[name] if f"from {table}" in s.lower()]

    def clear(self) -> None:
        self.ran["primary"].clear()
        self.ran["reader"].clear()


def _forget_engines() -> None:
    for cached in (db.get_engine, db.get_read_engine, db.get_health_engine):
        cached.cache_clear()


@pytest.fixture(params=["read-only primary", "replica"])
def deployment(request, primary_url, people, monkeypatch) -> Iterator[Deployment]:
    """The read database is the primary itself through a read-only engine, or its replica."""
    from app.main import create_app

    read_url = primary_url
    if request.param == "replica":
        require_replica(primary_url)
        read_url = replica_of(primary_url)
        wait_for_replica(primary_url)
    settings = get_settings()
    monkeypatch.setattr(settings, "database_url", primary_url)
    monkeypatch.setattr(settings, "read_database_url", read_url)
    _forget_engines()
    found = Deployment(TestClient(create_app()), db.get_engine(), db.get_read_engine())
    for name, engine in (("primary", found.primary), ("reader", found.reader)):
        event.listen(engine, "before_cursor_execute", _recorder(found.ran[name]))
    yield found
    found.primary.dispose()
    found.reader.dispose()
    _forget_engines()


def _recorder(into: list[str]):
    def record(_conn, _cursor, statement, *_args) -> None:
        into.append(statement)

    return record


def wait_for_replica(primary_url: str) -> None:
    """Until the replica has replayed all the primary has written so far (bounded). Asked
    in the replica's own database: the module's may not be there yet."""
    primary, replica = db.build_engine(primary_url), db.build_engine(REPLICA_URL, read_only=True)
    try:
        with primary.connect() as conn:
            written = conn.scalar(text("SELECT pg_current_wal_lsn()"))
        replayed = text("SELECT pg_wal_lsn_diff(pg_last_wal_replay_lsn(), :lsn) >= 0")
        deadline = time.monotonic() + CATCH_UP_SECONDS
        while True:
            with replica.connect() as conn:
                if conn.scalar(replayed, {"lsn": written}):
                    return
            assert time.monotonic() < deadline, f"the replica lags more than {CATCH_UP_SECONDS}s"
            time.sleep(0.05)
    finally:
        primary.dispose()
        replica.dispose()


# ---- on both engines: the read engine refuses writes; reading work goes there ----------------


def test_a_write_through_the_read_engine_fails(primary_url, people):
    reader = db.build_engine(primary_url, read_only=True)
    try:
        with reader.connect() as conn:
            assert conn.scalar(text("SELECT count(*) FROM operators")) >= 1
        with pytest.raises(DBAPIError), reader.begin() as conn:
            conn.execute(text("UPDATE operators SET name = name"))
    finally:
        reader.dispose()


def test_without_a_read_database_there_is_no_read_engine(monkeypatch):
    monkeypatch.setattr(get_settings(), "read_database_url", "")
    db.get_read_engine.cache_clear()
    assert db.get_read_engine() is None
    db.get_read_engine.cache_clear()


@pytest.mark.parametrize(
    ("path", "table"),
    [
        (f"/api/v1/reports/activity?from={YEAR['from']}&to={YEAR['to']}", "appointments"),
        (f"/api/v1/reports/activity?from={YEAR['from']}&to={YEAR['to']}&format=xlsx", "cases"),
        (f"/api/v1/ledger?from={YEAR['from']}&to={YEAR['to']}&format=csv", "episodes"),
        (f"/api/v1/reports/indicators?from={YEAR['from']}&to={YEAR['to']}", "appointments"),
        (f"/api/v1/reports/surveys?from={YEAR['from']}&to={YEAR['to']}", "survey_invitations"),
    ],
)
def test_an_operator_report_reads_on_the_read_database(deployment, people, path, table):
    answer = deployment.client.get(path, headers=people.manager)
    assert answer.status_code == 200, answer.text
    assert deployment.ran_on("reader", table)
    assert not deployment.ran_on("primary", table)


@pytest.mark.parametrize(
    ("path", "table", "role"),
    [
        ("/rapports/activite", "cases", Role.MANAGER),
        ("/rapports/activite/synthese.csv", "cases", Role.MANAGER),
        ("/rapports/etat-de-service", "episodes", Role.MANAGER),
        ("/rapports/etat-de-service.xlsx", "episodes", Role.MANAGER),
        ("/rapports/national?annee=2022", "cases", Role.NATIONAL_OBSERVER),
        ("/rapports/enquetes", "survey_invitations", Role.MANAGER),
        ("/rapports/enquetes/satisfaction-lieux.csv", "survey_invitations", Role.MANAGER),
        ("/rapports/enquetes/mes-resultats", "survey_invitations", Role.COUNSELLOR),
    ],
)
def test_a_report_page_reads_on_the_read_database(deployment, people, path, table, role):
    with Session(deployment.primary) as session:
        operator = make_operator(session) if role != Role.NATIONAL_OBSERVER else None
        log_in(deployment.client, session, make_staff(session, operator, role))
        session.commit()
    deployment.clear()
    answer = deployment.client.get(path)
    assert answer.status_code == 200, answer.text
    assert deployment.ran_on("reader", table)
    assert not deployment.ran_on("primary", table)


def test_the_national_view_counts_on_the_reader_and_keeps_its_snapshot_on_the_primary(
    deployment, people
):
    """The month's snapshot is written, and looked for, on the primary: the read engine
    would refuse it, and a replica might not hold another reader's yet."""
    with Session(deployment.primary) as session:  # counted anew, whatever ran before
        session.exec(delete(ReportSnapshot).where(ReportSnapshot.year == 2021))
        session.commit()
    deployment.clear()
    answer = deployment.client.get(
        "/api/v1/reports/national",
        params={"from": "2021-01-01", "to": "2021-12-31"},
        headers=people.observer,
    )
    assert answer.status_code == 200, answer.text
    with Session(deployment.primary) as session:
        stored = select(ReportSnapshot).where(ReportSnapshot.year == 2021)
        assert session.exec(stored).first() is not None
    assert deployment.ran_on("reader", "cases")
    assert not deployment.ran_on("primary", "cases")


def test_the_feed_reads_on_the_reader_and_audits_on_the_primary(deployment, people):
    params = {**YEAR, "purpose": "controle_service_fait", "format": "csv"}
    with deployment.client.stream(
        "GET", "/api/v1/exports/units", params=params, headers=people.manager
    ) as answer:
        assert answer.status_code == 200
        answer.read()
    assert deployment.ran_on("reader", "episodes")
    assert not deployment.ran_on("primary", "episodes")
    with Session(deployment.primary) as session:
        audited = select(AuditEvent).where(AuditEvent.record_type == "units_feed")
        assert session.exec(audited).first() is not None


# ---- a real streaming replica --------------------------------------------------------------


def test_the_read_session_is_the_replicas(primary_url, people, monkeypatch):
    require_replica(primary_url)
    monkeypatch.setattr(get_settings(), "read_database_url", replica_of(primary_url))
    db.get_read_engine.cache_clear()
    try:
        with db.get_read_engine().connect() as conn:
            assert conn.scalar(text("SELECT pg_is_in_recovery()")) is True
    finally:
        db.get_read_engine().dispose()
        db.get_read_engine.cache_clear()


BOOKINGS = 60
REPORTS_MIDWAY = 3


@pytest.mark.parametrize("deployment", ["replica"], indirect=True)
def test_the_report_answers_from_the_replica_while_the_primary_takes_bookings(
    deployment, primary_url, people
):
    # Half the bookings, then the writer waits (its transaction done, the next not begun) until
    # the report has answered a few times: the two overlap on every run, however fast either is.
    reports_midway, writer_saw_them = threading.Event(), []
    writer = threading.Thread(
        target=_book, args=(primary_url, people, BOOKINGS, reports_midway, writer_saw_them)
    )
    answered = []
    report = {**YEAR, "counsellor_id": people.counsellor_id}
    writer.start()
    try:
        while writer.is_alive() or not answered:
            answer = deployment.client.get(
                "/api/v1/reports/activity", params=report, headers=people.manager
            )
            answered.append(answer.status_code)
            if len(answered) >= REPORTS_MIDWAY:
                reports_midway.set()
    finally:
        writer.join()
    assert writer_saw_them == [True]
    assert set(answered) == {200}
    wait_for_replica(primary_url)
    answer = deployment.client.get(
        "/api/v1/reports/activity", params=report, headers=people.manager
    )
    sections = {section["key"]: section["rows"] for section in answer.json()["sections"]}
    assert dict(sections["rendez-vous"])["Honorés"] == BOOKINGS
    assert not deployment.ran_on("primary", "appointments")


def _book(
    primary_url: str, people: People, count: int, midway: threading.Event, saw: list[bool]
) -> None:
    """Honoured appointments of the counsellor in 2025, one transaction each, on the primary;
    half-way, a pause until `midway` is set (30 s at most), whether it was noted in `saw`."""
    engine = db.build_engine(primary_url)
    first = datetime(2025, 3, 3, 8, tzinfo=PARIS)
    try:
        with Session(engine) as session:
            from app.models.appointments import AppointmentType
            from app.models.operators import Site
            from app.models.staff import StaffUser

            counsellor = session.get(StaffUser, people.counsellor_id)
            site = session.get(Site, people.site_id)
            kind = session.get(AppointmentType, people.type_id)
            for n in range(count):
                if n == count // 2:
                    saw.append(midway.wait(30))
                make_appointment(
                    session,
                    starts_at=first + timedelta(hours=2 * n),
                    counsellor=counsellor,
                    site=site,
                    appointment_type=kind,
                    status=AppointmentStatus.HONOURED,
                )
                session.commit()
    finally:
        engine.dispose()
