"""The operator's side of an official campaign: the sampled units' proofs now, the proofs added
since the opening, and the submission that freezes the campaign.

A proof is a deliverable issued on the case as usual; the campaign only records when each
required proof of a sampled unit became complete after the opening. That moment is read from
the deliverable's versions (sent, handed over or acknowledged, by the rule of the unit's market:
the same rule as the ledger's), not from when someone looked, so a check made later still dates
the proof truly; a proof completed after the deadline is never recorded as added in time."""

from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session, col, select

from app.core.db import all_or_nothing
from app.core.errors import Conflict, NotFound
from app.models.base import utcnow
from app.models.cases import Case, Episode
from app.models.catalogue import DeliverableKind, ServiceUnit
from app.models.control import (
    CampaignEventKind,
    CampaignPhase,
    ControlCampaign,
    ControlCampaignEvent,
    ControlSampleUnit,
)
from app.models.deliverables import Deliverable, DeliverableVersion
from app.models.markets import ProofRule
from app.models.staff import StaffUser
from app.services.admin.operators import time_zone_of
from app.services.control.campaigns import get_campaign, queue_pack, sampled_units
from app.services.control.deadlines import days_left, deadline_end
from app.services.control.history import HistoryLine, campaign_history, record_event
from app.services.control.proofs import (
    EpisodeProofs,
    ProofState,
    episode_proof_rule,
    proof_status_for_episodes,
)

BATCH = 500  # sampled units read at a time


def sample_proofs(session: Session, campaign: ControlCampaign) -> dict[int, EpisodeProofs]:
    """Every sampled unit's proofs now, by episode id (complete: nothing missing or awaited)."""
    episode_ids = list(
        session.exec(
            select(ControlSampleUnit.episode_id).where(ControlSampleUnit.campaign_id == campaign.id)
        )
    )
    status: dict[int, EpisodeProofs] = {}
    for start in range(0, len(episode_ids), BATCH):
        episodes = session.exec(
            select(Episode).where(col(Episode.id).in_(episode_ids[start : start + BATCH]))
        )
        status |= proof_status_for_episodes(
            session=session, operator_id=campaign.operator_id, episodes=list(episodes)
        )
    return status


@dataclass
class Completion:
    """When a required proof of a unit became complete, by whom, with which deliverable."""

    at: datetime
    author_id: int | None
    detail: str


def _completions(
    session: Session, episode_ids: list[int], kind_ids: set[int]
) -> dict[tuple[int, int], Completion]:
    """The earliest completion of each (unit, kind of deliverable): under « remis », the first
    version sent, handed over or acknowledged; under « accusé de lecture », the first one
    acknowledged. The author is who handed it over in person, else who issued it."""
    rule_rows = session.exec(
        select(Episode.id, episode_proof_rule()).where(col(Episode.id).in_(episode_ids))
    )
    rules = {episode_id: rule for episode_id, rule in rule_rows}
    rows = session.exec(
        select(Deliverable, DeliverableVersion, DeliverableKind.label)
        .join(DeliverableVersion, col(DeliverableVersion.deliverable_id) == Deliverable.id)
        .join(DeliverableKind, col(DeliverableKind.id) == Deliverable.kind_id)
        .where(col(Deliverable.episode_id).in_(episode_ids), col(Deliverable.kind_id).in_(kind_ids))
    )
    earliest: dict[tuple[int, int], Completion] = {}
    for deliverable, version, kind_label in rows:
        moment, author = _reached(version, rules[deliverable.episode_id])
        key = (deliverable.episode_id, deliverable.kind_id)
        if moment is None or (key in earliest and earliest[key].at <= moment):
            continue
        detail = f"{kind_label} : « {deliverable.title} » v{version.number}"
        earliest[key] = Completion(moment, author, detail)
    return earliest


def _reached(version: DeliverableVersion, rule: str) -> tuple[datetime | None, int | None]:
    if rule == ProofRule.ACKNOWLEDGED.value:
        return version.acknowledged_at, version.issued_by_id
    moments = [
        (version.handed_over_at, version.handed_over_by_id),
        (version.shared_at, version.issued_by_id),
        (version.acknowledged_at, version.issued_by_id),
    ]
    known = [(moment, author) for moment, author in moments if moment is not None]
    return min(known, key=lambda pair: pair[0]) if known else (None, None)


def _record_added_proofs(session: Session, campaign: ControlCampaign, until: datetime) -> int:
    """Write a « proof added » for each required proof of a sampled unit that is complete now
    and became so after the opening and before `until`, unless already written."""
    status = sample_proofs(session, campaign)
    complete = {
        (episode_id, item.kind.id)
        for episode_id, proofs in status.items()
        for item in proofs.items
        if item.state == ProofState.COMPLETE
    }
    already = set(
        session.exec(
            select(ControlCampaignEvent.episode_id, ControlCampaignEvent.deliverable_kind_id).where(
                ControlCampaignEvent.campaign_id == campaign.id,
                ControlCampaignEvent.kind == CampaignEventKind.PROOF_ADDED.value,
            )
        )
    )
    wanted = complete - already
    if not wanted:
        return 0
    completions = _completions(
        session, sorted({e for e, _ in wanted}), {kind for _, kind in wanted}
    )
    in_time = [
        (completion, key)
        for key in wanted
        if (completion := completions.get(key)) and campaign.created_at < completion.at <= until
    ]  # not those complete before the opening, nor those completed after the deadline
    for completion, (episode_id, kind_id) in sorted(in_time, key=lambda pair: pair[0].at):
        record_event(
            session,
            campaign,
            CampaignEventKind.PROOF_ADDED,
            at=completion.at,
            author_id=completion.author_id,
            detail=completion.detail,
            episode_id=episode_id,
            deliverable_kind_id=kind_id,
        )
    return len(in_time)


def _open_campaign(
    session: Session, actor: StaffUser, campaign_id: int, now: datetime
) -> tuple[ControlCampaign, datetime]:
    """The operator's official campaign, still open and before its deadline (409 otherwise);
    with the deadline's end, as an instant."""
    campaign = get_campaign(session=session, actor=actor, campaign_id=campaign_id)
    # One at a time per campaign: a second « Vérifier » or « Soumettre » waits for the first,
    # then reads what it wrote (no proof recorded twice, no second submission). SQLite's
    # transactions already run one at a time (BEGIN IMMEDIATE).
    campaign = session.get(
        ControlCampaign, campaign.id, with_for_update=True, populate_existing=True
    )
    if not campaign.official:
        raise Conflict("Un auto-contrôle ne se soumet pas : seul un contrôle officiel l'est.")
    if campaign.submitted:
        raise Conflict("Le dossier a été soumis : le contrôle ne change plus.")
    end = deadline_end(campaign, time_zone_of(session=session, operator_id=campaign.operator_id))
    if now >= end:
        raise Conflict("L'échéance est passée : le dossier ne peut plus être complété ni soumis.")
    return campaign, end


@all_or_nothing
def check_added_proofs(
    *, session: Session, actor: StaffUser, campaign_id: int, now: datetime | None = None
) -> int:
    """« Vérifier les preuves »: record the proofs completed since the opening; how many."""
    now = now or utcnow()
    campaign, _ = _open_campaign(session, actor, campaign_id, now)
    return _record_added_proofs(session, campaign, now)


@all_or_nothing
def submit_campaign(
    *, session: Session, actor: StaffUser, campaign_id: int, now: datetime | None = None
) -> ControlCampaign:
    """« Soumettre le dossier »: record the last proofs added, freeze the campaign and queue its
    pack once more, for the worker to build it with the full history."""
    now = now or utcnow()
    campaign, _ = _open_campaign(session, actor, campaign_id, now)
    _record_added_proofs(session, campaign, now)
    status = sample_proofs(session, campaign)
    complete = sum(proofs.complete for proofs in status.values())
    campaign.phase, campaign.submitted_at, campaign.submitted_by_id = (
        CampaignPhase.SUBMITTED.value,
        now,
        actor.id,
    )
    queue_pack(campaign)
    session.add(campaign)
    record_event(
        session,
        campaign,
        CampaignEventKind.SUBMITTED,
        at=now,
        author_id=actor.id,
        detail=f"{complete} unité(s) sur {len(status)} aux preuves complètes",
    )
    return campaign


def operator_history(
    *, session: Session, actor: StaffUser, campaign_id: int
) -> tuple[ControlCampaign, list[HistoryLine], str]:
    """An official campaign's history for its CSV, with the operator's time zone."""
    campaign = get_campaign(session=session, actor=actor, campaign_id=campaign_id)
    if not campaign.official:
        raise NotFound()
    time_zone = time_zone_of(session=session, operator_id=campaign.operator_id)
    return campaign, campaign_history(session, campaign.id), time_zone


@dataclass
class Submittable:
    campaign: ControlCampaign
    time_zone: str
    days_left: int


def submittable_campaign(*, session: Session, actor: StaffUser, campaign_id: int) -> Submittable:
    """The campaign about to be submitted: still open and before its deadline (409 otherwise)."""
    campaign, _ = _open_campaign(session, actor, campaign_id, utcnow())
    time_zone = time_zone_of(session=session, operator_id=campaign.operator_id)
    return Submittable(campaign, time_zone, days_left(campaign, time_zone))


@dataclass
class SampledUnit:
    """One unit of the operator's sample as its API lists it: where it came in the draw, its
    case and its proofs now."""

    position: int
    episode: Episode
    case_reference: str
    unit_code: str
    proofs: EpisodeProofs


def sample_with_proofs(
    *, session: Session, actor: StaffUser, campaign_id: int, offset: int, limit: int
) -> list[SampledUnit]:
    """A page of the operator's sample in draw order, each unit with its proofs now."""
    campaign = get_campaign(session=session, actor=actor, campaign_id=campaign_id)
    units = sampled_units(session, campaign, offset=offset, limit=limit)
    proofs = proof_status_for_episodes(
        session=session,
        operator_id=campaign.operator_id,
        episodes=[episode for episode, _, _ in units],
    )
    return [
        SampledUnit(offset + index, episode, case.reference, code, proofs[episode.id])
        for index, (episode, case, code) in enumerate(units, start=1)
    ]


def sampled_unit(session: Session, campaign: ControlCampaign, episode_id: int) -> SampledUnit:
    """One unit of the campaign's sample, with its place in the draw, its case and its proofs
    now: what the controller judges it on (404 for a unit not drawn)."""
    statement = (
        select(ControlSampleUnit.position, Episode, Case.reference, ServiceUnit.code)
        .join(Episode, col(Episode.id) == ControlSampleUnit.episode_id)
        .join(Case, col(Case.id) == Episode.case_id)
        .join(ServiceUnit, col(ServiceUnit.id) == Episode.unit_id)
        .where(
            ControlSampleUnit.campaign_id == campaign.id,
            ControlSampleUnit.episode_id == episode_id,
        )
    )
    row = session.exec(statement).first()
    if row is None:
        raise NotFound()
    position, episode, reference, code = row
    proofs = proof_status_for_episodes(
        session=session, operator_id=campaign.operator_id, episodes=[episode]
    )
    return SampledUnit(position, episode, reference, code, proofs[episode.id])
