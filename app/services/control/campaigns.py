"""Control campaigns: draw a reproducible random sample of the units delivered in a period.

The draw needs nothing but the seed and the population: every unit the ledger counts as
billable for the period (`billable_units`) is ranked by SHA-256("seed:episode id") and the
first ones are taken. A controller can
redo it with any tool, and it does not depend on Python's random module across versions."""

import hashlib
import math
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

from sqlalchemy import insert
from sqlmodel import Session, col, func, select

from app.core.dates import local_today
from app.core.db import all_or_nothing
from app.core.errors import Conflict, Invalid
from app.models.cases import Case, Episode
from app.models.catalogue import ServiceUnit
from app.models.control import (
    MAX_SEED,
    CampaignCreate,
    ControlCampaign,
    ControlSampleUnit,
    PackStatus,
)
from app.models.staff import StaffUser
from app.services.access.scope import load_owned, owned_by
from app.services.admin.operators import time_zone_of
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
    *, session: Session, actor: StaffUser, request: CampaignCreate
) -> ControlCampaign:
    """Draw the sample now and queue its proof pack; the seed is random unless given."""
    operator = ledger_operator(session, actor)
    population = billable_units(session, operator, request.period_start, request.period_end)
    if not population:
        raise Invalid({"au": "Aucune unité facturable n'a été terminée dans cette période"})
    seed = request.seed if request.seed is not None else secrets.randbelow(MAX_SEED + 1)
    size = sample_size_for(len(population), size=request.sample_size, rate=request.sample_rate)
    drawn = draw_sample(population, size, seed)
    campaign = ControlCampaign(
        operator_id=operator.id,
        created_by_id=actor.id,
        period_start=request.period_start,
        period_end=request.period_end,
        sample_size=request.sample_size,
        sample_rate=request.sample_rate,
        seed=seed,
        pseudonymise=request.pseudonymise,
        population=len(population),
        drawn=len(drawn),
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
    return campaign


def get_campaign(*, session: Session, actor: StaffUser, campaign_id: int) -> ControlCampaign:
    ledger_operator(session, actor)
    return load_owned(session, ControlCampaign, campaign_id, actor)


def recent_campaigns(*, session: Session, actor: StaffUser) -> list[ControlCampaign]:
    operator = ledger_operator(session, actor)
    statement = (
        select(ControlCampaign)
        .where(owned_by(ControlCampaign, operator.id))
        .order_by(col(ControlCampaign.id).desc())
        .limit(RECENT_CAMPAIGNS)
    )
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
    campaign.status, campaign.error, campaign.cases_done = PackStatus.QUEUED, "", 0
    session.add(campaign)
    session.flush()
    return campaign


def sampled_units(
    session: Session, campaign: ControlCampaign, *, limit: int | None = None
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
        .limit(limit)
    )
    return list(session.exec(statement))


@dataclass
class CampaignList:
    """The campaigns page: the recent campaigns, and last month to draw a sample from."""

    campaigns: list[ControlCampaign]
    time_zone: str  # the operator's
    last_month: tuple[date, date]


def campaign_list(*, session: Session, actor: StaffUser) -> CampaignList:
    operator = ledger_operator(session, actor)
    time_zone = time_zone_of(session=session, operator_id=operator.id)
    return CampaignList(
        campaigns=recent_campaigns(session=session, actor=actor),
        time_zone=time_zone,
        last_month=previous_month(local_today(time_zone)),
    )


@dataclass
class CampaignView:
    campaign: ControlCampaign
    time_zone: str  # the operator's
    units: list[tuple]  # the first SHOWN_UNITS units drawn, when asked for


def campaign_view(
    *, session: Session, actor: StaffUser, campaign_id: int, with_units: bool = True
) -> CampaignView:
    """A campaign with the first units of its sample; `with_units=False` for its progress."""
    campaign = get_campaign(session=session, actor=actor, campaign_id=campaign_id)
    units = sampled_units(session, campaign, limit=SHOWN_UNITS) if with_units else []
    time_zone = time_zone_of(session=session, operator_id=campaign.operator_id)
    return CampaignView(campaign=campaign, time_zone=time_zone, units=units)


def pack_filename(campaign: ControlCampaign) -> str:
    return f"controle-{campaign.id}_{campaign.period_start}_{campaign.period_end}.zip"
