"""Control campaigns: draw a reproducible random sample of the units delivered in a period.

The draw needs nothing but the seed and the population: every unit the ledger counts as
billable for the period (`billable_units`) is ranked by SHA-256("seed:episode id") and the
first ones are taken. A controller can redo it with any tool, and it does not depend on
Python's random module across versions.

France compétences' controllers open official campaigns on an operator, with a seed derived
from the opening's time and a value they type (`official_seed`); an operator's own draws are
self-checks. The README's « Refaire un tirage » describes both for a third party."""

import hashlib
import math
import secrets
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime

from sqlalchemy import insert
from sqlmodel import Session, col, func, select

from app.core.dates import local_today
from app.core.db import all_or_nothing
from app.core.errors import Conflict, Forbidden, Invalid
from app.models.base import utcnow
from app.models.cases import Case, Episode
from app.models.catalogue import ServiceUnit
from app.models.control import (
    MAX_SEED,
    CampaignCreate,
    CampaignEventKind,
    CampaignKind,
    ControlCampaign,
    ControlSampleUnit,
    OfficialCampaignCreate,
    PackStatus,
)
from app.models.nomenclatures import Role
from app.models.operators import Operator
from app.models.staff import StaffUser
from app.services.access.scope import load_owned, owned_by
from app.services.admin.operators import time_zone_of
from app.services.control.deadlines import days_left, official_deadline
from app.services.control.history import HistoryLine, campaign_history, record_event
from app.services.control.proofs import proof_status_for_episodes
from app.services.reports.ledger import billable_units, ledger_operator, previous_month

DRAW_METHOD = (
    "Unités facturables terminées dans la période, comme les compte l'état de service fait : "
    "épisodes non annulés terminés entre les deux dates incluses (heure de l'opérateur), dont "
    "l'unité est payée par le marché sous lequel l'épisode a démarré (à défaut de lot, "
    "facturable au catalogue) et dont les preuves sont complètes. Elles sont classées par "
    "SHA-256 de « graine:identifiant de l'unité » (hexadécimal croissant) ; les premières "
    "forment l'échantillon."
)
RECENT_CAMPAIGNS = 20
SHOWN_UNITS = 200  # on the campaign's page; the manifest lists them all


def seed_basis(created_at: datetime, public_value: str) -> str:
    """The text hashed into an official campaign's seed: its opening time in UTC, to the
    microsecond, then the controller's public value."""
    return f"{created_at.astimezone(UTC):%Y-%m-%dT%H:%M:%S.%fZ}|{public_value}"


def official_seed(created_at: datetime, public_value: str) -> int:
    """The first 8 hexadecimal digits of SHA-256(basis), as a number, modulo 2^31: the
    controller cannot know the microsecond before opening, the operator has no say at all."""
    digest = hashlib.sha256(seed_basis(created_at, public_value).encode()).hexdigest()
    return int(digest[:8], 16) % (MAX_SEED + 1)


def seed_basis_of(campaign: ControlCampaign) -> str | None:
    """What an official campaign's seed was derived from, as published; None for a self-check."""
    if campaign.public_value is None:
        return None
    return seed_basis(campaign.created_at, campaign.public_value)


def population_ids_of(campaign: ControlCampaign) -> list[int] | None:
    """The ids of the units the campaign drew from, ascending (None: drawn before they were
    kept)."""
    if campaign.population_ids is None:
        return None
    return [int(episode_id) for episode_id in campaign.population_ids.split()]


def draw_rank(seed: int, episode_id: int) -> str:
    return hashlib.sha256(f"{seed}:{episode_id}".encode()).hexdigest()


def draw_sample(population: Iterable[int], size: int, seed: int) -> list[int]:
    """The `size` episode ids with the smallest ranks, in rank order."""
    return sorted(population, key=lambda episode_id: draw_rank(seed, episode_id))[:size]


def sample_size_for(population: int, *, size: int | None, rate: float | None) -> int:
    """The asked size, or the rate in percent rounded up (a rate never draws zero units)."""
    # At least one: a rate of 1e-300 % is a positive rate, whose product rounds to 0.0.
    wanted = size if size is not None else max(1, math.ceil(population * rate / 100))
    return min(wanted, population)


@all_or_nothing
def create_campaign(
    *, session: Session, actor: StaffUser, request: CampaignCreate | OfficialCampaignCreate
) -> ControlCampaign:
    """Draw the sample now and queue its proof pack: an operator's self-check (the seed is
    random unless given) or a controller's official campaign (the seed is derived)."""
    operator = _drawn_operator(session, actor, request)
    population = billable_units(session, operator, request.period_start, request.period_end)
    if not population:
        raise Invalid({"au": "Aucune unité facturable n'a été terminée dans cette période"})
    created_at = utcnow()
    seed = _seed(request, created_at)
    size = sample_size_for(len(population), size=request.sample_size, rate=request.sample_rate)
    drawn = draw_sample(population, size, seed)
    official = isinstance(request, OfficialCampaignCreate)
    campaign = ControlCampaign(
        operator_id=operator.id,
        kind=(CampaignKind.OFFICIAL if official else CampaignKind.SELF_CHECK).value,
        created_by_id=actor.id,
        created_at=created_at,
        period_start=request.period_start,
        period_end=request.period_end,
        sample_size=request.sample_size,
        sample_rate=request.sample_rate,
        seed=seed,
        public_value=request.public_value if official else None,
        pseudonymise=request.pseudonymise,
        population=len(population),
        population_ids=" ".join(str(episode_id) for episode_id in sorted(population)),
        drawn=len(drawn),
        deadline=official_deadline(request.deadline, created_at) if official else None,
    )
    session.add(campaign)
    session.flush()
    session.execute(
        insert(ControlSampleUnit),
        [
            {"campaign_id": campaign.id, "episode_id": episode_id, "position": position}
            for position, episode_id in enumerate(drawn, start=1)
        ],
    )
    campaign.cases_total = session.exec(
        select(func.count(func.distinct(Episode.case_id))).where(col(Episode.id).in_(drawn))
    ).one()
    session.flush()
    if official:
        _record_opening(session, campaign)
    return campaign


def _record_opening(session: Session, campaign: ControlCampaign) -> None:
    """The history's first two steps, both at the opening's instant (the draw is part of it)."""
    opened_by = {"at": campaign.created_at, "author_id": campaign.created_by_id}
    record_event(
        session,
        campaign,
        CampaignEventKind.OPENED,
        detail=f"Période du {campaign.period_start:%d/%m/%Y} au {campaign.period_end:%d/%m/%Y}, "
        f"échéance le {campaign.deadline:%d/%m/%Y}",
        **opened_by,
    )
    record_event(
        session,
        campaign,
        CampaignEventKind.DRAWN,
        detail=f"{campaign.drawn} unité(s) sur {campaign.population}, graine {campaign.seed}",
        **opened_by,
    )


def _drawn_operator(
    session: Session, actor: StaffUser, request: CampaignCreate | OfficialCampaignCreate
) -> Operator:
    """The operator drawn from: the actor's own for a self-check; for an official campaign,
    the one the controller chose (only a controller opens one)."""
    if not isinstance(request, OfficialCampaignCreate):
        return ledger_operator(session, actor)
    require_controller(actor)
    operator = session.get(Operator, request.operator_id)
    if operator is None:
        raise Invalid({"operator_id": "Opérateur inconnu"})
    return operator


def _seed(request: CampaignCreate | OfficialCampaignCreate, created_at: datetime) -> int:
    if isinstance(request, OfficialCampaignCreate):
        return official_seed(created_at, request.public_value)
    return request.seed if request.seed is not None else secrets.randbelow(MAX_SEED + 1)


def require_controller(actor: StaffUser) -> None:
    if actor.role != Role.CONTROLLER:
        raise Forbidden("Seul·e un·e contrôleur·euse de France compétences ouvre un contrôle.")


def get_campaign(*, session: Session, actor: StaffUser, campaign_id: int) -> ControlCampaign:
    ledger_operator(session, actor)
    return load_owned(session, ControlCampaign, campaign_id, actor)


def recent_campaigns(
    *, session: Session, actor: StaffUser, kind: CampaignKind
) -> list[ControlCampaign]:
    """The operator's latest campaigns of one kind: its self-checks, or the official ones
    France compétences opened on it."""
    return operator_campaigns(session=session, actor=actor, kind=kind)


def operator_campaigns(
    *,
    session: Session,
    actor: StaffUser,
    kind: CampaignKind | None = None,
    offset: int = 0,
    limit: int = RECENT_CAMPAIGNS,
) -> list[ControlCampaign]:
    """The campaigns on the actor's operator, latest first: of one kind, or both."""
    operator = ledger_operator(session, actor)
    statement = select(ControlCampaign).where(owned_by(ControlCampaign, operator.id))
    if kind is not None:
        statement = statement.where(ControlCampaign.kind == kind.value)
    statement = statement.order_by(col(ControlCampaign.id).desc()).offset(offset).limit(limit)
    return list(session.exec(statement))


def ready_pack(*, session: Session, actor: StaffUser, campaign_id: int) -> ControlCampaign:
    """The campaign whose pack may be downloaded; 409 while it is being built."""
    campaign = get_campaign(session=session, actor=actor, campaign_id=campaign_id)
    if campaign.status != PackStatus.READY or not campaign.pack_key:
        raise Conflict("Le dossier de preuves n'est pas encore prêt.")
    return campaign


def requeue_campaign(*, session: Session, actor: StaffUser, campaign_id: int) -> ControlCampaign:
    """Build a failed pack again (after the stored file or the PDF library was fixed)."""
    campaign = get_campaign(session=session, actor=actor, campaign_id=campaign_id)
    if campaign.status != PackStatus.FAILED:
        raise Conflict("Seul un dossier de preuves en échec peut être relancé.")
    queue_pack(campaign)
    session.add(campaign)
    session.flush()
    return campaign


def queue_pack(campaign: ControlCampaign) -> None:
    """Queue the campaign's pack to be built (again): a builder still on the previous one loses
    its lease and stops, and the worker starts this one over."""
    campaign.status, campaign.cases_done, campaign.error = PackStatus.QUEUED.value, 0, ""
    campaign.lease_until = None


def drawn_ids(session: Session, campaign_id: int) -> list[int]:
    """The sampled units' ids in the order of the draw."""
    statement = (
        select(ControlSampleUnit.episode_id)
        .where(ControlSampleUnit.campaign_id == campaign_id)
        .order_by(ControlSampleUnit.position)
    )
    return list(session.exec(statement))


def sampled_units(
    session: Session, campaign: ControlCampaign, *, offset: int = 0, limit: int | None = None
) -> list[tuple]:
    """(episode, case, unit code) of the sample, in draw order."""
    statement = (
        select(Episode, Case, ServiceUnit.code)
        .select_from(ControlSampleUnit)
        .join(Episode, col(Episode.id) == ControlSampleUnit.episode_id)
        .join(Case, col(Case.id) == Episode.case_id)
        .join(ServiceUnit, col(ServiceUnit.id) == Episode.unit_id)
        .where(ControlSampleUnit.campaign_id == campaign.id)
        .order_by(ControlSampleUnit.position)
        .offset(offset)
        .limit(limit)
    )
    return list(session.exec(statement))


@dataclass
class CampaignList:
    """The operator's campaigns page: the official campaigns opened on it, its recent
    self-checks, and last month to draw a sample from."""

    official: list[ControlCampaign]
    campaigns: list[ControlCampaign]  # the self-checks
    time_zone: str  # the operator's
    last_month: tuple[date, date]


def campaign_list(*, session: Session, actor: StaffUser) -> CampaignList:
    operator = ledger_operator(session, actor)
    time_zone = time_zone_of(session=session, operator_id=operator.id)
    return CampaignList(
        official=recent_campaigns(session=session, actor=actor, kind=CampaignKind.OFFICIAL),
        campaigns=recent_campaigns(session=session, actor=actor, kind=CampaignKind.SELF_CHECK),
        time_zone=time_zone,
        last_month=previous_month(local_today(time_zone)),
    )


@dataclass
class CampaignView:
    campaign: ControlCampaign
    time_zone: str  # the operator's
    units: list[tuple]  # the first SHOWN_UNITS units drawn, when asked for
    seed_basis: str | None  # an official campaign's, as published
    # An official campaign's: each shown unit's proofs now, by episode id, and its history.
    proofs: dict = field(default_factory=dict)
    history: list[HistoryLine] = field(default_factory=list)
    days_left: int | None = None


def campaign_view(
    *, session: Session, actor: StaffUser, campaign_id: int, with_units: bool = True
) -> CampaignView:
    """A campaign with the first units of its sample; `with_units=False` for its progress."""
    campaign = get_campaign(session=session, actor=actor, campaign_id=campaign_id)
    units = sampled_units(session, campaign, limit=SHOWN_UNITS) if with_units else []
    time_zone = time_zone_of(session=session, operator_id=campaign.operator_id)
    view = CampaignView(
        campaign=campaign, time_zone=time_zone, units=units, seed_basis=seed_basis_of(campaign)
    )
    if campaign.official and with_units:
        view.proofs = proof_status_for_episodes(
            session=session,
            operator_id=campaign.operator_id,
            episodes=[episode for episode, _, _ in units],
        )
        view.history = campaign_history(session, campaign.id)
        view.days_left = days_left(campaign, time_zone)
    return view


def pack_filename(campaign: ControlCampaign) -> str:
    return f"controle-{campaign.id}_{campaign.period_start}_{campaign.period_end}.zip"
