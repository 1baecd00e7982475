"""A campaign as either party reads it through the API: the controller who opened it, or the
operator it was opened on (its managers and administrators). Each read goes to that party's own
service, so that the API and the pages refuse and find exactly the same rows: another
controller's campaign, another operator's, or one of the wrong kind are all « not found »."""

from sqlmodel import Session

from app.core.errors import NotFound
from app.models.control import CampaignKind, ControlCampaign, ControlFinding
from app.models.nomenclatures import Role
from app.models.staff import StaffUser
from app.services.control import official, submission
from app.services.control.campaigns import (
    drawn_ids,
    get_campaign,
    operator_campaigns,
    ready_pack,
)
from app.services.control.history import HistoryLine
from app.services.control.review import ReviewSummary, findings_of, review_summary


def _controls(actor: StaffUser) -> bool:
    return actor.role == Role.CONTROLLER


def campaigns_for(
    *, session: Session, actor: StaffUser, kind: CampaignKind | None, offset: int, limit: int
) -> list[ControlCampaign]:
    """The controller's official campaigns, or those on the operator (of one kind, or both)."""
    if _controls(actor):
        if kind == CampaignKind.SELF_CHECK:
            return []  # a controller never sees an operator's self-checks
        pairs = official.controller_campaigns(
            session=session, actor=actor, offset=offset, limit=limit
        )
        return [campaign for campaign, _ in pairs]
    return operator_campaigns(session=session, actor=actor, kind=kind, offset=offset, limit=limit)


def campaign_for(*, session: Session, actor: StaffUser, campaign_id: int) -> ControlCampaign:
    if _controls(actor):
        return official.controller_campaign(session=session, actor=actor, campaign_id=campaign_id)
    return get_campaign(session=session, actor=actor, campaign_id=campaign_id)


def history_for(*, session: Session, actor: StaffUser, campaign_id: int) -> list[HistoryLine]:
    """An official campaign's history (a self-check has none: 404)."""
    read = official.controller_history if _controls(actor) else submission.operator_history
    _, lines, _ = read(session=session, actor=actor, campaign_id=campaign_id)
    return lines


def pack_for(*, session: Session, actor: StaffUser, campaign_id: int) -> ControlCampaign:
    """The campaign whose proof pack is ready to download (409 while it is being built)."""
    if _controls(actor):
        return official.controller_pack(session=session, actor=actor, campaign_id=campaign_id)
    return ready_pack(session=session, actor=actor, campaign_id=campaign_id)


def official_for(*, session: Session, actor: StaffUser, campaign_id: int) -> ControlCampaign:
    """An official campaign as either party reads it: a self-check is never reviewed (404)."""
    campaign = campaign_for(session=session, actor=actor, campaign_id=campaign_id)
    if not campaign.official:
        raise NotFound()
    return campaign


def findings_for(*, session: Session, actor: StaffUser, campaign_id: int) -> list[ControlFinding]:
    """The campaign's findings so far, in the order of the draw."""
    campaign = official_for(session=session, actor=actor, campaign_id=campaign_id)
    found = findings_of(session, campaign.id)
    return [found[unit] for unit in drawn_ids(session, campaign.id) if unit in found]


def summary_for(*, session: Session, actor: StaffUser, campaign_id: int) -> ReviewSummary:
    campaign = official_for(session=session, actor=actor, campaign_id=campaign_id)
    return review_summary(session, campaign)
