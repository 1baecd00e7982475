"""The delivery loop behind `filrouge worker`, also run in a thread by `filrouge serve`;
each pass delivers the e-mails and SMS due, then expires referrals left without an answer,
queues appointment reminders, offers freed slots to the waiting list, the surveys due (and their reminder) and the daily notification
digests, deletes expired SMS short links, takes the month's snapshot of the national view
when it is not there yet, links the audit trail's new entries into its chain, and once a day
per operator anonymises the people past its retention period (app/services/privacy/retention.py).
Proof packs, access archives and archives of deliverables, long to build, have a loop of
their own so that e-mails never wait for them; archives past their expiry are deleted by the
housekeeping.

`echo` says on the console what a pass did, in French, for whoever watches it; a failure is
also logged (app/core/logging.py) with its full traceback, for whoever looks into it later."""

import logging
import signal
import threading
from collections.abc import Callable
from datetime import datetime

from sqlalchemy.engine import Engine
from sqlmodel import Session

from app.core.config import get_settings
from app.core.db import get_engine
from app.core.storage import sweep_abandoned_scratch
from app.services.audit.retention import purge_expired
from app.services.audit.trail import link_pending
from app.services.booking.messages import send_due_reminders
from app.services.booking.waiting_list_offers import expire_offers, offer_freed_slots
from app.services.control.proof_pack import build_pending_packs
from app.services.deliverables.archive_build import build_pending_period_archives
from app.services.deliverables.period_archive import delete_expired_period_archives
from app.services.messaging.digests import queue_digests
from app.services.messaging.mail import Transport, transport_from_settings
from app.services.messaging.outbox import deliver_due
from app.services.messaging.short_links import purge_expired_links
from app.services.personal_space.links import purge_expired_space_links
from app.services.privacy.access_archive import build_pending_archives, delete_expired_archives
from app.services.privacy.retention import run_daily_retention
from app.services.referrals.workflow import expire_unanswered
from app.services.reports.national import take_national_snapshots
from app.services.surveys.invitations import send_due_surveys
from app.services.system.heartbeat import beat, stop_beating, worker_name

Echo = Callable[[str], None]

log = logging.getLogger(__name__)


def run_delivery_loop(
    *,
    echo: Echo,
    stop: threading.Event,
    interval: float = 5,
    once: bool = False,
    engine: Engine | None = None,
) -> None:
    """Deliver due messages every `interval` seconds until `stop` is set (or after one pass)."""
    engine = engine or get_engine()
    transport = transport_from_settings()
    worker, beaten = worker_name(), False
    try:
        while not stop.is_set():
            # A database away: one message is enough. Stopping: the housekeeping can wait.
            if _one_pass(engine, transport, stop, echo) and not stop.is_set():
                _housekeeping(engine, echo)
                beaten = _beat(engine, worker) or beaten
            if once:
                return
            stop.wait(interval)
    finally:
        if beaten:
            _stop_beating(engine, worker)


def _beat(engine: Engine, worker: str) -> bool:
    try:
        beat(engine, worker)
    except Exception:  # a missed beat shows as an older heartbeat: nothing else to do
        log.exception("recording the worker's heartbeat failed")
        return False
    return True


def _stop_beating(engine: Engine, worker: str) -> None:
    try:
        stop_beating(engine, worker)
    except Exception:  # stopping anyway: its row will look like a dead worker's
        log.exception("removing the worker's heartbeat failed")


def _one_pass(engine: Engine, transport: Transport, stop: threading.Event, echo: Echo) -> bool:
    try:
        report = deliver_due(engine=engine, transport=transport, stop=stop)
    except Exception as exc:  # the database may be away for a moment: the next pass retries
        log.exception("outbox delivery pass failed")
        echo(f"{_clock()} Envoi des messages impossible : {_in_brief(exc)}")
        return False
    if report:
        echo(f"{_clock()} Messages : {report.summary()}.")
    return True


# The jobs of each pass after the e-mails: (what it does, its log name, what its count is or
# None to say nothing, what its failure is). Each runs in its own transaction, so that a failure
# here never holds back the e-mails; what a job queues goes out on the next pass.
_HOUSEKEEPING = (
    (
        # Every pass, so that an entry waits a few seconds at most outside the chain (where a
        # removal would go unnoticed); the chain's lock is held for this short transaction only.
        link_pending,
        "linking the audit trail's new entries",
        None,  # every pass links some on a busy server: not worth a line each time
        "Chaînage du journal d'accès impossible",
    ),
    (
        expire_unanswered,
        "expiring unanswered referrals",
        "Orientations expirées sans réponse",
        "Expiration des orientations impossible",
    ),
    (
        send_due_reminders,
        "queueing appointment reminders",
        "Rappels de rendez-vous préparés",
        "Rappels de rendez-vous impossibles",
    ),
    (
        expire_offers,
        "expiring the waiting list's unanswered offers",
        "Propositions de la liste d'attente expirées",
        "Liste d'attente : expiration des propositions impossible",
    ),
    (
        # Cheap when nobody waits (one indexed query); a slot freed just above goes out here.
        offer_freed_slots,
        "offering freed slots to the waiting list",
        "Places libérées proposées (liste d'attente)",
        "Liste d'attente : propositions impossibles",
    ),
    (
        send_due_surveys,
        "sending due surveys and their reminders",
        "Enquêtes de satisfaction envoyées ou relancées",
        "Envoi des enquêtes de satisfaction impossible",
    ),
    (
        queue_digests,
        "queueing notification digests",
        "Récapitulatifs de notifications préparés",
        "Récapitulatifs de notifications impossibles",
    ),
    (
        # On the 1st, its first pass takes the month's national figures: nobody waits for them.
        take_national_snapshots,
        "taking the month's national snapshots",
        "Vues nationales du mois arrêtées",
        "Arrêté mensuel de la vue nationale impossible",
    ),
    (
        # Once a day per operator: people past its « Durée de conservation » are anonymised.
        run_daily_retention,
        "anonymising people past the retention period",
        "Personnes anonymisées (durée de conservation écoulée)",
        "Anonymisation des données échues impossible",
    ),
    (
        purge_expired_links,
        "purging expired SMS short links",
        "Liens courts des SMS expirés supprimés",
        "Suppression des liens courts expirés impossible",
    ),
    (
        purge_expired_space_links,
        "purging expired personal space links",
        "Liens expirés des espaces personnels supprimés",
        "Suppression des liens expirés des espaces personnels impossible",
    ),
    (
        purge_expired,
        "purging the audit trail's expired entries",
        "Entrées du journal d'accès purgées (durée de conservation passée)",
        "Purge du journal d'accès impossible",
    ),
    (
        delete_expired_archives,
        "deleting expired access archives",
        "Archives d'accès expirées supprimées",
        "Suppression des archives d'accès expirées impossible",
    ),
    (
        delete_expired_period_archives,
        "deleting expired deliverable archives",
        "Archives des livrables expirées supprimées",
        "Suppression des archives des livrables expirées impossible",
    ),
    (
        sweep_abandoned_scratch,
        "deleting scratch files of processes that died",
        "Fichiers de travail abandonnés supprimés",
        "Suppression des fichiers de travail abandonnés impossible",
    ),
)


def _housekeeping(engine: Engine, echo: Echo) -> None:
    for job, name, done, failed in _HOUSEKEEPING:
        try:
            with Session(engine) as session, session.begin():
                count = job(session=session)
        except Exception as exc:  # same as above: the next pass tries again
            log.exception("%s failed", name)
            echo(f"{_clock()} {failed} : {_in_brief(exc)}")
            continue
        if count and done:
            echo(f"{_clock()} {done} : {count}.")


def run_pack_loop(
    *, echo: Echo, stop: threading.Event, interval: float = 5, engine: Engine | None = None
) -> None:
    """Build the queued proof packs, access archives and archives of deliverables every
    `interval` seconds until `stop` is set."""
    engine = engine or get_engine()
    while not stop.is_set():
        try:
            built = build_pending_packs(engine, stop=stop)
        except Exception as exc:  # that campaign is marked failed; the others go on next pass
            log.exception("building a proof pack failed")
            echo(f"{_clock()} Dossier de preuves en échec : {_in_brief(exc)}")
        else:
            if built:
                listed = ", ".join(map(str, built))
                echo(f"{_clock()} Dossiers de preuves prêts : campagne(s) {listed}.")
        _build_archives(engine, echo, stop)
        stop.wait(interval)


# The other background builds of this loop: (build, what the log says, failed, ready).
_BUILDS = (
    (
        build_pending_archives,
        "building an access archive failed",
        "Archive d'accès en échec",
        "Archives d'accès prêtes",
    ),
    (
        build_pending_period_archives,
        "building a deliverable archive failed",
        "Archive des livrables en échec",
        "Archives des livrables prêtes",
    ),
)


def _build_archives(engine: Engine, echo: Echo, stop: threading.Event) -> None:
    for build, logged, failed, ready in _BUILDS:
        try:
            built = build(engine, stop=stop)
        except Exception as exc:  # that archive is marked failed; the others go on next pass
            log.exception(logged)
            echo(f"{_clock()} {failed} : {_in_brief(exc)}")
        else:
            if built:
                echo(f"{_clock()} {ready} : {len(built)}.")


def start_pack_builder(
    *, echo: Echo, stop: threading.Event, interval: float = 5
) -> threading.Thread:
    return _daemon(run_pack_loop, "filrouge-proof-packs", echo=echo, stop=stop, interval=interval)


def _daemon(target: Callable, name: str, **kwargs) -> threading.Thread:
    thread = threading.Thread(target=target, kwargs=kwargs, name=name, daemon=True)
    thread.start()
    return thread


def _in_brief(exc: Exception) -> str:
    """The error's kind for the console; its message and traceback are in the log."""
    return f"{type(exc).__name__} (détail dans le journal)"


def _clock() -> str:
    return datetime.now().strftime("%H:%M:%S")


def stop_on_signals(stop: threading.Event, echo: Echo) -> None:
    """First Ctrl-C (or SIGTERM): finish the message in hand, hand back the proof pack or
    archive under way (at its next batch), then stop; second: stop now."""

    def handle(_signum, _frame):
        if stop.is_set():
            raise KeyboardInterrupt
        stop.set()
        echo("Arrêt demandé : fin de l'envoi en cours…")

    signal.signal(signal.SIGINT, handle)
    signal.signal(signal.SIGTERM, handle)


def start_background_delivery(*, echo: Echo, interval: float = 5) -> Callable[[], None]:
    """Run the loop in a daemon thread of this process; returns the function that ends it."""
    stop = threading.Event()
    thread = _daemon(run_delivery_loop, "filrouge-outbox", echo=echo, stop=stop, interval=interval)
    builder = start_pack_builder(echo=echo, stop=stop, interval=interval)

    def stop_delivery() -> None:
        # Let the message in hand finish, and the build under way hand its row back, rather
        # than cut them off at exit.
        stop.set()
        for running in (thread, builder):
            running.join(timeout=get_settings().smtp_timeout_seconds)

    return stop_delivery
