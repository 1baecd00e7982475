"""Which official campaigns a controller reads: those opened by itself or by any controller of
its control team. The rule lives here only; every controller page, pack and download filters
through it, and anything else is « not found »."""

from sqlalchemy import ColumnElement, and_
from sqlmodel import col, select

from app.models.control import CampaignKind, ControlCampaign
from app.models.nomenclatures import Role
from app.models.staff import StaffUser


def readable_by_controller(actor: StaffUser) -> ColumnElement[bool]:
    """WHERE clause: official campaigns opened within the actor's control team. A teammate who
    left (deactivated) still counts, so that the team keeps the campaigns it opened."""
    team = select(StaffUser.id).where(
        StaffUser.role == Role.CONTROLLER.value, StaffUser.control_team == actor.control_team
    )
    return and_(
        ControlCampaign.kind == CampaignKind.OFFICIAL.value,
        col(ControlCampaign.created_by_id).in_(team),
    )
