"""The waiting list under real concurrency, on a database whose commits are real: workers
matching at once never give one slot twice nor one person two offers, and public bookings (the
HTML form and the JSON API, against the app served by `filrouge serve`) racing the answer to an
offer never share the slot with it. Run with `pytest -s` to see the figures."""

import os
import signal
import subprocess
import sys
import threading
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from urllib.parse import urlencode

import httpx
import pytest
from alembic import command
from sqlmodel import Session, select

from app.core.config import get_settings
from app.core.db import build_engine
from app.models.appointments import Appointment, AppointmentStatus, OpeningSlot
from app.models.base import utcnow
from app.models.waiting_list import OfferOutcome, WaitingListEntry, WaitingListOffer
from app.services.booking import waiting_list_offers
from app.services.booking.waiting_list import join_publicly
from app.services.booking.waiting_list_offers import offer_freed_slots
from app.services.booking.waiting_list_sms import offer_link
from tests.conftest import ROOT, alembic_config, scratch_database
from tests.factories import (
    free_port,
    make_appointment_type,
    make_operator,
    make_site,
    make_staff,
    working_day_at,
)
from tests.test_bursts import _hidden, _wait_until_healthy

WORKERS = 4
WAITING = 10
BOOKERS = 10  # through each door: the form and the API
TIMEOUT = 60


@pytest.fixture(scope="module")
def committed_engine(database_url, tmp_path_factory):
    tmp = tmp_path_factory.mktemp("waiting")
    with scratch_database(database_url, "waiting", tmp) as url:
        engine = build_engine(url)
        with engine.begin() as conn:
            command.upgrade(alembic_config(conn), "head")
        yield url, engine, tmp
        engine.dispose()


@dataclass
class Agenda:
    code: str
    operator_id: int
    site_id: int
    kind_id: int
    start: datetime  # UTC: the one start of every counsellor's opening


def _agenda(engine, code: str, counsellors: int, waiting: int) -> Agenda:
    """`counsellors` free at one start only, and `waiting` people waiting for it."""
    with Session(engine, expire_on_commit=False) as session:
        operator = make_operator(session, code=code, name=f"Opérateur {code}")
        site = make_site(session, operator)
        kind = make_appointment_type(session, operator)
        start = working_day_at(site, days_ahead=10, hour=9)
        for _ in range(counsellors):
            counsellor = make_staff(session, operator)
            session.add(
                OpeningSlot(
                    operator_id=operator.id,
                    counsellor_id=counsellor.id,
                    site_id=site.id,
                    weekday=start.weekday(),
                    start_time=time(9),
                    end_time=time(10),
                    valid_from=start.date(),
                    valid_until=start.date(),
                )
            )
        session.flush()
        now = utcnow()
        for n in range(waiting):
            join_publicly(
                session=session,
                ip=None,
                operator_code=code,
                appointment_type_id=kind.id,
                mode="on_site",
                site_id=site.id,
                weekdays=[str(start.weekday())],
                half_days=["morning"],
                person={
                    "first_name": "Personne",
                    "last_name": f"N{n}",
                    "email": f"attente{n}.{code.lower()}@exemple.fr",
                    "consent": True,
                },
                now=now - timedelta(minutes=waiting - n),
            )
        session.commit()
        return Agenda(code, operator.id, site.id, kind.id, start.astimezone(UTC))


def _together(count: int, work) -> list[BaseException]:
    """`count` threads released at once on `work(n)`; the errors they raised."""
    barrier = threading.Barrier(count)
    errors: list[BaseException] = []
    lock = threading.Lock()

    def run(n: int) -> None:
        barrier.wait()
        try:
            work(n)
        except BaseException as exc:  # pragma: no cover - reported by the assertion
            with lock:
                errors.append(exc)

    threads = [threading.Thread(target=run, args=(n,)) for n in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(TIMEOUT * 2)
    return errors


def _taken(engine, agenda: Agenda) -> list[Appointment]:
    """The rows holding the agenda's start (booked or offered), whoever's."""
    with Session(engine) as session:
        rows = session.exec(
            select(Appointment).where(
                Appointment.operator_id == agenda.operator_id,
                Appointment.starts_at == agenda.start,
                Appointment.status != AppointmentStatus.CANCELLED,
            )
        ).all()
    return list(rows)


def _overlaps(engine) -> int:
    with Session(engine) as session:
        rows = session.exec(
            select(Appointment).where(Appointment.status != AppointmentStatus.CANCELLED)
        ).all()
    return sum(
        1
        for a in rows
        for b in rows
        if a.id < b.id
        and a.counsellor_id == b.counsellor_id
        and a.starts_at < b.blocks_until
        and b.starts_at < a.blocks_until
    )


@pytest.mark.parametrize(("per_pass", "code"), [(100, "WORKA"), (2, "WORKB")])
def test_workers_matching_at_once_offer_each_slot_once_to_distinct_people(
    committed_engine, monkeypatch, per_pass, code
):
    """With 100 entries a pass, the first worker claims them all (SKIP LOCKED) and the others
    find none; with 2, each worker claims its own and they compete for the slots."""
    monkeypatch.setattr(waiting_list_offers, "ENTRIES_PER_PASS", per_pass)
    _url, engine, _tmp = committed_engine
    agenda = _agenda(engine, code, counsellors=3, waiting=WAITING)
    made: list[int] = []

    def work(_n: int) -> None:
        with Session(engine, expire_on_commit=False) as session, session.begin():
            made.append(offer_freed_slots(session=session))

    errors = _together(WORKERS, work)
    print(f"\n[{engine.dialect.name}] {WORKERS} workers, {per_pass} a pass: offers made {made}")
    assert errors == []
    with Session(engine) as session:
        pending = session.exec(
            select(WaitingListOffer).where(
                WaitingListOffer.operator_id == agenda.operator_id,
                WaitingListOffer.outcome == OfferOutcome.PENDING,
            )
        ).all()
        first_three = session.exec(
            select(WaitingListEntry.id)
            .where(WaitingListEntry.operator_id == agenda.operator_id)
            .order_by(WaitingListEntry.created_at)
            .limit(3)
        ).all()
    assert len(pending) == 3
    assert len({offer.entry_id for offer in pending}) == 3
    assert len({offer.counsellor_id for offer in pending}) == 3
    if per_pass >= WAITING:  # one worker matched everybody, oldest first
        assert sorted(offer.entry_id for offer in pending) == sorted(first_three)
    held = _taken(engine, agenda)
    assert len(held) == 3 and all(a.status == AppointmentStatus.OFFERED for a in held)
    assert _overlaps(engine) == 0


# ---- the app as it is served, racing an offer's answer -------------------------------------


@pytest.fixture(scope="module")
def served(committed_engine):
    url, engine, tmp = committed_engine
    port = free_port()
    env = os.environ | {
        "FILROUGE_DATABASE_URL": url,
        "FILROUGE_SECRET_KEY": get_settings().secret_key,
        "FILROUGE_STORAGE_DIR": str(tmp / "files"),
        "FILROUGE_MAIL_DIR": str(tmp / "mail"),
        "FILROUGE_PUBLIC_BASE_URL": get_settings().public_base_url,
        # Every request of a burst comes from one address: the limits are not under test.
        "FILROUGE_PUBLIC_RATE_LIMIT": "100000/minute",
    }
    log = tmp / "server.log"
    with log.open("w") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "app.cli", "serve", "--no-worker", "--port", str(port)],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    base = f"http://127.0.0.1:{port}"
    try:
        _wait_until_healthy(base, process, log)
        yield base, engine
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def _offered(engine, code: str) -> tuple[Agenda, str, int]:
    """One counsellor free at one start, offered to the first of three people waiting: the
    agenda, the path of the offer's link and the id of the person offered it."""
    agenda = _agenda(engine, code, counsellors=1, waiting=3)
    with Session(engine, expire_on_commit=False) as session, session.begin():
        offer_freed_slots(session=session)
        offer = session.exec(
            select(WaitingListOffer).where(
                WaitingListOffer.operator_id == agenda.operator_id,
                WaitingListOffer.outcome == OfferOutcome.PENDING,
            )
        ).one()
        held = session.get(Appointment, offer.appointment_id)
        path = "/" + offer_link(offer, held).split("://", 1)[1].split("/", 1)[1]
        return agenda, path, held.beneficiary_id


def _race(base: str, agenda: Agenda, answer_path: str) -> dict[str, list[int]]:
    """BOOKERS form posts and BOOKERS API posts for the offered start, and the answer to the
    offer, released together; the statuses each door got."""
    query = urlencode(
        {
            "operateur": agenda.code,
            "motif": agenda.kind_id,
            "mode": "on_site",
            "lieu": agenda.site_id,
            "debut": agenda.start.isoformat(),
        }
    )
    forms, apis = [], []
    clients = [httpx.Client(base_url=base, timeout=TIMEOUT) for _ in range(2 * BOOKERS + 1)]
    for n, client in enumerate(clients[:BOOKERS]):
        # The contact form of a slot taken shows all the same (the post is what is refused).
        page = client.get(f"/rendez-vous/coordonnees?{query}")
        assert page.status_code == 200, page.text
        names = ("operateur", "motif", "mode", "lieu", "debut", "idempotency_key", "csrf_token")
        forms.append(
            {name: _hidden(page.text, name) for name in names}
            | {
                "first_name": "Formulaire",
                "last_name": f"N{n}",
                "email": f"formulaire{n}.{agenda.code.lower()}@exemple.fr",
                "consent": "1",
                "site_web": "",
            }
        )
    for n in range(BOOKERS):
        apis.append(
            {
                "appointment_type": agenda.kind_id,
                "site": agenda.site_id,
                "start": agenda.start.isoformat(),
                "first_name": "Api",
                "last_name": f"N{n}",
                "email": f"api{n}.{agenda.code.lower()}@exemple.fr",
                "consent": True,
                "idempotency_key": f"course-{agenda.code}-{n}",
            }
        )
    answerer = clients[-1]
    answerer.get(answer_path.rsplit("/", 1)[0])  # a first visit: the CSRF cookie
    answer_form = {"csrf_token": answerer.cookies.get("filrouge_csrf")}
    statuses: dict[str, list[int]] = {"form": [], "api": [], "answer": []}
    lock = threading.Lock()

    def post(n: int) -> None:
        if n < BOOKERS:
            door, response = "form", clients[n].post("/rendez-vous/coordonnees", data=forms[n])
        elif n < 2 * BOOKERS:
            door = "api"
            response = clients[n].post("/api/v1/public/appointments", json=apis[n - BOOKERS])
        else:
            door, response = "answer", answerer.post(answer_path, data=answer_form)
        with lock:
            statuses[door].append(response.status_code)

    errors = _together(2 * BOOKERS + 1, post)
    for client in clients:
        client.close()
    assert errors == []
    return statuses


def test_bookings_racing_an_acceptance_never_take_the_offered_slot(served):
    base, engine = served
    agenda, path, person_id = _offered(engine, "RACEA")
    statuses = _race(base, agenda, f"{path}/accepter")
    print(f"\n[{engine.dialect.name}] bookings racing an acceptance: {statuses}")
    assert statuses["answer"] == [200]
    assert statuses["form"] == [409] * BOOKERS
    assert statuses["api"] == [409] * BOOKERS
    [booked] = _taken(engine, agenda)
    assert booked.status == AppointmentStatus.BOOKED and booked.beneficiary_id == person_id
    assert booked.triage_request_id is not None
    assert _overlaps(engine) == 0


def test_bookings_racing_a_refusal_give_the_freed_slot_to_one_person_at_most(served):
    base, engine = served
    agenda, path, _person_id = _offered(engine, "RACED")
    statuses = _race(base, agenda, f"{path}/decliner")
    print(f"\n[{engine.dialect.name}] bookings racing a refusal: {statuses}")
    assert statuses["answer"] == [200]
    booked = statuses["form"].count(200) + statuses["api"].count(201)
    refused = statuses["form"].count(409) + statuses["api"].count(409)
    assert booked <= 1 and booked + refused == 2 * BOOKERS
    taken = _taken(engine, agenda)
    assert len(taken) == booked
    assert all(a.status == AppointmentStatus.BOOKED for a in taken)
    assert _overlaps(engine) == 0
