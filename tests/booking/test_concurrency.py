"""Many people take the same slot at once, on a database whose commits are real: exactly as many
succeed as there are free counsellors, the others get SlotTaken, and no counsellor is booked
twice. Run with `pytest -s` to see the figures."""

import threading
from datetime import UTC

import pytest
from alembic import command
from sqlmodel import Session, select

from app.core.db import build_engine
from app.models.appointments import Appointment
from app.services.booking.reservations import BookingPerson, SlotTaken, book_appointment
from tests.conftest import alembic_config, scratch_database
from tests.factories import (
    make_appointment_type,
    make_openings,
    make_operator,
    make_site,
    make_staff,
    working_day_at,
)

ATTEMPTS = 24


@pytest.fixture(scope="module")
def committed_engine(database_url, tmp_path_factory):
    with scratch_database(database_url, "booking", tmp_path_factory.mktemp("booking")) as url:
        engine = build_engine(url)
        with engine.begin() as conn:
            command.upgrade(alembic_config(conn), "head")
        yield engine
        engine.dispose()


def _agenda(engine, counsellors: int, code: str):
    with Session(engine, expire_on_commit=False) as session:
        operator = make_operator(session, code=code, name=f"Opérateur {code}")
        site = make_site(session, operator)
        for _ in range(counsellors):
            make_openings(session, make_staff(session, operator), site)
        kind = make_appointment_type(session, operator)
        session.commit()
    return site, kind


def _rush(engine, site, kind, start) -> tuple[list[int], int, list[BaseException]]:
    """ATTEMPTS threads, each with its own session, released together on one slot."""
    barrier = threading.Barrier(ATTEMPTS)
    booked: list[int] = []
    conflicts = 0
    errors: list[BaseException] = []
    lock = threading.Lock()

    def attempt(n: int) -> None:
        nonlocal conflicts
        person = BookingPerson(
            first_name="Personne",
            last_name=f"N{n}",
            email=f"p{n}.{kind.id}@exemple.fr",
            consent=True,
        )
        barrier.wait()
        try:
            with Session(engine, expire_on_commit=False) as session:
                appointment = book_appointment(
                    session=session,
                    appointment_type_id=kind.id,
                    site_id=site.id,
                    mode="on_site",
                    start=start,
                    person=person,
                    idempotency_key=f"rush-{kind.id}-{n}",
                )
                session.commit()
            with lock:
                booked.append(appointment.counsellor_id)
        except SlotTaken:
            with lock:
                conflicts += 1
        except BaseException as exc:  # pragma: no cover - reported by the assertion
            with lock:
                errors.append(exc)

    threads = [threading.Thread(target=attempt, args=(n,)) for n in range(ATTEMPTS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return booked, conflicts, errors


def _overlaps(engine) -> int:
    with Session(engine) as session:
        rows = session.exec(select(Appointment).where(Appointment.status != "cancelled")).all()
    return sum(
        1
        for a in rows
        for b in rows
        if a.id < b.id
        and a.counsellor_id == b.counsellor_id
        and a.starts_at < b.blocks_until
        and b.starts_at < a.blocks_until
    )


@pytest.mark.parametrize(("counsellors", "code"), [(1, "RUSH1"), (3, "RUSH3")])
def test_as_many_bookings_succeed_as_there_are_free_counsellors(
    committed_engine, counsellors, code
):
    site, kind = _agenda(committed_engine, counsellors, code)
    start = working_day_at(site).astimezone(UTC)
    booked, conflicts, errors = _rush(committed_engine, site, kind, start)
    print(
        f"\n[{committed_engine.dialect.name}] {counsellors} counsellor(s): "
        f"attempts={ATTEMPTS} successes={len(booked)} conflicts={conflicts} errors={len(errors)}"
    )
    assert errors == []
    assert len(booked) == counsellors
    assert len(set(booked)) == counsellors
    assert conflicts == ATTEMPTS - counsellors
    assert _overlaps(committed_engine) == 0
