"""The controller's review of an official campaign: a verdict on each sampled unit, the
operator's one answer to a non-conform finding (« contradictoire »), then the closing, after
which nothing changes. Each step is also an event of the history.

Every write takes the campaign's row lock first, as the submission does, so that a verdict, an
answer and the closing never cross: an answer and a revision of the same verdict cannot both
win, and no verdict lands after the closing."""

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from sqlmodel import Session, col, select

from app.core.db import all_or_nothing
from app.core.errors import Conflict, NotFound
from app.models.base import utcnow
from app.models.cases import Case, Episode
from app.models.control import (
    CampaignEventKind,
    CampaignPhase,
    ControlCampaign,
    ControlFinding,
    ControlSampleUnit,
    FindingAnswer,
    UnitReview,
    Verdict,
)
from app.models.staff import StaffUser
from app.services.access.scope import owned_by
from app.services.admin.operators import time_zone_of
from app.services.control.campaigns import get_campaign, queue_pack
from app.services.control.deadlines import deadline_end
from app.services.control.history import record_event
from app.services.control.official import controller_campaign
from app.services.control.submission import SampledUnit, sampled_unit
from app.services.reports.ledger import ZERO, ledger_operator, unit_prices

AWAITING_SHOWN = 50  # findings to answer listed on the operator's campaigns page
CLOSED = "Le contrôle est clos : plus rien n'y change."


def _locked(session: Session, campaign: ControlCampaign) -> ControlCampaign:
    """The campaign read again under its row lock (SQLite runs one write at a time anyway)."""
    return session.get(ControlCampaign, campaign.id, with_for_update=True, populate_existing=True)


def reviewable(session: Session, campaign: ControlCampaign, now: datetime) -> bool:
    """Open to review: submitted, or its deadline passed without a submission; not closed."""
    if campaign.closed:
        return False
    if campaign.submitted:
        return True
    zone = time_zone_of(session=session, operator_id=campaign.operator_id)
    return now >= deadline_end(campaign, zone)


def _review_campaign(
    session: Session, actor: StaffUser, campaign_id: int, now: datetime
) -> ControlCampaign:
    """The controller's campaign, locked, open to review (409 otherwise)."""
    campaign = _locked(
        session, controller_campaign(session=session, actor=actor, campaign_id=campaign_id)
    )
    if campaign.closed:
        raise Conflict(CLOSED)
    if not reviewable(session, campaign, now):
        raise Conflict(
            "L'opérateur n'a pas encore soumis son dossier et l'échéance n'est pas passée."
        )
    return campaign


def _sampled(session: Session, campaign: ControlCampaign, episode_id: int) -> None:
    """404 for a unit that is not in the campaign's sample."""
    found = session.exec(
        select(ControlSampleUnit.id).where(
            ControlSampleUnit.campaign_id == campaign.id,
            ControlSampleUnit.episode_id == episode_id,
        )
    ).first()
    if found is None:
        raise NotFound()


def finding_of(session: Session, campaign_id: int, episode_id: int) -> ControlFinding | None:
    return session.exec(
        select(ControlFinding).where(
            ControlFinding.campaign_id == campaign_id, ControlFinding.episode_id == episode_id
        )
    ).first()


def _verdict_detail(finding: ControlFinding) -> str:
    said = finding.verdict_label
    if not finding.conform:
        said += f" : {finding.reason_label}"
    return f"{said} — {finding.comment}" if finding.comment else said


@all_or_nothing
def review_unit(
    *,
    session: Session,
    actor: StaffUser,
    campaign_id: int,
    episode_id: int,
    review: UnitReview,
    now: datetime | None = None,
) -> ControlFinding:
    """Record the controller's verdict on a sampled unit, or revise it until the operator has
    answered it; its amount is the unit's price as the ledger counts it."""
    now = now or utcnow()
    campaign = _review_campaign(session, actor, campaign_id, now)
    _sampled(session, campaign, episode_id)
    finding = finding_of(session, campaign.id, episode_id)
    if finding is not None and finding.answer is not None:
        raise Conflict("L'opérateur a répondu à ce constat : il ne peut plus être révisé.")
    if finding is None:
        finding = ControlFinding(campaign_id=campaign.id, episode_id=episode_id)
    finding.verdict = review.verdict.value
    finding.reason = review.reason.value if review.reason else None
    finding.reason_text, finding.comment = review.reason_text, review.comment
    finding.amount = unit_prices(session, [episode_id]).get(episode_id)
    finding.reviewed_at, finding.reviewed_by_id = now, actor.id
    session.add(finding)
    session.flush()
    record_event(
        session,
        campaign,
        CampaignEventKind.REVIEWED,
        at=now,
        author_id=actor.id,
        episode_id=episode_id,
        detail=_verdict_detail(finding),
    )
    return finding


@all_or_nothing
def answer_finding(
    *,
    session: Session,
    actor: StaffUser,
    campaign_id: int,
    episode_id: int,
    answer: FindingAnswer,
    now: datetime | None = None,
) -> ControlFinding:
    """The operator's one answer to a non-conform finding, while the campaign is not closed."""
    now = now or utcnow()
    campaign = get_campaign(session=session, actor=actor, campaign_id=campaign_id)
    if not campaign.official:
        raise NotFound()
    campaign = _locked(session, campaign)
    if campaign.closed:
        raise Conflict(CLOSED)
    finding = finding_of(session, campaign.id, episode_id)
    if finding is None or finding.conform:
        raise Conflict("Seul un constat de non-conformité appelle une réponse.")
    if finding.answer is not None:
        raise Conflict("Ce constat a déjà reçu sa réponse : elle ne se donne qu'une fois.")
    finding.answer, finding.answered_at, finding.answered_by_id = answer.answer, now, actor.id
    session.add(finding)
    session.flush()
    record_event(
        session,
        campaign,
        CampaignEventKind.ANSWERED,
        at=now,
        author_id=actor.id,
        episode_id=episode_id,
        detail=answer.answer,
    )
    return finding


def closable_campaign(*, session: Session, actor: StaffUser, campaign_id: int) -> "ReviewSummary":
    """The campaign about to be closed, with its summary (409 if a unit is still unreviewed)."""
    campaign = controller_campaign(session=session, actor=actor, campaign_id=campaign_id)
    return _closable(session, campaign, utcnow())


def _closable(session: Session, campaign: ControlCampaign, now: datetime) -> "ReviewSummary":
    if campaign.closed:
        raise Conflict(CLOSED)
    if not reviewable(session, campaign, now):
        raise Conflict(
            "L'opérateur n'a pas encore soumis son dossier et l'échéance n'est pas passée."
        )
    summary = review_summary(session, campaign)
    if summary.reviewed < summary.drawn:
        unreviewed = summary.drawn - summary.reviewed
        raise Conflict(f"{unreviewed} unité(s) tirée(s) restent à contrôler avant de clore.")
    return summary


@all_or_nothing
def close_campaign(
    *, session: Session, actor: StaffUser, campaign_id: int, now: datetime | None = None
) -> ControlCampaign:
    """Close the campaign once every drawn unit is reviewed: its non-conform units become
    réfactions in the ledger, and nothing changes after. Its pack is queued once more, for its
    manifest to carry the verdicts and the whole history."""
    now = now or utcnow()
    campaign = _locked(
        session, controller_campaign(session=session, actor=actor, campaign_id=campaign_id)
    )
    summary = _closable(session, campaign, now)
    campaign.phase, campaign.closed_at, campaign.closed_by_id = (
        CampaignPhase.CLOSED.value,
        now,
        actor.id,
    )
    queue_pack(campaign)
    session.add(campaign)
    record_event(
        session,
        campaign,
        CampaignEventKind.CLOSED,
        at=now,
        author_id=actor.id,
        detail=f"{summary.conform} conforme(s), {summary.non_conform} non conforme(s) "
        f"sur {summary.drawn} unité(s)",
    )
    return campaign


@dataclass
class ReviewSummary:
    """Where the review stands: units reviewed of those drawn, how many conform, and the
    amounts at the market's prices (the ledger's), unpriced units counted apart."""

    campaign: ControlCampaign
    drawn: int
    reviewed: int
    conform: int
    non_conform: int
    non_conform_amount: Decimal
    sample_amount: Decimal
    unpriced: int  # drawn units with no price in their lot

    @property
    def conformity_rate(self) -> float | None:
        """Conform units over the reviewed ones, 0..1 (None before any review)."""
        return self.conform / self.reviewed if self.reviewed else None


def review_summary(session: Session, campaign: ControlCampaign) -> ReviewSummary:
    drawn = list(
        session.exec(
            select(ControlSampleUnit.episode_id).where(ControlSampleUnit.campaign_id == campaign.id)
        )
    )
    prices = unit_prices(session, drawn)
    findings = findings_of(session, campaign.id)
    non_conform = [finding for finding in findings.values() if not finding.conform]
    return ReviewSummary(
        campaign=campaign,
        drawn=len(drawn),
        reviewed=len(findings),
        conform=len(findings) - len(non_conform),
        non_conform=len(non_conform),
        non_conform_amount=sum((f.amount or ZERO for f in non_conform), ZERO),
        sample_amount=sum((price or ZERO for price in prices.values()), ZERO),
        unpriced=sum(price is None for price in prices.values()),
    )


def findings_of(session: Session, campaign_id: int) -> dict[int, ControlFinding]:
    """The campaign's findings by episode id."""
    statement = select(ControlFinding).where(ControlFinding.campaign_id == campaign_id)
    return {finding.episode_id: finding for finding in session.exec(statement)}


def operator_finding(
    *, session: Session, actor: StaffUser, campaign_id: int, episode_id: int
) -> tuple[ControlCampaign, ControlFinding]:
    """A non-conform finding the operator may answer (404 for a unit the campaign has none on)."""
    campaign = get_campaign(session=session, actor=actor, campaign_id=campaign_id)
    finding = finding_of(session, campaign.id, episode_id) if campaign.official else None
    if finding is None:
        raise NotFound()
    return campaign, finding


def controller_unit(
    *, session: Session, actor: StaffUser, campaign_id: int, episode_id: int
) -> tuple[ControlCampaign, SampledUnit, ControlFinding | None]:
    """A sampled unit of the controller's campaign (its case, dates and proofs) and its
    finding, for the review form."""
    campaign = controller_campaign(session=session, actor=actor, campaign_id=campaign_id)
    unit = sampled_unit(session, campaign, episode_id)
    return campaign, unit, finding_of(session, campaign.id, episode_id)


def case_references(session: Session, episode_ids: list[int]) -> dict[int, str]:
    """Each unit's case reference: the operator knows its units by case, not by id."""
    statement = (
        select(Episode.id, Case.reference)
        .join(Case, col(Case.id) == Episode.case_id)
        .where(col(Episode.id).in_(episode_ids))
    )
    return dict(session.exec(statement).all())


def awaiting_answer(*, session: Session, actor: StaffUser) -> list[ControlFinding]:
    """The operator's non-conform findings still to answer, in campaigns not closed, oldest
    campaign first: what its campaigns page lists for it to answer."""
    operator = ledger_operator(session, actor)
    statement = (
        select(ControlFinding)
        .join(ControlCampaign, col(ControlCampaign.id) == ControlFinding.campaign_id)
        .where(
            owned_by(ControlCampaign, operator.id),
            ControlCampaign.phase != CampaignPhase.CLOSED.value,
            ControlFinding.verdict == Verdict.NON_CONFORM.value,
            col(ControlFinding.answer).is_(None),
        )
        .order_by(ControlFinding.campaign_id, ControlFinding.episode_id)
        .limit(AWAITING_SHOWN)
    )
    return list(session.exec(statement))
