"""Bursts of simultaneous form posts against the app served as `filrouge serve` serves it (its
own processes: one on SQLite, one per core and one more on PostgreSQL), on a database of its
own: nobody waits for nothing, nothing answers 500, and /readyz (which reads the database)
answers while the burst runs.
Run with `pytest -s` to see the figures."""

import os
import re
import signal
import statistics
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from html import unescape
from pathlib import Path
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

import httpx
import pytest
from alembic import command
from sqlmodel import Session, func, select

from app.core.config import get_settings
from app.core.db import build_engine
from app.core.security import create_link_token
from app.models.appointments import Appointment
from app.models.attachments import Attachment
from app.models.cases import Interaction
from app.models.deliverables import DeliverableVersion
from app.models.partners import Referral, ReferralCreate
from app.services.deliverables.sharing import LINK_PURPOSE as DOCUMENT_LINK
from app.services.referrals.messages import partner_link
from app.services.referrals.workflow import propose_referral
from tests.conftest import ROOT, alembic_config, scratch_database
from tests.factories import (
    PASSWORD,
    PDF,
    free_port,
    make_appointment_type,
    make_case,
    make_deliverable,
    make_openings,
    make_operator,
    make_partner,
    make_site,
    make_staff,
    working_day_at,
)

BURST = 20
FREE_COUNSELLORS = 3
REQUEST_TIMEOUT = 60  # seconds; a request still waiting then counts as a timeout
HEALTH_BOUND = 1.0  # seconds: /readyz's p95 during a burst (issue 13)


@dataclass
class Seeded:
    operator_code: str
    site_id: int
    kind_id: int
    start: str
    counsellor_email: str
    case_id: int
    partner_path: str
    document_path: str
    version_id: int


def _seed(engine) -> Seeded:
    with Session(engine, expire_on_commit=False) as session:
        operator = make_operator(session, code="RUSH", name="Opérateur de la ruée")
        site = make_site(session, operator)
        counsellors = [make_staff(session, operator) for _ in range(FREE_COUNSELLORS)]
        for counsellor in counsellors:
            make_openings(session, counsellor, site)
        kind = make_appointment_type(session, operator)
        case = make_case(session, counsellors[0])
        referral = propose_referral(
            session=session,
            actor=counsellors[0],
            case_id=case.id,
            data=ReferralCreate(
                partner_id=make_partner(session, operator).id,
                purpose="Bilan de compétences",
                consent=True,
                send_now=True,
            ),
        )
        partner_url = partner_link(session, referral, lifetime=timedelta(days=1))
        deliverable = make_deliverable(session, case, "synthese_entretien")
        version = session.exec(
            select(DeliverableVersion).where(DeliverableVersion.deliverable_id == deliverable.id)
        ).one()
        token = create_link_token(
            purpose=DOCUMENT_LINK, subject_id=version.id, lifetime=timedelta(days=1)
        )
        session.commit()
        return Seeded(
            operator_code=operator.code,
            site_id=site.id,
            kind_id=kind.id,
            start=working_day_at(site).astimezone(UTC).isoformat(),
            counsellor_email=counsellors[0].email,
            case_id=case.id,
            partner_path=partner_url.split("://", 1)[1].split("/", 1)[1],
            document_path=f"documents/{token}",
            version_id=version.id,
        )


def _wait_until_healthy(base: str, process: subprocess.Popen, log: Path) -> None:
    for _ in range(300):  # 60 s at most
        if process.poll() is not None:
            pytest.fail(f"the server stopped:\n{log.read_text()[-3000:]}")
        try:
            if httpx.get(f"{base}/healthz", timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    pytest.fail(f"the server did not answer /healthz:\n{log.read_text()[-3000:]}")


@pytest.fixture(scope="module")
def served(database_url, tmp_path_factory):
    """The app's own processes on a scratch database, stopped by their process group's id."""
    tmp = tmp_path_factory.mktemp("bursts")
    with scratch_database(database_url, "bursts", tmp) as url:
        engine = build_engine(url)
        with engine.begin() as conn:
            command.upgrade(alembic_config(conn), "head")
        seeded = _seed(engine)
        port = free_port()
        env = os.environ | {
            "FILROUGE_DATABASE_URL": url,
            "FILROUGE_SECRET_KEY": get_settings().secret_key,
            "FILROUGE_STORAGE_DIR": str(tmp / "files"),
            "FILROUGE_MAIL_DIR": str(tmp / "mail"),
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
            yield base, seeded, engine
        finally:
            os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()
            engine.dispose()


# ---- running a burst ---------------------------------------------------------------------


@dataclass
class Outcome:
    statuses: list[int]
    failures: list[str]  # timeouts and transport errors
    health: list[float]  # /readyz round trips during the burst, in seconds
    seconds: float

    def summary(self, name: str, dialect: str) -> str:
        counts = {s: self.statuses.count(s) for s in sorted(set(self.statuses))}
        p95 = _p95(self.health)
        return (
            f"\n[{dialect}] {name}: {len(self.statuses)} answers {counts}, "
            f"{len(self.failures)} failures, {self.seconds:.1f} s; /readyz during the burst: "
            f"{len(self.health)} checks, p95 {p95 * 1000:.0f} ms, max {max(self.health) * 1000:.0f} ms"
        )


def _p95(values: list[float]) -> float:
    return (
        statistics.quantiles(values, n=20, method="inclusive")[-1] if len(values) > 1 else values[0]
    )


def _burst(base: str, prepare, post) -> Outcome:
    """BURST clients, each prepared in turn (a page read for its CSRF token), then released
    together on `post`; /readyz is checked throughout, one request at a time."""
    clients = [httpx.Client(base_url=base, timeout=REQUEST_TIMEOUT) for _ in range(BURST)]
    prepared = [prepare(client, n) for n, client in enumerate(clients)]
    barrier = threading.Barrier(BURST + 1)
    statuses: list[int] = []
    failures: list[str] = []
    lock = threading.Lock()
    done = threading.Event()

    def attempt(n: int) -> None:
        barrier.wait()
        try:
            status = post(clients[n], prepared[n]).status_code
            with lock:
                statuses.append(status)
        except httpx.HTTPError as exc:
            with lock:
                failures.append(f"{type(exc).__name__}: {exc}")

    health: list[float] = []

    def watch_health() -> None:
        with httpx.Client(base_url=base, timeout=REQUEST_TIMEOUT) as watcher:
            barrier.wait()
            while not done.is_set() or not health:
                started = time.perf_counter()
                try:
                    watcher.get("/readyz").raise_for_status()
                except httpx.HTTPError as exc:
                    with lock:
                        failures.append(f"/readyz: {type(exc).__name__}")
                health.append(time.perf_counter() - started)

    threads = [threading.Thread(target=attempt, args=(n,)) for n in range(BURST)]
    watcher = threading.Thread(target=watch_health)
    for thread in [*threads, watcher]:
        thread.start()
    started = time.perf_counter()
    for thread in threads:
        thread.join(REQUEST_TIMEOUT + 30)
    seconds = time.perf_counter() - started
    done.set()
    watcher.join(REQUEST_TIMEOUT + 30)
    for client in clients:
        client.close()
    return Outcome(statuses, failures, health, seconds)


def _assert_calm(outcome: Outcome, name: str, dialect: str) -> None:
    print(outcome.summary(name, dialect))
    assert outcome.failures == []
    assert len(outcome.statuses) == BURST
    assert all(status < 500 for status in outcome.statuses)
    assert _p95(outcome.health) < HEALTH_BOUND


def _hidden(html: str, name: str) -> str:
    return unescape(re.search(rf'name="{name}" value="([^"]*)"', html).group(1))


def _count(engine, statement) -> int:
    with Session(engine) as session:
        return session.exec(statement).one()


# ---- the bursts --------------------------------------------------------------------------


def test_a_burst_of_bookings_for_one_slot_books_each_free_counsellor_once(served):
    base, seeded, engine = served
    query = urlencode(
        {
            "operateur": seeded.operator_code,
            "motif": seeded.kind_id,
            "mode": "on_site",
            "lieu": seeded.site_id,
            "debut": seeded.start,
        }
    )

    def prepare(client, n):
        page = client.get(f"/rendez-vous/coordonnees?{query}")
        assert page.status_code == 200, page.text
        fields = ("operateur", "motif", "mode", "lieu", "debut", "idempotency_key", "csrf_token")
        return {name: _hidden(page.text, name) for name in fields} | {
            "first_name": "Personne",
            "last_name": f"Numéro {n}",
            "email": f"personne{n}@exemple.fr",
            "consent": "1",
            "site_web": "",
        }

    answers: list[str] = []

    def post(client, form):
        response = client.post("/rendez-vous/coordonnees", data=form)
        answers.append(response.text)
        return response

    outcome = _burst(base, prepare, post)
    _assert_calm(outcome, "public booking form, one slot", engine.dialect.name)
    assert outcome.statuses.count(200) == FREE_COUNSELLORS
    assert outcome.statuses.count(409) == BURST - FREE_COUNSELLORS
    confirmed = [text for text in answers if "Votre rendez-vous est confirmé" in text]
    taken = [text for text in answers if "Ce créneau vient d'être réservé" in text]
    assert len(confirmed) == FREE_COUNSELLORS and len(taken) == BURST - FREE_COUNSELLORS
    assert all("/rendez-vous/coordonnees?" in text for text in taken)  # the next free slots
    booked = select(func.count()).select_from(Appointment)
    assert _count(engine, booked) == FREE_COUNSELLORS


def _staff_client_form(base: str, email: str, case_id: int) -> tuple[dict, str]:
    """Log in once; every client of the burst shares the browser session."""
    with httpx.Client(base_url=base, timeout=REQUEST_TIMEOUT) as client:
        login = client.get("/login")
        form = {
            "email": email,
            "password": PASSWORD,
            "csrf_token": _hidden(login.text, "csrf_token"),
        }
        assert client.post("/login", data=form).status_code == 303
        page = client.get(f"/cases/{case_id}")
        return dict(client.cookies), _hidden(page.text, "csrf_token")


def test_a_burst_of_interactions_and_attachments_on_one_case_records_every_one(served):
    base, seeded, engine = served
    cookies, token = _staff_client_form(base, seeded.counsellor_email, seeded.case_id)
    case_path = f"/cases/{seeded.case_id}"
    an_hour_ago = f"{datetime.now(ZoneInfo('Europe/Paris')) - timedelta(hours=1):%Y-%m-%dT%H:%M}"

    def prepare(client, n):
        client.cookies.update(cookies)
        return n

    def post_interaction(client, n):
        form = {
            "csrf_token": token,
            "occurred_at": an_hour_ago,
            "duration_minutes": "20",
            "channel": "telephone",
            "summary": f"Échange n° {n}",
        }
        return client.post(f"{case_path}/interactions", data=form)

    outcome = _burst(base, prepare, post_interaction)
    _assert_calm(outcome, "interaction form, one case", engine.dialect.name)
    assert outcome.statuses == [303] * BURST
    recorded = select(func.count()).select_from(Interaction)
    assert _count(engine, recorded.where(Interaction.case_id == seeded.case_id)) == BURST

    def post_attachment(client, n):
        files = {"file": (f"piece-{n}.pdf", PDF, "application/pdf")}
        data = {"csrf_token": token, "description": f"Pièce {n}"}
        return client.post(f"{case_path}/attachments", data=data, files=files)

    outcome = _burst(base, prepare, post_attachment)
    _assert_calm(outcome, "attachment form, one case", engine.dialect.name)
    assert outcome.statuses == [303] * BURST
    kept = select(func.count()).select_from(Attachment)
    assert _count(engine, kept.where(Attachment.case_id == seeded.case_id)) == BURST


def _anonymous(client, _n) -> str:
    """A visitor's CSRF token, as any page gives it on a first visit."""
    assert client.get("/login").status_code == 200
    return client.cookies.get("filrouge_csrf")


def test_a_burst_of_answers_to_one_partner_link_records_one(served):
    base, seeded, engine = served

    def post(client, token):
        form = {"csrf_token": token, "decision": "accept"}
        return client.post(f"/{seeded.partner_path}/decision", data=form)

    outcome = _burst(base, _anonymous, post)
    _assert_calm(outcome, "partner link answers", engine.dialect.name)
    assert outcome.statuses.count(200) == 1
    assert outcome.statuses.count(409) == BURST - 1
    with Session(engine) as session:
        assert session.exec(select(Referral.status)).one() == "accepted"


def test_a_burst_of_acknowledgements_of_one_document_records_one(served):
    base, seeded, engine = served

    def post(client, token):
        return client.post(f"/{seeded.document_path}/acknowledge", data={"csrf_token": token})

    outcome = _burst(base, _anonymous, post)
    _assert_calm(outcome, "document link acknowledgements", engine.dialect.name)
    assert outcome.statuses == [303] * BURST
    with Session(engine) as session:
        version = session.get(DeliverableVersion, seeded.version_id)
        assert version.acknowledged_at is not None and version.acknowledgement_method == "online"


def test_a_burst_of_posts_to_the_place_step_answers_every_one(served):
    base, seeded, engine = served

    def post(client, token):
        form = {
            "csrf_token": token,
            "operateur": seeded.operator_code,
            "motif": seeded.kind_id,
            "mode": "on_site",
            "postcode": "69003",
        }
        return client.post("/rendez-vous/lieu", data=form)

    outcome = _burst(base, _anonymous, post)
    _assert_calm(outcome, "public booking, place step", engine.dialect.name)
    assert outcome.statuses == [200] * BURST


def _official_campaign_missing_proofs(engine, units: int) -> tuple[int, str, str]:
    """An official campaign on a new operator whose catalogue, after the draw, asks every
    sampled unit for a proof that its counsellor has since handed over: the campaign, and
    a browser session of the operator's manager (its cookie and CSRF token)."""
    from app.models.nomenclatures import Role
    from app.services.access.auth import start_session
    from tests.control.test_campaign_submission import (
        hand_over_proof,
        opened,
        require_a_proof_of_uo0,
    )
    from tests.factories import ended_unit

    with Session(engine, expire_on_commit=False) as session:
        operator = make_operator(session, code="CTRL", name="Opérateur contrôlé")
        counsellor = make_staff(session, operator)
        manager = make_staff(session, operator, Role.MANAGER)
        episodes = [
            ended_unit(session, make_case(session, counsellor), "UO0") for _ in range(units)
        ]
        campaign = opened(
            session, make_staff(session, None, Role.CONTROLLER), operator, sample_size=str(units)
        )
        session.commit()
        require_a_proof_of_uo0(session, operator)
        for episode in episodes:
            hand_over_proof(session, episode, counsellor)
        # A manager signs in with a second factor: the burst shares a session started here.
        token, row = start_session(session=session, user=manager)
        session.commit()
        return campaign.id, token, row.csrf_token


def test_bursts_of_checks_and_submissions_of_one_campaign_record_each_step_once(served):
    from app.models.control import CampaignEventKind, ControlCampaignEvent

    base, _seeded, engine = served
    campaign_id, session_token, token = _official_campaign_missing_proofs(engine, units=3)
    page = f"/rapports/controles/{campaign_id}"

    def prepare(client, _n):
        client.cookies.set("filrouge_session", session_token)

    def events(kind: CampaignEventKind) -> int:
        statement = select(func.count()).select_from(ControlCampaignEvent)
        return _count(
            engine,
            statement.where(
                ControlCampaignEvent.campaign_id == campaign_id, ControlCampaignEvent.kind == kind
            ),
        )

    def check(client, _prepared):
        return client.post(f"{page}/verifier-preuves", data={"csrf_token": token})

    outcome = _burst(base, prepare, check)
    _assert_calm(outcome, "« Vérifier les preuves », one campaign", engine.dialect.name)
    assert outcome.statuses == [303] * BURST
    assert events(CampaignEventKind.PROOF_ADDED) == 3

    def submit(client, _prepared):
        return client.post(f"{page}/soumettre", data={"csrf_token": token})

    outcome = _burst(base, prepare, submit)
    _assert_calm(outcome, "« Soumettre le dossier », one campaign", engine.dialect.name)
    assert sorted(outcome.statuses) == [303] + [409] * (BURST - 1)
    assert events(CampaignEventKind.SUBMITTED) == 1


def _reviewed_campaign(engine) -> tuple[int, int, str, str, str]:
    """An official campaign on a new operator, submitted, each of its three units judged (the
    first non-conform, still to answer): the campaign, that unit, a browser session of the
    controller (its cookie and CSRF token) and an API token of the operator's manager."""
    from app.core.security import create_api_token
    from app.models.control import UnitReview
    from app.models.nomenclatures import Role
    from app.services.access.auth import start_session
    from app.services.control.campaigns import drawn_ids
    from app.services.control.review import review_unit
    from app.services.control.submission import submit_campaign
    from tests.control.test_campaign_submission import opened
    from tests.factories import ended_unit

    conform = UnitReview(verdict="conform")
    verdicts = [UnitReview(verdict="non_conform", reason="missing_proof"), conform, conform]
    with Session(engine, expire_on_commit=False) as session:
        operator = make_operator(session, code="REVU", name="Opérateur revu")
        counsellor = make_staff(session, operator)
        manager = make_staff(session, operator, Role.MANAGER)
        controller = make_staff(session, None, Role.CONTROLLER)
        for _ in range(3):
            ended_unit(session, make_case(session, counsellor), "UO0")
        campaign = opened(session, controller, operator, sample_size="3")
        submit_campaign(session=session, actor=manager, campaign_id=campaign.id)
        units = drawn_ids(session, campaign.id)
        for unit, verdict in zip(units, verdicts, strict=True):
            review_unit(
                session=session,
                actor=controller,
                campaign_id=campaign.id,
                episode_id=unit,
                review=verdict,
            )
        token, row = start_session(session=session, user=controller)
        session.commit()
        return campaign.id, units[0], token, row.csrf_token, create_api_token(manager)


def test_bursts_of_answers_and_closings_of_one_campaign_record_each_step_once(served):
    from app.models.control import CampaignEventKind, ControlCampaignEvent, ControlFinding

    base, _seeded, engine = served
    campaign_id, unit, session_token, csrf, api_token = _reviewed_campaign(engine)

    def events(kind: CampaignEventKind) -> int:
        statement = select(func.count()).select_from(ControlCampaignEvent)
        return _count(
            engine,
            statement.where(
                ControlCampaignEvent.campaign_id == campaign_id, ControlCampaignEvent.kind == kind
            ),
        )

    def answer(client, n):
        return client.post(
            f"/api/v1/control-campaigns/{campaign_id}/units/{unit}/answer",
            json={"answer": f"Réponse n° {n}"},
            headers={"Authorization": f"Bearer {api_token}"},
        )

    outcome = _burst(base, lambda _client, n: n, answer)
    _assert_calm(outcome, "API answers to one finding", engine.dialect.name)
    assert sorted(outcome.statuses) == [200] + [409] * (BURST - 1)
    assert events(CampaignEventKind.ANSWERED) == 1
    with Session(engine) as session:
        finding = session.exec(select(ControlFinding).where(ControlFinding.episode_id == unit))
        assert finding.one().answer.startswith("Réponse n° ")

    def prepare(client, _n):
        client.cookies.set("filrouge_session", session_token)

    def close(client, _prepared):
        return client.post(f"/controle/campagnes/{campaign_id}/clore", data={"csrf_token": csrf})

    outcome = _burst(base, prepare, close)
    _assert_calm(outcome, "« Clore », one campaign", engine.dialect.name)
    assert sorted(outcome.statuses) == [303] + [409] * (BURST - 1)
    assert events(CampaignEventKind.CLOSED) == 1
