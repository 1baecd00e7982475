"""What the personal space shows, for the one person its link is bound to and within that
link's operator: appointments, documents shared, referrals, surveys to answer, consents and
the rights requests the person made there."""

from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session, col, select

from app.models.appointments import Appointment, AppointmentStatus
from app.models.base import utcnow
from app.models.beneficiaries import Beneficiary
from app.models.cases import Case
from app.models.consents import ConsentPurpose
from app.models.deliverables import Deliverable, DeliverableVersion
from app.models.operators import Operator
from app.models.partners import Partner, Referral, ReferralStatus
from app.models.rights import OPEN_STATUSES, RightsRequest
from app.models.surveys import SurveyInvitation, SurveyStatus
from app.services.access.scope import owned_by
from app.services.booking.details import AppointmentDetails, appointment_details, manage_link
from app.services.personal_space.links import OpenSpace
from app.services.privacy.consents import may_contact
from app.services.surveys.links import answer_link, link_expires_at

PAST_SHOWN = 20
# The choices the person makes themselves: being written to, and being asked their opinion.
SPACE_PURPOSES = (ConsentPurpose.EMAIL, ConsentPurpose.SMS, ConsentPurpose.SURVEYS)


@dataclass
class SpaceAppointment:
    details: AppointmentDetails
    manage_url: str  # empty for past or cancelled ones


@dataclass
class SpaceDocument:
    version: DeliverableVersion
    title: str


@dataclass
class SpaceReferral:
    partner_name: str
    status_label: str
    sent_at: datetime | None
    created_at: datetime


@dataclass
class SpaceSurvey:
    url: str
    expires_at: datetime


@dataclass
class SpaceConsent:
    purpose: ConsentPurpose
    given: bool


@dataclass
class SpaceView:
    person: Beneficiary
    operator: Operator
    time_zone: str
    link_expires_at: datetime
    upcoming: list[SpaceAppointment]
    past: list[SpaceAppointment]
    documents: list[SpaceDocument]
    referrals: list[SpaceReferral]
    surveys: list[SpaceSurvey]
    consents: list[SpaceConsent]
    open_requests: list[RightsRequest]


def space_view(*, session: Session, space: OpenSpace, now: datetime | None = None) -> SpaceView:
    now = now or utcnow()
    person, operator_id = space.person, space.link.operator_id
    operator = session.get(Operator, operator_id)
    upcoming, past = _appointments(session, person, operator_id, now)
    return SpaceView(
        person=person,
        operator=operator,
        time_zone=operator.time_zone,
        link_expires_at=space.link.expires_at,
        upcoming=upcoming,
        past=past,
        documents=shared_documents(session=session, space=space),
        referrals=_referrals(session, person, operator_id),
        surveys=_surveys(session, person, operator_id, now),
        consents=consents_of(session=session, person=person),
        open_requests=open_requests(session=session, space=space),
    )


def _appointments(session: Session, person: Beneficiary, operator_id: int, now: datetime):
    query = select(Appointment).where(
        owned_by(Appointment, operator_id),
        col(Appointment.beneficiary_id) == person.id,
        # A slot held for the waiting list is not theirs until they accept it (by its link).
        Appointment.status != AppointmentStatus.OFFERED,
    )
    upcoming, past = [], []
    for appointment in session.exec(query.order_by(col(Appointment.starts_at))):
        details = appointment_details(session=session, appointment=appointment)
        if appointment.status == AppointmentStatus.BOOKED and appointment.ends_at > now:
            upcoming.append(SpaceAppointment(details, manage_link(appointment)))
        else:
            past.append(SpaceAppointment(details, ""))
    return upcoming, list(reversed(past))[:PAST_SHOWN]


def shared_documents(*, session: Session, space: OpenSpace) -> list[SpaceDocument]:
    """The versions e-mailed to the person whose link the counsellor has not withdrawn."""
    query = (
        select(DeliverableVersion, Deliverable.title)
        .join(Deliverable, col(Deliverable.id) == DeliverableVersion.deliverable_id)
        .join(Case, col(Case.id) == Deliverable.case_id)
        .where(
            owned_by(DeliverableVersion, space.link.operator_id),
            col(Case.beneficiary_id) == space.person.id,
            col(DeliverableVersion.shared_at).is_not(None),
        )
        .order_by(col(DeliverableVersion.shared_at).desc())
    )
    return [
        SpaceDocument(version, title)
        for version, title in session.exec(query)
        if version.link_is_live and version.file_deleted_at is None
    ]


def _referrals(session: Session, person: Beneficiary, operator_id: int) -> list[SpaceReferral]:
    query = (
        select(Referral, Partner.name)
        .join(Case, col(Case.id) == Referral.case_id)
        .join(Partner, col(Partner.id) == Referral.partner_id)
        .where(owned_by(Referral, operator_id), col(Case.beneficiary_id) == person.id)
        .order_by(col(Referral.created_at).desc())
    )
    return [
        SpaceReferral(name, ReferralStatus(r.status).label, r.sent_at, r.created_at)
        for r, name in session.exec(query)
    ]


def _surveys(
    session: Session, person: Beneficiary, operator_id: int, now: datetime
) -> list[SpaceSurvey]:
    query = select(SurveyInvitation).where(
        owned_by(SurveyInvitation, operator_id),
        col(SurveyInvitation.beneficiary_id) == person.id,
        col(SurveyInvitation.status) == SurveyStatus.SENT.value,
        col(SurveyInvitation.link_nonce).is_not(None),
        col(SurveyInvitation.sent_at).is_not(None),
    )
    open_ones = [i for i in session.exec(query) if link_expires_at(i) > now]
    return [SpaceSurvey(answer_link(i, now), link_expires_at(i)) for i in open_ones]


def consents_of(*, session: Session, person: Beneficiary) -> list[SpaceConsent]:
    """Where each choice stands: being written to holds until withdrawn; surveys need a yes."""
    return [
        SpaceConsent(
            purpose,
            person.may_be_surveyed
            if purpose == ConsentPurpose.SURVEYS
            else may_contact(session=session, person=person, purpose=purpose),
        )
        for purpose in SPACE_PURPOSES
    ]


def open_requests(*, session: Session, space: OpenSpace) -> list[RightsRequest]:
    """The person's rights requests not answered yet."""
    query = select(RightsRequest).where(
        owned_by(RightsRequest, space.link.operator_id),
        col(RightsRequest.beneficiary_id) == space.person.id,
        col(RightsRequest.status).in_([status.value for status in OPEN_STATUSES]),
    )
    return list(session.exec(query.order_by(RightsRequest.id)))
