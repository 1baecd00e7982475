"""France compétences' side of control: the campaigns a controller opened, and the opening form.

A controller belongs to no operator. It reads the campaigns opened within its control team and
nothing else (app/services/control/teams.py): another team's campaign, a self-check or a missing
id are all « not found ». Personal data reaches it only inside those campaigns' proof packs."""

from dataclasses import dataclass
from datetime import date

from sqlmodel import Session, col, select

from app.core.dates import local_today
from app.core.errors import Conflict, NotFound
from app.models.base import utcnow
from app.models.bounds import MAX_ROW_ID
from app.models.control import ControlCampaign, OfficialCampaignCreate, PackStatus
from app.models.operators import Operator
from app.models.staff import StaffUser
from app.services.access.scope import owned_by
from app.services.control.campaigns import (
    RECENT_CAMPAIGNS,
    create_campaign,
    drawn_ids,
    require_controller,
    seed_basis_of,
)
from app.services.control.deadlines import CONTROLLER_TIME_ZONE, days_left, official_deadline
from app.services.control.history import HistoryLine, campaign_history
from app.services.control.teams import readable_by_controller
from app.services.reports.ledger import previous_month


def open_official_campaign(
    *, session: Session, actor: StaffUser, request: OfficialCampaignCreate
) -> ControlCampaign:
    """Open an official campaign: the sample is drawn now, with the seed the README describes."""
    return create_campaign(session=session, actor=actor, request=request)


def controller_campaign(*, session: Session, actor: StaffUser, campaign_id: int) -> ControlCampaign:
    """One official campaign opened within the controller's team; anything else is 404."""
    require_controller(actor)
    query = select(ControlCampaign).where(
        ControlCampaign.id == campaign_id, readable_by_controller(actor)
    )
    campaign = session.exec(query).first() if campaign_id <= MAX_ROW_ID else None
    if campaign is None:
        raise NotFound()
    return campaign


def controller_pack(*, session: Session, actor: StaffUser, campaign_id: int) -> ControlCampaign:
    """The controller's campaign whose pack may be downloaded; 409 while it is being built,
    and once the campaign is closed: the pack holds personal data, which a controller may read
    for the time of the control only (the findings stay on its page)."""
    campaign = controller_campaign(session=session, actor=actor, campaign_id=campaign_id)
    if campaign.closed:
        raise Conflict(
            "Le contrôle est clos : son dossier de preuves, qui contient des données "
            "personnelles, n'est plus accessible au contrôle."
        )
    if campaign.status != PackStatus.READY or not campaign.pack_key:
        raise Conflict("Le dossier de preuves n'est pas encore prêt.")
    return campaign


@dataclass
class OfficialCampaigns:
    """The controller's page: its campaigns with their operators, and the operators to open a
    campaign on."""

    campaigns: list[tuple[ControlCampaign, Operator]]
    operators: list[Operator]
    last_month: tuple[date, date]
    default_deadline: date  # 30 days after today


def controller_campaigns(
    *, session: Session, actor: StaffUser, offset: int = 0, limit: int = RECENT_CAMPAIGNS
) -> list[tuple[ControlCampaign, Operator]]:
    """The official campaigns the controller opened, latest first, with their operators."""
    require_controller(actor)
    statement = (
        select(ControlCampaign, Operator)
        .join(Operator, owned_by(ControlCampaign, Operator.id))
        .where(readable_by_controller(actor))
        .order_by(col(ControlCampaign.id).desc())
        .offset(offset)
        .limit(limit)
    )
    return [(campaign, operator) for campaign, operator in session.exec(statement)]


def official_campaigns(*, session: Session, actor: StaffUser) -> OfficialCampaigns:
    campaigns = controller_campaigns(session=session, actor=actor)
    operators = session.exec(select(Operator).order_by(Operator.name))
    return OfficialCampaigns(
        campaigns=campaigns,
        operators=list(operators),
        last_month=previous_month(local_today(CONTROLLER_TIME_ZONE)),
        default_deadline=official_deadline(None, utcnow()),
    )


@dataclass
class OfficialCampaignView:
    campaign: ControlCampaign
    operator: Operator
    drawn_ids: list[int]  # in the order of the draw
    seed_basis: str  # what the seed was derived from (README)
    history: list[HistoryLine]
    days_left: int  # to the deadline, as the operator counts days


def official_campaign_view(
    *, session: Session, actor: StaffUser, campaign_id: int
) -> OfficialCampaignView:
    campaign = controller_campaign(session=session, actor=actor, campaign_id=campaign_id)
    operator = session.get(Operator, campaign.operator_id)
    return OfficialCampaignView(
        campaign,
        operator,
        drawn_ids(session, campaign.id),
        seed_basis_of(campaign) or "",
        campaign_history(session, campaign.id),
        days_left(campaign, operator.time_zone),
    )


def controller_history(
    *, session: Session, actor: StaffUser, campaign_id: int
) -> tuple[ControlCampaign, list[HistoryLine], str]:
    """The campaign's history for its CSV, with the operator's time zone."""
    campaign = controller_campaign(session=session, actor=actor, campaign_id=campaign_id)
    time_zone = session.get(Operator, campaign.operator_id).time_zone
    return campaign, campaign_history(session, campaign.id), time_zone
