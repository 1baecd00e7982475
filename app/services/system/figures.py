"""The figures /metrics reads from the database at scrape time, the same whichever app
process answers: the outbox's queue, the proof packs being built, the workers' heartbeats.
Each is one query on an index or a small table."""

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime

from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector
from sqlalchemy import func
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from app.models.base import utcnow
from app.models.control import ControlCampaign, PackStatus
from app.models.deliverable_archives import DeliverableArchive
from app.models.outbox import Channel, MessageStatus, OutboxMessage
from app.models.rights import AccessArchive
from app.models.system import WorkerHeartbeat

WAITING = (MessageStatus.PENDING.value, MessageStatus.SENDING.value)


@dataclass
class Figures:
    waiting: dict[str, int]  # messages pending or being sent, per channel
    failed: dict[str, int]  # messages that failed for good (until someone retries them)
    oldest_due_seconds: float  # how long the message due first has waited for a worker
    building: dict[str, int]  # background builds under way: proof packs, archives
    heartbeat_age_seconds: float | None  # since the freshest worker's last pass; None: none ever


def read_figures(session: Session, now: datetime | None = None) -> Figures:
    now = now or utcnow()
    return Figures(
        waiting=_per_channel(session, col(OutboxMessage.status).in_(WAITING)),
        failed=_per_channel(session, OutboxMessage.status == MessageStatus.FAILED.value),
        oldest_due_seconds=_oldest_due_seconds(session, now),
        building={
            "proof_pack": _building(session, ControlCampaign),
            "access_archive": _building(session, AccessArchive),
            "deliverable_archive": _building(session, DeliverableArchive),
        },
        heartbeat_age_seconds=_heartbeat_age(session, now),
    )


def _per_channel(session: Session, condition) -> dict[str, int]:
    counts = {channel.value: 0 for channel in Channel}
    query = (
        select(OutboxMessage.channel, func.count())
        .where(condition)
        .group_by(col(OutboxMessage.channel))
    )
    counts.update(dict(session.exec(query).all()))
    return counts


def _oldest_due_seconds(session: Session, now: datetime) -> float:
    # On the (status, next_attempt_at) index: the first pending entry.
    query = select(func.min(OutboxMessage.next_attempt_at)).where(
        OutboxMessage.status == MessageStatus.PENDING.value,
        col(OutboxMessage.next_attempt_at) <= now,
    )
    oldest = session.exec(query).one()
    return max((now - _aware(oldest)).total_seconds(), 0.0) if oldest else 0.0


def _building(session: Session, model) -> int:
    query = select(func.count()).select_from(model).where(model.status == PackStatus.BUILDING)
    return session.exec(query).one()


def _heartbeat_age(session: Session, now: datetime) -> float | None:
    freshest = session.exec(select(func.max(WorkerHeartbeat.beaten_at))).one()
    return max((now - _aware(freshest)).total_seconds(), 0.0) if freshest else None


def _aware(value: datetime) -> datetime:
    """SQLite may hand back an aggregate's time naive (it is UTC)."""
    return value if value.tzinfo else value.replace(tzinfo=UTC)


class DatabaseFigures(Collector):
    """The figures above as Prometheus gauges, read at each scrape."""

    def __init__(self, engine: Engine):
        self.engine = engine

    def collect(self) -> Iterator[GaugeMetricFamily]:
        with Session(self.engine) as session:
            figures = read_figures(session)
        yield _labelled(
            "filrouge_outbox_queue_depth",
            "Messages en attente d'envoi ou en cours d'envoi, par canal",
            "channel",
            figures.waiting,
        )
        yield _labelled(
            "filrouge_outbox_failed_messages",
            "Messages en échec définitif (jusqu'à ce qu'on les renvoie), par canal",
            "channel",
            figures.failed,
        )
        yield GaugeMetricFamily(
            "filrouge_outbox_oldest_due_age_seconds",
            "Attente du plus ancien message dû, en secondes (0 : aucun en attente)",
            value=figures.oldest_due_seconds,
        )
        yield _labelled(
            "filrouge_background_builds",
            "Dossiers de preuves et archives d'accès en cours de préparation",
            "kind",
            figures.building,
        )
        age = figures.heartbeat_age_seconds
        yield GaugeMetricFamily(
            "filrouge_worker_heartbeat_age_seconds",
            "Secondes depuis le dernier passage du processus d'envoi le plus récent (+Inf : aucun)",
            value=float("inf") if age is None else age,
        )


def _labelled(name: str, documentation: str, label: str, values: dict[str, int]):
    family = GaugeMetricFamily(name, documentation, labels=[label])
    for value_label, value in sorted(values.items()):
        family.add_metric([value_label], value)
    return family
