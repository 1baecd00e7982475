"""SQLModel tables and their input/output schemas, one module per domain."""

from app.models.api_clients import ApiClient
from app.models.appointments import Absence, Appointment, AppointmentType, OpeningSlot, RateLimitHit
from app.models.attachments import Attachment
from app.models.audit import AuditChain, AuditEvent, AuditPurgePermit
from app.models.beneficiaries import Beneficiary
from app.models.cases import Case, Episode, Interaction
from app.models.catalogue import DeliverableKind, ServiceUnit, UnitProofRequirement
from app.models.consents import ConsentRecord
from app.models.control import ControlCampaign, ControlCampaignEvent, ControlSampleUnit
from app.models.credentials import ApiKey, LoginStep, RecoveryCode, StaffTotp
from app.models.deliverable_archives import DeliverableArchive
from app.models.deliverables import ActionPlan, ActionStep, Deliverable, DeliverableVersion
from app.models.markets import Lot, LotPrice, Market, MarketUnit
from app.models.notifications import Notification, NotificationDigest
from app.models.operators import Operator, Site
from app.models.outbox import OutboxMessage
from app.models.partners import Partner, Referral, ReferralEvent
from app.models.personal_space import PersonalSpaceLink
from app.models.reports import ReportSnapshot
from app.models.rights import AccessArchive, RightsRequest
from app.models.short_links import ShortLink
from app.models.staff import (
    AccountLink,
    LoginAlert,
    LoginAttempt,
    StaffEvent,
    StaffSession,
    StaffSite,
    StaffUser,
)
from app.models.surveys import SurveyInvitation, SurveyQuestionnaire, SurveyResponse
from app.models.system import WorkerHeartbeat
from app.models.triage import TriageRequest
from app.models.uo4 import Uo4Action, Uo4Attendee, Uo4Event
from app.models.waiting_list import WaitingListEntry, WaitingListOffer

__all__ = [
    "DeliverableArchive",
    "ApiClient",
    "WorkerHeartbeat",
    "WaitingListEntry",
    "WaitingListOffer",
    "AccountLink",
    "ApiKey",
    "LoginStep",
    "RecoveryCode",
    "StaffTotp",
    "Absence",
    "Appointment",
    "AppointmentType",
    "OpeningSlot",
    "RateLimitHit",
    "ActionPlan",
    "ActionStep",
    "ControlCampaign",
    "ControlSampleUnit",
    "ControlCampaignEvent",
    "Attachment",
    "AuditChain",
    "AuditEvent",
    "AuditPurgePermit",
    "ConsentRecord",
    "Deliverable",
    "DeliverableKind",
    "DeliverableVersion",
    "Notification",
    "NotificationDigest",
    "OutboxMessage",
    "Partner",
    "PersonalSpaceLink",
    "Referral",
    "ReferralEvent",
    "ReportSnapshot",
    "RightsRequest",
    "AccessArchive",
    "ShortLink",
    "UnitProofRequirement",
    "Beneficiary",
    "Case",
    "Episode",
    "Interaction",
    "LoginAlert",
    "Lot",
    "LotPrice",
    "Market",
    "MarketUnit",
    "LoginAttempt",
    "Operator",
    "ServiceUnit",
    "Site",
    "StaffEvent",
    "StaffSession",
    "StaffSite",
    "StaffUser",
    "SurveyInvitation",
    "SurveyQuestionnaire",
    "SurveyResponse",
    "TriageRequest",
    "Uo4Action",
    "Uo4Attendee",
    "Uo4Event",
]

# Registers the session events that keep each case's firsts (after every table is imported).
from app.models import case_firsts, interaction_copies  # noqa: E402, F401
