"""Survey invitations written as rows, as the sending would leave them, with their links (the
answer pages' tests do not depend on how invitations are sent)."""

import secrets
from datetime import timedelta

from sqlmodel import Session

from app.core.security import create_link_token
from app.models.base import utcnow
from app.models.surveys import SurveyInvitation, SurveyKind, SurveyStatus
from app.services.surveys.answers import LINK_PURPOSE, OPT_OUT_PURPOSE
from app.services.surveys.questionnaires import current_questionnaire
from tests.factories import make_episode


def sent_invitation(
    session: Session,
    counsellor,
    case,
    *,
    kind: SurveyKind = SurveyKind.END_LEVEL_1,
    status: SurveyStatus = SurveyStatus.SENT,
    episode=None,
) -> SurveyInvitation:
    """An invitation about one of the case's episodes, sent now with the current version."""
    episode = episode or make_episode(session, counsellor, case)
    questionnaire = current_questionnaire(session=session, operator_id=case.operator_id, kind=kind)
    now = utcnow()
    invitation = SurveyInvitation(
        operator_id=case.operator_id,
        case_id=case.id,
        beneficiary_id=case.beneficiary_id,
        episode_id=episode.id,
        kind=kind,
        level=2 if kind == SurveyKind.END_LEVEL_2 else 1,
        status=status,
        due_at=now,
        channel="email",
        questionnaire_id=questionnaire.id,
        sent_at=now if status != SurveyStatus.SCHEDULED else None,
        link_nonce=secrets.token_urlsafe(24) if status == SurveyStatus.SENT else None,
    )
    session.add(invitation)
    session.flush()
    return invitation


def answer_path(invitation: SurveyInvitation, *, lifetime=timedelta(days=30), nonce=None) -> str:
    token = create_link_token(
        purpose=LINK_PURPOSE,
        subject_id=invitation.id,
        lifetime=lifetime,
        nonce=nonce or invitation.link_nonce,
    )
    return f"/enquete/{token}"


def opt_out_link(invitation: SurveyInvitation, *, lifetime=timedelta(days=365)) -> str:
    token = create_link_token(purpose=OPT_OUT_PURPOSE, subject_id=invitation.id, lifetime=lifetime)
    return f"/enquete/desinscription/{token}"
