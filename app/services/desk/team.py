"""The manager's team view, on their home: for each counsellor they oversee, their open and
idle cases, the proofs missing, their appointments this week, their no-show rate and their
median delay to a first appointment — each figure counted as the list it links to counts it,
and each computed for the whole team at once (one query per figure, grouped by counsellor)."""

from dataclasses import dataclass, field
from datetime import date, timedelta

from sqlmodel import Session

from app.core.dates import local_today
from app.models.staff import StaffUser
from app.services.access.scope import operator_of
from app.services.admin.operators import time_zone_of
from app.services.admin.staff import Colleague
from app.services.admin.supervision import overseen_counsellors, oversees_a_team
from app.services.booking.calendar import (
    NoShowRow,
    appointments_by_counsellor,
    attendance_by_counsellor,
)
from app.services.cases.lifecycle import MyCaseCounts, case_counts_by_referent
from app.services.control.proofs import missing_proofs_by_referent
from app.services.reports.activity import first_appointment_delays_by_referent

# The no-show rate and the median delay look back this many days, as « Taux d'absence » does
# by default.
RECENT_DAYS = 90


@dataclass
class CounsellorFigures:
    counsellor: Colleague
    cases: MyCaseCounts
    missing_proofs: int
    appointments_this_week: int
    attendance: NoShowRow  # honoured and no-show over the recent days
    # Cases opened over the recent days that had a first appointment, and their median delay.
    delay_cases: int = 0
    median_delay_days: float | None = None


@dataclass
class TeamView:
    rows: list[CounsellorFigures] = field(default_factory=list)
    today: date | None = None  # the operator's
    week_start: date | None = None  # the Monday of this week
    recent_start: date | None = None  # the recent days run from here to today


def team_view(*, session: Session, actor: StaffUser) -> TeamView | None:
    """The figures of the counsellors the actor oversees; None for a counsellor."""
    if not oversees_a_team(actor):
        return None
    today = local_today(time_zone_of(session=session, operator_id=operator_of(actor)))
    week_start = today - timedelta(days=today.weekday())
    recent_start = today - timedelta(days=RECENT_DAYS)
    team = overseen_counsellors(session=session, actor=actor)
    ids = [counsellor.id for counsellor in team]
    asked = {"session": session, "actor": actor}
    cases = case_counts_by_referent(**asked, referent_ids=ids)
    proofs = missing_proofs_by_referent(**asked, referent_ids=ids)
    week = appointments_by_counsellor(
        **asked, counsellor_ids=ids, first=week_start, last=week_start + timedelta(days=6)
    )
    attendance = attendance_by_counsellor(
        **asked, counsellor_ids=ids, start=recent_start, end=today
    )
    delays = first_appointment_delays_by_referent(
        **asked, referent_ids=ids, start=recent_start, end=today
    )
    rows = []
    for counsellor in team:
        delay_cases, median = delays.get(counsellor.id, (0, None))
        rows.append(
            CounsellorFigures(
                counsellor=counsellor,
                cases=cases.get(counsellor.id, MyCaseCounts(open=0, idle=0)),
                missing_proofs=proofs.get(counsellor.id, 0),
                appointments_this_week=week.get(counsellor.id, 0),
                attendance=attendance.get(counsellor.id, NoShowRow(counsellor.full_name)),
                delay_cases=delay_cases,
                median_delay_days=median,
            )
        )
    return TeamView(rows=rows, today=today, week_start=week_start, recent_start=recent_start)
