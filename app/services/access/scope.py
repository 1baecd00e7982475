"""Tenant scope: which operator's rows an actor may read, written once for every table.

Every table holding an operator's rows is declared in `TENANT_PATHS` with the way from a row
to its operator: its own `operator_id` column, or the parent row that has one (`Through`).
Services never compare `operator_id` by hand (tests/access/test_scope.py checks it): they take
the where-clause `owned_by(Model, operator_id)`, the statement `readable(Model, actor)`, or one
row with `load_owned` (404 outside the scope) or `get_owned` (None, for a field's message).

Only operator staff read rows (`operator_of`). National observers read figures aggregated
across operators (app/services/reports/national.py counts with no tenant condition) and the
data feed's rows, which name no one (app/services/reports/feed.py), never a row itself; system administrators read the login alerts of every operator and nothing else
(app/services/access/login_limits.py) and manage the staff accounts of every operator
(app/services/admin/team.py).
"""

from dataclasses import dataclass
from typing import Any

from sqlalchemy import inspect
from sqlalchemy.orm import InstrumentedAttribute
from sqlmodel import Session, SQLModel, select

from app.core.errors import NotFound
from app.models.api_clients import ApiClient
from app.models.appointments import Absence, Appointment, AppointmentType, OpeningSlot
from app.models.attachments import Attachment
from app.models.audit import AuditEvent
from app.models.beneficiaries import Beneficiary
from app.models.bounds import MAX_ROW_ID
from app.models.cases import Case, Episode, Interaction
from app.models.catalogue import DeliverableKind, UnitProofRequirement
from app.models.consents import ConsentRecord
from app.models.control import (
    ControlCampaign,
    ControlCampaignEvent,
    ControlFinding,
    ControlSampleUnit,
)
from app.models.credentials import ApiKey, LoginStep, RecoveryCode, StaffTotp
from app.models.deliverable_archives import DeliverableArchive
from app.models.deliverables import ActionPlan, ActionStep, Deliverable, DeliverableVersion
from app.models.markets import Lot, LotPrice
from app.models.notifications import Notification, NotificationDigest
from app.models.operators import Operator, Permanence, PermanenceStaff, Site, SiteEvent
from app.models.outbox import OutboxMessage
from app.models.partners import Partner, Referral, ReferralEvent
from app.models.personal_space import PersonalSpaceLink
from app.models.rights import AccessArchive, RightsRequest
from app.models.short_links import ShortLink
from app.models.staff import (
    AccountLink,
    LoginAlert,
    StaffEvent,
    StaffSession,
    StaffSite,
    StaffUser,
)
from app.models.surveys import SurveyInvitation, SurveyQuestionnaire, SurveyResponse
from app.models.triage import TriageRequest
from app.models.uo4 import Uo4Action, Uo4Attendee, Uo4Event
from app.models.waiting_list import WaitingListEntry, WaitingListOffer


@dataclass(frozen=True)
class Through:
    """A row whose operator is its parent's: `column` holds the id of a row of `parent`."""

    column: InstrumentedAttribute
    parent: type[SQLModel]


# Each tenant-owned table and the path from one of its rows to its operator. A new table that
# belongs to an operator must be declared here: tests/access/test_scope.py fails until it is.
# Rows copy their case's operator into a column of their own (episodes, deliverables...), so
# that a scope needs no join; a row without one is reached through its parent.
TENANT_PATHS: dict[type[SQLModel], InstrumentedAttribute | Through] = {
    Operator: Operator.id,  # the tenant itself
    Site: Site.operator_id,
    SiteEvent: SiteEvent.operator_id,
    Permanence: Permanence.operator_id,
    PermanenceStaff: Through(PermanenceStaff.permanence_id, Permanence),
    StaffUser: StaffUser.operator_id,  # empty for observers and sysadmins: nobody's colleague
    StaffSite: Through(StaffSite.staff_id, StaffUser),
    StaffSession: Through(StaffSession.staff_id, StaffUser),
    AccountLink: Through(AccountLink.staff_id, StaffUser),
    StaffTotp: Through(StaffTotp.staff_id, StaffUser),
    RecoveryCode: Through(RecoveryCode.staff_id, StaffUser),
    ApiKey: Through(ApiKey.staff_id, StaffUser),
    ApiClient: ApiClient.operator_id,
    LoginStep: Through(LoginStep.staff_id, StaffUser),
    StaffEvent: StaffEvent.operator_id,  # empty for accounts of no operator
    LoginAlert: LoginAlert.operator_id,  # empty for a burst from one address (no account)
    AuditEvent: AuditEvent.operator_id,  # empty for a refused login and national accounts
    Beneficiary: Beneficiary.operator_id,
    TriageRequest: TriageRequest.operator_id,
    Case: Case.operator_id,
    Episode: Episode.operator_id,
    Interaction: Interaction.operator_id,
    DeliverableKind: DeliverableKind.operator_id,
    UnitProofRequirement: UnitProofRequirement.operator_id,
    Deliverable: Deliverable.operator_id,
    DeliverableVersion: DeliverableVersion.operator_id,
    ActionPlan: ActionPlan.operator_id,
    ActionStep: ActionStep.operator_id,
    Attachment: Attachment.operator_id,
    Partner: Partner.operator_id,
    Referral: Referral.operator_id,
    ReferralEvent: ReferralEvent.operator_id,
    ConsentRecord: ConsentRecord.operator_id,
    AppointmentType: AppointmentType.operator_id,
    OpeningSlot: OpeningSlot.operator_id,
    Absence: Absence.operator_id,
    Appointment: Appointment.operator_id,
    WaitingListEntry: WaitingListEntry.operator_id,
    WaitingListOffer: WaitingListOffer.operator_id,
    Notification: Notification.operator_id,
    NotificationDigest: NotificationDigest.operator_id,
    OutboxMessage: OutboxMessage.operator_id,  # empty for a message about no operator's data
    ShortLink: ShortLink.operator_id,  # read by nobody's staff: resolved by its code alone
    PersonalSpaceLink: PersonalSpaceLink.operator_id,  # opened by its token alone
    ControlCampaign: ControlCampaign.operator_id,
    ControlSampleUnit: Through(ControlSampleUnit.campaign_id, ControlCampaign),
    ControlCampaignEvent: Through(ControlCampaignEvent.campaign_id, ControlCampaign),
    ControlFinding: Through(ControlFinding.campaign_id, ControlCampaign),
    Lot: Lot.operator_id,  # an operator's lot in a national market (markets are nobody's)
    LotPrice: Through(LotPrice.lot_id, Lot),
    Uo4Action: Uo4Action.operator_id,
    Uo4Attendee: Through(Uo4Attendee.action_id, Uo4Action),
    Uo4Event: Uo4Event.operator_id,
    SurveyQuestionnaire: SurveyQuestionnaire.operator_id,
    SurveyInvitation: SurveyInvitation.operator_id,
    SurveyResponse: SurveyResponse.operator_id,
    RightsRequest: RightsRequest.operator_id,
    AccessArchive: AccessArchive.operator_id,
    DeliverableArchive: DeliverableArchive.operator_id,
}


def operator_of(actor: StaffUser) -> int:
    """The operator whose personal data the actor may see; anyone else gets 404."""
    if not actor.sees_cases:
        raise NotFound()
    assert actor.operator_id is not None
    return actor.operator_id


def owned_by(model, operator_id: Any):
    """The where-clause keeping the rows of `model` (a table, or an alias of one) that belong
    to the operator.

    `operator_id` is an id, or any SQL expression of one (another table's column in a join,
    a bound parameter); never None, which SQL would read as « rows of no operator »."""
    if operator_id is None:
        raise ValueError(f"no operator to scope {model} by")
    path = TENANT_PATHS[inspect(model).mapper.class_]
    if isinstance(path, Through):
        parents = select(path.parent.id).where(owned_by(path.parent, operator_id))
        return getattr(model, path.column.key).in_(parents)
    return getattr(model, path.key) == operator_id


def readable(model: type[SQLModel], actor: StaffUser):
    """The rows of `model` the actor may read, as a statement to narrow down further."""
    return select(model).where(owned_by(model, operator_of(actor)))


def owner_of(session: Session, row: SQLModel) -> int | None:
    """The operator a row belongs to, following its path (None: the row is nobody's)."""
    path = TENANT_PATHS[type(row)]
    if isinstance(path, Through):
        parent = session.get(path.parent, getattr(row, path.column.key))
        return owner_of(session, parent) if parent is not None else None
    return getattr(row, path.key)


def get_owned(session: Session, model: type[SQLModel], row_id: int, operator_id: int):
    """The row of `model` with this id if it belongs to the operator, else None."""
    if operator_id is None:  # a row of no operator (an observer's account) would match
        raise ValueError(f"no operator to find a {model.__name__} of")
    row = session.get(model, row_id) if 1 <= row_id <= MAX_ROW_ID else None
    if row is None or owner_of(session, row) != operator_id:
        return None
    return row


def load_owned(session: Session, model: type[SQLModel], row_id: int, actor: StaffUser):
    """Fetch a row of `model` that belongs to the actor's operator, or raise NotFound."""
    row = get_owned(session, model, row_id, operator_of(actor))
    if row is None:
        raise NotFound()
    return row
