"""Each case's first contact and first appointment as the report defined them before the case
kept them: worked out in Python from the rows, to check what the database keeps."""

from datetime import datetime

from sqlmodel import select

from app.models.appointments import Appointment
from app.models.cases import Case
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
