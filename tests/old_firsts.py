"""Each case's firsts as the report defined them before the case kept them (first contact, first
appointment; entry into level 1, reaching level 2, first level-1 interview): worked out in
Python from the rows, to check what the database keeps."""

from datetime import datetime

from sqlmodel import select

from app.models.appointments import Appointment
from app.models.cases import Case, Episode, Interaction
from app.models.catalogue import ServiceUnit
from app.models.triage import TriageRequest

Firsts = tuple[datetime, datetime | None]  # (first contact, first appointment not cancelled)


def firsts_from_rows(db) -> dict[int, Firsts]:
    """Every case's firsts, read from its triage requests and appointments (`db` is a session
    or a connection)."""
    requests: dict[int, datetime] = {}
    for case_id, received_at in db.execute(
        select(TriageRequest.case_id, TriageRequest.received_at).where(
            TriageRequest.case_id.is_not(None)
        )
    ):
        requests[case_id] = min(received_at, requests.get(case_id, received_at))
    visits: dict[int, datetime] = {}
    for case_id, starts_at in db.execute(
        select(Appointment.case_id, Appointment.starts_at).where(
            Appointment.case_id.is_not(None), Appointment.status != "cancelled"
        )
    ):
        visits[case_id] = min(starts_at, visits.get(case_id, starts_at))
    firsts = {}
    for case_id, opened_at in db.execute(select(Case.id, Case.opened_at)):
        # The triage request came first, unless the case was opened directly (or earlier).
        contact = min(opened_at, requests.get(case_id, opened_at))
        firsts[case_id] = (contact, visits.get(case_id))
    return firsts


def stored_firsts(db) -> dict[int, Firsts]:
    """What the cases keep."""
    statement = select(Case.id, Case.first_contact_at, Case.first_appointment_at)
    return {case_id: (contact, visit) for case_id, contact, visit in db.execute(statement)}


Levels = tuple[datetime | None, datetime | None, datetime | None]
# (first level-1 episode started, first level-2 episode started, first level-1 interview)


def levels_from_rows(db) -> dict[int, Levels]:
    """Every case's entry into level 1, reaching level 2 and first level-1 interview, read from
    its episodes not cancelled and the interactions recorded within its level-1 episodes."""
    units = db.execute(select(ServiceUnit.id, ServiceUnit.level))
    level_of = {unit_id: level for unit_id, level in units}
    started: dict[tuple[int, int], datetime] = {}
    level_1_episodes: set[int] = set()
    for episode_id, case_id, unit_id, started_at in db.execute(
        select(Episode.id, Episode.case_id, Episode.unit_id, Episode.started_at).where(
            Episode.cancelled_at.is_(None)
        )
    ):
        key = (case_id, level_of[unit_id])
        started[key] = min(started_at, started.get(key, started_at))
        if level_of[unit_id] == 1:
            level_1_episodes.add(episode_id)
    interviews: dict[int, datetime] = {}
    for case_id, episode_id, occurred_at in db.execute(
        select(Interaction.case_id, Interaction.episode_id, Interaction.occurred_at)
    ):
        if episode_id in level_1_episodes:
            interviews[case_id] = min(occurred_at, interviews.get(case_id, occurred_at))
    return {
        case_id: (started.get((case_id, 1)), started.get((case_id, 2)), interviews.get(case_id))
        for (case_id,) in db.execute(select(Case.id))
    }


def stored_levels(db) -> dict[int, Levels]:
    """What the cases keep."""
    statement = select(
        Case.id, Case.level_1_started_at, Case.level_2_started_at, Case.level_1_interview_at
    )
    return {case_id: tuple(values) for case_id, *values in db.execute(statement)}
