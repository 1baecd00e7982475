"""What the case page shows of the surveys: which were scheduled, sent, reminded and answered
or not, and whether the person may be asked at all — never the answers, which serve the
quality of the service, not the judgement of one person's case (counsellors and managers see
the same)."""

from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session, col, select

from app.models.beneficiaries import Beneficiary
from app.models.cases import Case, Episode
from app.models.catalogue import ServiceUnit
from app.models.surveys import SurveyInvitation as Invitation
from app.models.surveys import SurveyKind, SurveyStatus
from app.services.messaging.sms import may_get_sms


@dataclass(frozen=True)
class CaseSurvey:
    """One invitation as the case shows it: its dates and state, nothing of what was said."""

    kind: SurveyKind
    unit_code: str
    status: SurveyStatus
    due_at: datetime
    sent_at: datetime | None
    reminded_at: datetime | None
    answered_at: datetime | None

    @property
    def answered(self) -> bool:
        return self.status == SurveyStatus.ANSWERED


@dataclass(frozen=True)
class CaseSurveys:
    surveys: list[CaseSurvey]
    may_be_surveyed: bool
    # An e-mail address, or a mobile number that did not answer STOP.
    reachable: bool
    opted_out_at: datetime | None


def case_surveys(*, session: Session, case: Case, beneficiary: Beneficiary) -> CaseSurveys:
    """The case's surveys, oldest first, read column by column (the answers are never loaded)."""
    rows = session.exec(
        select(
            Invitation.kind,
            ServiceUnit.code,
            Invitation.status,
            Invitation.due_at,
            Invitation.sent_at,
            Invitation.reminded_at,
            Invitation.answered_at,
        )
        .join(Episode, col(Episode.id) == Invitation.episode_id)
        .join(ServiceUnit, col(ServiceUnit.id) == Episode.unit_id)
        .where(Invitation.case_id == case.id)
        .order_by(col(Invitation.created_at), col(Invitation.id))
    ).all()
    return CaseSurveys(
        surveys=[
            CaseSurvey(SurveyKind(kind), code, SurveyStatus(status), due, sent, reminded, answered)
            for kind, code, status, due, sent, reminded, answered in rows
        ],
        may_be_surveyed=beneficiary.may_be_surveyed,
        reachable=bool(beneficiary.email) or may_get_sms(beneficiary),
        opted_out_at=None if beneficiary.may_be_surveyed else beneficiary.survey_opt_out_at,
    )
