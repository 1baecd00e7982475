"""SQLModel tables and their input/output schemas, one module per domain."""

from app.models.beneficiaries import Beneficiary
from app.models.cases import Case, Episode, Interaction
from app.models.catalogue import ServiceUnit
from app.models.operators import Operator, Site
from app.models.staff import LoginAttempt, StaffSession, StaffSite, StaffUser
from app.models.triage import TriageRequest

__all__ = [
    "Beneficiary",
    "Case",
    "Episode",
    "Interaction",
    "LoginAttempt",
    "Operator",
    "ServiceUnit",
    "Site",
    "StaffSession",
    "StaffSite",
    "StaffUser",
    "TriageRequest",
]
