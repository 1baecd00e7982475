"""Who is past the operator's « Durée de conservation », and the job that anonymises them.

A person's last contact is the latest of: an interaction recorded with them, an appointment
(booked, held or cancelled: its date was agreed with them), the end of an episode of one of
their cases, the closing of one of their cases, a triage request they sent, and their record's
creation (so that a person never followed up still leaves one day). The CNIL's guidance for
social and employment support keeps active data while the accompaniment lasts and up to two
years after the last contact: hence « every case closed » and the operator's months after it."""

import calendar
import logging
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import bindparam, exists, func, literal_column, union_all
from sqlmodel import Session, col, select

from app.core.dates import local_today
from app.core.errors import NotFound
from app.models.appointments import Appointment
from app.models.base import UTCDateTime, utcnow
from app.models.beneficiaries import Beneficiary
from app.models.cases import Case, CaseStatus, Episode, Interaction
from app.models.control import CampaignKind, ControlCampaign, ControlSampleUnit
from app.models.operators import Operator
from app.models.triage import TriageRequest
from app.models.waiting_list import WaitingListEntry
from app.services.access.scope import owned_by
from app.services.privacy.anonymise import anonymise as anonymise_person

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


def months_before(moment: datetime, months: int) -> datetime:
    """The same day and time `months` calendar months earlier (the month's last day when it
    is shorter: 31 March less one month is 28 or 29 February)."""
    index = moment.year * 12 + moment.month - 1 - months
    year, month = divmod(index, 12)
    day = min(moment.day, calendar.monthrange(year, month + 1)[1])
    return moment.replace(year=year, month=month + 1, day=day)


def _contacts(operator_id: int):
    """(beneficiary id, moment) of every contact of the operator's people, as one subquery."""
    episode_ends = (
        select(Case.beneficiary_id, Episode.ended_at)
        .join(Case, col(Case.id) == Episode.case_id)
        .where(owned_by(Episode, operator_id), col(Episode.ended_at).is_not(None))
    )
    parts = [
        select(Interaction.beneficiary_id, Interaction.occurred_at).where(
            owned_by(Interaction, operator_id)
        ),
        select(Appointment.beneficiary_id, Appointment.starts_at).where(
            owned_by(Appointment, operator_id)
        ),
        episode_ends,
        select(Case.beneficiary_id, Case.closed_at).where(
            owned_by(Case, operator_id), col(Case.closed_at).is_not(None)
        ),
        select(TriageRequest.beneficiary_id, TriageRequest.received_at).where(
            owned_by(TriageRequest, operator_id)
        ),
        select(Beneficiary.id, Beneficiary.created_at).where(owned_by(Beneficiary, operator_id)),
        # Waiting for a slot is being in touch: the person is kept while they wait.
        select(WaitingListEntry.beneficiary_id, WaitingListEntry.updated_at).where(
            owned_by(WaitingListEntry, operator_id)
        ),
    ]
    return union_all(*parts).subquery("contacts")


def held_by_a_control(now: datetime):
    """The person has a unit drawn by an official control not closed, or closed recently."""
    kept_since = months_before(now, 12 * CONTROL_KEEP_YEARS)
    return exists().where(
        col(ControlSampleUnit.campaign_id) == ControlCampaign.id,
        col(ControlSampleUnit.episode_id) == Episode.id,
        col(Episode.case_id) == Case.id,
        col(Case.beneficiary_id) == Beneficiary.id,
        col(ControlCampaign.kind) == CampaignKind.OFFICIAL.value,
        col(ControlCampaign.closed_at).is_(None)
        | (col(ControlCampaign.closed_at) > bindparam("kept_since", kept_since, UTCDateTime())),
    )


# People anonymised per pass of the worker's daily job (a few seconds of work on PostgreSQL).
RETENTION_BATCH = 500


def retention_cutoff(operator: Operator, now: datetime) -> datetime:
    """A last contact before this moment is past the operator's retention period."""
    return months_before(now, operator.retention_months)


def due_for_anonymisation(
    *, session: Session, operator: Operator, now: datetime, limit: int | None = None
) -> list[Due]:
    """The operator's people not yet anonymised whose every case is closed and whose last
    contact is older than the retention period, except those a control still holds;
    oldest last contact first (the first `limit` of them)."""
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
            owned_by(Beneficiary, operator.id),
            col(Beneficiary.anonymised_at).is_(None),
            ~open_case,
            ~held_by_a_control(now),
        )
        .group_by(Beneficiary.id)
        .having(last < cutoff)
        .order_by(literal_column("last_contact_at"), Beneficiary.id)
        .limit(limit)
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


def anonymise_due(
    *, session: Session, operator: Operator, now: datetime, limit: int | None = None
) -> int:
    """Anonymise the operator's people past the retention period (the first `limit`); how many."""
    due = due_for_anonymisation(session=session, operator=operator, now=now, limit=limit)
    for person in due:
        anonymise_person(
            session=session, person=session.get(Beneficiary, person.beneficiary_id), now=now
        )
    if due:
        log.info("operator %d: %d people anonymised after retention", operator.id, len(due))
    return len(due)


def run_daily_retention(
    *, session: Session, now: datetime | None = None, batch: int = RETENTION_BATCH
) -> int:
    """The worker's job: once a day per operator (its own local day), anonymise its people
    past the retention period; how many, all operators together.

    At most `batch` people per pass, each pass its own transaction: the first pass on a large
    database finds tens of thousands, and one transaction for all of them would hold its locks
    for hours. An operator is done for the day once a pass finds fewer than it could take."""
    now = now or utcnow()
    total = 0
    for operator in session.exec(select(Operator).order_by(Operator.id)):
        today = local_today(operator.time_zone, now=now)
        if operator.retention_run_on == today:
            continue
        room = batch - total
        if room <= 0:
            break  # the next pass goes on
        done = anonymise_due(session=session, operator=operator, now=now, limit=room)
        total += done
        if done < room:
            operator.retention_run_on = today
            session.add(operator)
    session.flush()
    return total


def retention_listing(
    *, session: Session, operator_code: str | None, anonymise: bool, now: datetime | None = None
) -> list[tuple[str, list[Due]]]:
    """For `filrouge privacy retention`: per operator (one, or all), who is past the period;
    anonymised unless it is a dry run."""
    now = now or utcnow()
    statement = select(Operator).order_by(Operator.code)
    if operator_code:
        statement = statement.where(col(Operator.code) == operator_code.strip().upper())
    operators = list(session.exec(statement))
    if operator_code and not operators:
        raise NotFound(f"Aucun opérateur de code {operator_code}.")
    found = []
    for operator in operators:
        due = due_for_anonymisation(session=session, operator=operator, now=now)
        if anonymise:
            for person in due:
                target = session.get(Beneficiary, person.beneficiary_id)
                anonymise_person(session=session, person=target, now=now)
        found.append((operator.code, due))
    return found
