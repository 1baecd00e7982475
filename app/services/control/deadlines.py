"""An official campaign's deadline: the last day, in the operator's time zone, on which the
operator may add proofs and submit its pack. The controller chooses it at opening."""

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from app.core.dates import local_today, to_local
from app.core.errors import Invalid
from app.models.control import ControlCampaign

# Where France compétences works from: its « today » decides what « tomorrow » is.
CONTROLLER_TIME_ZONE = "Europe/Paris"
DEFAULT_DAYS = 30


def official_deadline(requested: date | None, opened_at: datetime) -> date:
    """The deadline asked for, at least the day after the opening; 30 days after it if none."""
    opening_day = to_local(opened_at, CONTROLLER_TIME_ZONE).date()
    if requested is None:
        return opening_day + timedelta(days=DEFAULT_DAYS)
    if requested <= opening_day:
        raise Invalid({"echeance": "L'échéance est au plus tôt demain"})
    return requested


def deadline_end(campaign: ControlCampaign, time_zone: str) -> datetime:
    """The instant the deadline day ends where the operator works (midnight after it)."""
    assert campaign.deadline is not None
    return datetime.combine(campaign.deadline + timedelta(days=1), time(), ZoneInfo(time_zone))


def days_left(campaign: ControlCampaign, time_zone: str, *, now: datetime | None = None) -> int:
    """Days from the operator's today to the deadline: 0 on the day itself, negative past it."""
    assert campaign.deadline is not None
    return (campaign.deadline - local_today(time_zone, now=now)).days


def past_deadline(campaign: ControlCampaign, time_zone: str, now: datetime) -> bool:
    return now >= deadline_end(campaign, time_zone)
