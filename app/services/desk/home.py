"""What the counsellor's home shows — what needs doing today: the appointments still to
come, the requests to triage, the referrals to chase, the proofs missing, each cut to its most
urgent lines, and how many cases and referrals wait behind a click — the whole lists it opens
onto, one page at a time, and the search."""

from dataclasses import dataclass

from sqlmodel import Session

from app.core.dates import local_today
from app.models.beneficiaries import Beneficiary
from app.models.staff import StaffUser
from app.services.access.scope import operator_of
from app.services.admin.operators import time_zone_of
from app.services.admin.staff import Colleague
from app.services.admin.supervision import overseen_counsellor
from app.services.booking.calendar import CalendarEntry, appointments_to_come_today
from app.services.cases.beneficiaries import search_beneficiaries
from app.services.cases.lifecycle import (
    CaseRow,
    MyCaseCounts,
    find_cases,
    my_case_counts,
    my_idle_cases,
    my_open_cases,
)
from app.services.cases.triage import queue, queue_size
from app.services.control.proofs import MissingProofLine, most_overdue_proofs
from app.services.desk.team import TeamView, team_view
from app.services.referrals.views import (
    FollowUpCounts,
    FollowUpRow,
    awaiting_answer,
    follow_up_counts,
    follow_up_due,
    operator_today,
)


@dataclass
class Home:
    appointments: list[CalendarEntry]
    appointments_total: int
    triage_queue: list
    triage_total: int
    referrals_due: list[FollowUpRow]
    referral_counts: FollowUpCounts
    missing_proofs: list[MissingProofLine]
    missing_proofs_total: int
    case_counts: MyCaseCounts
    team: TeamView | None  # a manager's or an operator admin's: their counsellors' figures


def home(*, session: Session, actor: StaffUser, rows: int) -> Home:
    """The first `rows` lines of each list of today's work, the most urgent ones, how many
    there are, and how many cases and referrals the other lists hold."""
    time_zone = time_zone_of(session=session, operator_id=operator_of(actor))
    today = local_today(time_zone)
    first = {"session": session, "actor": actor, "limit": rows}
    appointments, appointments_total = appointments_to_come_today(**first, time_zone=time_zone)
    missing, missing_total = most_overdue_proofs(**first)
    return Home(
        appointments=appointments,
        appointments_total=appointments_total,
        triage_queue=queue(**first, mine_only=True),
        triage_total=queue_size(session=session, actor=actor, mine_only=True),
        referrals_due=follow_up_due(**first, today=today),
        referral_counts=follow_up_counts(session=session, actor=actor, today=today),
        missing_proofs=missing,
        missing_proofs_total=missing_total,
        case_counts=my_case_counts(session=session, actor=actor),
        team=team_view(session=session, actor=actor),
    )


@dataclass
class ListPage:
    """One page of a whole list, and how many lines the list has."""

    rows: list
    total: int
    # Whose list it is when it is not the actor's own (the team view's links).
    counsellor: Colleague | None = None


def _whose(session: Session, actor: StaffUser, counsellor_id: int | None) -> Colleague | None:
    if counsellor_id is None:
        return None
    return overseen_counsellor(session=session, actor=actor, counsellor_id=counsellor_id)


def open_cases_page(
    *,
    session: Session,
    actor: StaffUser,
    offset: int,
    limit: int,
    counsellor_id: int | None = None,
) -> ListPage:
    """The actor's open cases, or those of a counsellor they oversee (404 for anyone else)."""
    whose = _whose(session, actor, counsellor_id)
    mine = {"session": session, "actor": actor, "referent_id": counsellor_id}
    return ListPage(
        rows=my_open_cases(**mine, offset=offset, limit=limit),
        total=my_case_counts(**mine).open,
        counsellor=whose,
    )


def idle_cases_page(
    *,
    session: Session,
    actor: StaffUser,
    offset: int,
    limit: int,
    counsellor_id: int | None = None,
) -> ListPage:
    """As open_cases_page, those without activity for `idle_case_days` days."""
    whose = _whose(session, actor, counsellor_id)
    mine = {"session": session, "actor": actor, "referent_id": counsellor_id}
    return ListPage(
        rows=my_idle_cases(**mine, offset=offset, limit=limit),
        total=my_case_counts(**mine).idle,
        counsellor=whose,
    )


def referrals_due_page(*, session: Session, actor: StaffUser, offset: int, limit: int) -> ListPage:
    today = operator_today(session=session, actor=actor)
    return ListPage(
        rows=follow_up_due(session=session, actor=actor, today=today, offset=offset, limit=limit),
        total=follow_up_counts(session=session, actor=actor, today=today).due,
    )


def referrals_awaiting_page(
    *, session: Session, actor: StaffUser, offset: int, limit: int
) -> ListPage:
    return ListPage(
        rows=awaiting_answer(session=session, actor=actor, offset=offset, limit=limit),
        total=follow_up_counts(session=session, actor=actor).awaiting,
    )


@dataclass
class Found:
    people: list[Beneficiary]
    cases: list[CaseRow]


def search(*, session: Session, actor: StaffUser, text: str) -> Found:
    """People by name, e-mail or phone; cases by reference, from three characters on."""
    typed = text.strip()
    return Found(
        people=search_beneficiaries(session=session, actor=actor, query=text) if typed else [],
        cases=find_cases(session=session, actor=actor, reference=text) if len(typed) >= 3 else [],
    )
