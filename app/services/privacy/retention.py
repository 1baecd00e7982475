"""Who is past the operator's « Durée de conservation », and the job that anonymises them.

A person's last contact is the latest of: an interaction recorded with them, an appointment
(booked, held or cancelled: its date was agreed with them), the end of an episode of one of
their cases, the closing of one of their cases, a triage request they sent, and their record's
creation (so that a person never followed up still leaves one day). The CNIL's guidance for
social and employment support keeps active data while the accompaniment lasts and up to two
years after the last contact: hence « every case closed » and the operator's months after it."""

import logging
from dataclasses import dataclass
from datetime import datetime

from dateutil.relativedelta import relativedelta
from sqlalchemy import bindparam, exists, func, literal_column, union_all
from sqlmodel import Session, col, select

from app.models.appointments import Appointment
from app.models.base import UTCDateTime
from app.models.beneficiaries import Beneficiary
from app.models.cases import Case, CaseStatus, Episode, Interaction
from app.models.control import CampaignKind, ControlCampaign, ControlSampleUnit
from app.models.operators import Operator
from app.models.triage import TriageRequest
from app.services.privacy.anonymise import anonymise

log = logging.getLogger(__name__)

# A closed official control still holds its units this long: France compétences may come
# back to a closed control's findings (a dispute before the administrative court, the
# recovery of sums unduly paid) and the operator must then show the same proofs. Three years
# covers the usual limitation of such claims between a public buyer and its supplier; it is
# a prudent reading, to be confirmed against the market's terms (CCAP) before deployment.
CONTROL_KEEP_YEARS = 3


@dataclass(frozen=True)
class Due:
    """A person past the retention period: their case references and their last contact."""

    beneficiary_id: int
    references: list[str]
    last_contact_at: datetime


def _contacts(operator_id: int):
    """(beneficiary id, moment) of every contact of the operator's people, as one subquery."""
    episode_ends = (
        select(Case.beneficiary_id, Episode.ended_at)
        .join(Case, col(Case.id) == Episode.case_id)
        .where(col(Episode.operator_id) == operator_id, col(Episode.ended_at).is_not(None))
    )
    parts = [
        select(Interaction.beneficiary_id, Interaction.occurred_at).where(
            col(Interaction.operator_id) == operator_id
        ),
        select(Appointment.beneficiary_id, Appointment.starts_at).where(
            col(Appointment.operator_id) == operator_id
        ),
        episode_ends,
        select(Case.beneficiary_id, Case.closed_at).where(
            col(Case.operator_id) == operator_id, col(Case.closed_at).is_not(None)
        ),
        select(TriageRequest.beneficiary_id, TriageRequest.received_at).where(
            col(TriageRequest.operator_id) == operator_id
        ),
        select(Beneficiary.id, Beneficiary.created_at).where(
            col(Beneficiary.operator_id) == operator_id
        ),
    ]
    return union_all(*parts).subquery("contacts")


def _held_by_a_control(now: datetime):
    """The person has a unit drawn by an official control not closed, or closed recently."""
    kept_since = now - relativedelta(years=CONTROL_KEEP_YEARS)
    return exists().where(
        col(ControlSampleUnit.campaign_id) == ControlCampaign.id,
        col(ControlSampleUnit.episode_id) == Episode.id,
        col(Episode.case_id) == Case.id,
        col(Case.beneficiary_id) == Beneficiary.id,
        col(ControlCampaign.kind) == CampaignKind.OFFICIAL.value,
        col(ControlCampaign.closed_at).is_(None)
        | (col(ControlCampaign.closed_at) > bindparam("kept_since", kept_since, UTCDateTime())),
    )


def retention_cutoff(operator: Operator, now: datetime) -> datetime:
    """A last contact before this moment is past the operator's retention period."""
    return now - relativedelta(months=operator.retention_months)


def due_for_anonymisation(*, session: Session, operator: Operator, now: datetime) -> list[Due]:
    """The operator's people not yet anonymised whose every case is closed and whose last
    contact is older than the retention period, except those a control still holds;
    oldest last contact first."""
    contacts = _contacts(operator.id)
    who, at = contacts.c[0], contacts.c[1]
    last = func.max(at).label("last_contact_at")
    open_case = exists().where(
        col(Case.beneficiary_id) == Beneficiary.id, col(Case.status) == CaseStatus.OPEN.value
    )
    cutoff = bindparam("cutoff", retention_cutoff(operator, now), UTCDateTime())
    statement = (
        select(Beneficiary.id, last)
        .join(contacts, who == Beneficiary.id)
        .where(
            col(Beneficiary.operator_id) == operator.id,
            col(Beneficiary.anonymised_at).is_(None),
            ~open_case,
            ~_held_by_a_control(now),
        )
        .group_by(Beneficiary.id)
        .having(last < cutoff)
        .order_by(literal_column("last_contact_at"), Beneficiary.id)
    )
    found = list(session.exec(statement))
    references = _references(session, [person_id for person_id, _ in found])
    return [Due(person_id, references.get(person_id, []), moment) for person_id, moment in found]


def _references(session: Session, person_ids: list[int]) -> dict[int, list[str]]:
    found: dict[int, list[str]] = {}
    for start in range(0, len(person_ids), 500):  # stay within any engine's parameter limit
        chunk = person_ids[start : start + 500]
        statement = select(Case.beneficiary_id, Case.reference).where(
            col(Case.beneficiary_id).in_(chunk)
        )
        for person_id, reference in session.exec(statement.order_by(Case.opened_at, Case.id)):
            found.setdefault(person_id, []).append(reference)
    return found


def anonymise_due(*, session: Session, operator: Operator, now: datetime) -> int:
    """Anonymise the operator's people past the retention period; how many."""
    due = due_for_anonymisation(session=session, operator=operator, now=now)
    for person in due:
        anonymise(session=session, person=session.get(Beneficiary, person.beneficiary_id), now=now)
    if due:
        log.info("operator %d: %d people anonymised after retention", operator.id, len(due))
    return len(due)
