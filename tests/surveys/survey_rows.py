"""Survey invitations and their answers written straight into the tables, as the sending and
the answering would leave them: for the results' tests, which count them."""

from datetime import UTC, datetime

from sqlmodel import Session

from app.models.staff import StaffUser
from app.models.surveys import SurveyInvitation, SurveyKind, SurveyResponse, SurveyStatus
from app.services.surveys.questionnaires import current_questionnaire
from tests.factories import make_case, make_episode


def invite(
    session: Session,
    counsellor: StaffUser,
    *,
    sent_at: datetime | None,
    level: int = 1,
    utility: bool = False,
    site=None,
    positive: bool | None = None,
    answered_at: datetime | None = None,
    comment: str = "",
    status: SurveyStatus | None = None,
    beneficiary=None,
) -> SurveyInvitation:
    """An invitation about a new case's episode; answered when `positive` is given (satisfied,
    or useful for the utility survey) or `answered_at`, then at `answered_at` or its sending."""
    case = make_case(session, counsellor, beneficiary)
    episode = make_episode(session, counsellor, case, "UO1" if level == 1 else "UO2.1")
    kind = SurveyKind.UTILITY if utility else SurveyKind.end_of_level(level)
    answered = positive is not None or answered_at is not None
    if status is None:
        status = (
            SurveyStatus.ANSWERED
            if answered
            else SurveyStatus.SENT
            if sent_at is not None
            else SurveyStatus.SCHEDULED
        )
    questionnaire = current_questionnaire(
        session=session, operator_id=counsellor.operator_id, kind=kind
    )
    invitation = SurveyInvitation(
        operator_id=counsellor.operator_id,
        case_id=case.id,
        beneficiary_id=case.beneficiary_id,
        episode_id=episode.id,
        kind=kind,
        level=level,
        site_id=site.id if site is not None else None,
        counsellor_id=counsellor.id,
        status=status,
        due_at=sent_at or datetime(2030, 1, 1, tzinfo=UTC),
        channel="email" if sent_at else "",
        questionnaire_id=questionnaire.id if sent_at else None,
        sent_at=sent_at,
        answered_at=(answered_at or sent_at) if answered else None,
        positive=positive if answered else None,
    )
    session.add(invitation)
    session.flush()
    if answered:
        session.add(
            SurveyResponse(
                operator_id=counsellor.operator_id,
                invitation_id=invitation.id,
                questionnaire_id=questionnaire.id,
                answers={"commentaire": comment} if comment else {},
                comment=comment,
                satisfied=None if utility else positive,
                useful=positive if utility else None,
                started_at=answered_at or sent_at,
                updated_at=answered_at or sent_at,
                submitted_at=answered_at or sent_at,
            )
        )
        session.flush()
    return invitation
