"""A survey invitation's answer link: signed, single-use, and valid `survey_link_days` after
the invitation was first sent (its reminder's copy too)."""

from datetime import datetime, timedelta

from app.core.config import get_settings
from app.core.security import create_link_token
from app.models.base import utcnow
from app.models.surveys import SurveyInvitation as Invitation

ANSWER_PURPOSE = "survey"


def answer_link(invitation: Invitation, now: datetime | None = None) -> str:
    """The single-use answer link; it expires `survey_link_days` after the first sending, the
    reminder's copy too."""
    expires = link_expires_at(invitation)
    lifetime = max(expires - (now or utcnow()), timedelta(minutes=5))
    token = create_link_token(
        purpose=ANSWER_PURPOSE,
        subject_id=invitation.id,
        lifetime=lifetime,
        nonce=invitation.link_nonce,
    )
    return f"{_base_url()}/enquete/{token}"


def link_expires_at(invitation: Invitation) -> datetime:
    return invitation.sent_at + timedelta(days=get_settings().survey_link_days)


def _base_url() -> str:
    return get_settings().public_base_url.rstrip("/")
