"""Action plan (plan d'action): ordered steps agreed with the beneficiary, updated in follow-up."""

from dataclasses import dataclass
from datetime import date
from typing import Literal

from sqlmodel import Session, func, select

from app.core.dates import local_today
from app.core.db import all_or_nothing
from app.core.errors import Conflict, Invalid, NotFound
from app.models.base import utcnow
from app.models.cases import Case
from app.models.deliverables import ActionPlan, ActionStep, ActionStepWrite, StepStatus
from app.models.nomenclatures import StepOwner
from app.models.staff import StaffUser
from app.services.access.scope import load_owned
from app.services.cases.lifecycle import case_time_zone, get_case, touch

CLOSED_CASE = "Ce dossier est clos : rouvrez-le pour modifier le plan d'action."
# A due date outside these bounds is a typing slip (2206 for 2026), not a plan.
EARLIEST_DUE = date(2000, 1, 1)
HORIZON_YEARS = 5
# Finished steps are never late, whatever their due date said.
_SETTLED = frozenset({StepStatus.DONE.value, StepStatus.DROPPED.value})


@dataclass
class StepRow:
    step: ActionStep
    overdue: bool


@dataclass
class PlanView:
    """What the plan fragment shows: the case, its objective, its steps in order, which are late."""

    case: Case
    objective: str
    rows: list[StepRow]

    @property
    def editable(self) -> bool:
        return self.case.is_open


# ---- reading ------------------------------------------------------------------------------


def list_steps(*, session: Session, actor: StaffUser, case_id: int) -> list[ActionStep]:
    """The case's steps in plan order."""
    case = get_case(session=session, actor=actor, case_id=case_id)
    return _steps_of(session, case.id)


def load_plan(
    *, session: Session, actor: StaffUser, case_id: int, today: date | None = None
) -> PlanView:
    """The plan as the case page shows it; `today` defaults to the case's local date."""
    case = get_case(session=session, actor=actor, case_id=case_id)
    today = today or local_today(case_time_zone(session, case))
    rows = [StepRow(step, is_overdue(step, today)) for step in _steps_of(session, case.id)]
    return PlanView(case=case, objective=plan_objective(session, case.id), rows=rows)


def plan_objective(session: Session, case_id: int) -> str:
    """What the case's plan aims at, as the counsellor wrote it ("" until then)."""
    plan = session.get(ActionPlan, case_id)
    return plan.objective if plan else ""


def is_overdue(step: ActionStep, today: date) -> bool:
    return step.due_on is not None and step.due_on < today and step.status not in _SETTLED


def plan_snapshot(steps: list[ActionStep]) -> list[dict]:
    """The plan frozen as documents print it: labels in French, dates in ISO form."""
    return [
        {
            "description": step.description,
            "owner_label": StepOwner(step.owner).label,
            "due_on": step.due_on.isoformat() if step.due_on else None,
            "status_label": StepStatus(step.status).label,
        }
        for step in steps
    ]


# ---- changing -----------------------------------------------------------------------------


@all_or_nothing
def set_objective(
    *, session: Session, actor: StaffUser, case_id: int, objective: str
) -> ActionPlan:
    """Write what the plan aims at; documents that print the plan start from it."""
    case = _open_case_for_update(session, actor, case_id)
    plan = session.get(ActionPlan, case.id) or ActionPlan(
        case_id=case.id, operator_id=case.operator_id
    )
    if plan.objective != objective:
        plan.objective = objective
        plan.updated_at = utcnow()
        touch(case)
        session.add_all([plan, case])
        session.flush()
    return plan


@all_or_nothing
def add_step(
    *, session: Session, actor: StaffUser, case_id: int, data: ActionStepWrite
) -> ActionStep:
    """Append a step at the end of the plan."""
    case = _open_case_for_update(session, actor, case_id)
    _check_due_on(data.due_on, local_today(case_time_zone(session, case)))
    last = session.exec(
        select(func.max(ActionStep.position)).where(ActionStep.case_id == case.id)
    ).one()
    step = ActionStep(
        operator_id=case.operator_id,
        case_id=case.id,
        position=(last or 0) + 1,
        **_columns(data),
    )
    return _save(session, case, step)


@all_or_nothing
def update_step(
    *, session: Session, actor: StaffUser, case_id: int, step_id: int, data: ActionStepWrite
) -> ActionStep:
    """Replace what a step says (the inline status change sends the other fields unchanged)."""
    case = _open_case_for_update(session, actor, case_id)
    step = _step_of(session, actor, case, step_id)
    _check_due_on(data.due_on, local_today(case_time_zone(session, case)))
    for name, value in _columns(data).items():
        setattr(step, name, value)
    step.updated_at = utcnow()
    return _save(session, case, step)


@all_or_nothing
def move_step(
    *,
    session: Session,
    actor: StaffUser,
    case_id: int,
    step_id: int,
    direction: Literal["up", "down"],
) -> list[ActionStep]:
    """Swap a step with its neighbour; at either end of the plan nothing moves."""
    if direction not in ("up", "down"):
        raise Invalid({"direction": "Choix invalide"})
    case = _open_case_for_update(session, actor, case_id)
    step = _step_of(session, actor, case, step_id)
    steps = _steps_of(session, case.id)
    index = steps.index(step)
    other = index - 1 if direction == "up" else index + 1
    if not 0 <= other < len(steps):
        return steps
    steps[index], steps[other] = steps[other], steps[index]
    # Renumbering the whole plan also heals ties left by concurrent additions.
    for position, each in enumerate(steps, start=1):
        each.position = position
    session.add_all(steps)
    touch(case)
    session.add(case)
    session.flush()
    return steps


@all_or_nothing
def delete_step(*, session: Session, actor: StaffUser, case_id: int, step_id: int) -> None:
    case = _open_case_for_update(session, actor, case_id)
    step = _step_of(session, actor, case, step_id)
    session.delete(step)
    touch(case)
    session.add(case)
    session.flush()


# ---- internals ----------------------------------------------------------------------------


def _steps_of(session: Session, case_id: int) -> list[ActionStep]:
    statement = (
        select(ActionStep)
        .where(ActionStep.case_id == case_id)
        .order_by(ActionStep.position, ActionStep.id)
    )
    return list(session.exec(statement))


def _open_case_for_update(session: Session, actor: StaffUser, case_id: int) -> Case:
    """The actor's case, open, and locked so that concurrent edits of its plan queue up."""
    case = get_case(session=session, actor=actor, case_id=case_id)
    # PostgreSQL only (SQLite already serialises writers): keeps `max(position) + 1` unique.
    session.exec(select(Case.id).where(Case.id == case.id).with_for_update()).one()
    if not case.is_open:
        raise Conflict(CLOSED_CASE)
    return case


def _step_of(session: Session, actor: StaffUser, case: Case, step_id: int) -> ActionStep:
    step = load_owned(session, ActionStep, step_id, actor)
    if step.case_id != case.id:
        raise NotFound()
    return step


def _check_due_on(due_on: date | None, today: date) -> None:
    if due_on is None:
        return
    if due_on < EARLIEST_DUE:
        raise Invalid({"due_on": "Échéance trop ancienne (avant 2000)"})
    if due_on > _years_later(today, HORIZON_YEARS):
        raise Invalid({"due_on": f"Échéance trop lointaine ({HORIZON_YEARS} ans au plus)"})


def _years_later(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February, and the target year is not a leap year
        return day.replace(year=day.year + years, day=28)


def _columns(data: ActionStepWrite) -> dict:
    return {
        "description": data.description,
        "owner": data.owner.value,
        "due_on": data.due_on,
        "status": data.status.value,
    }


def _save(session: Session, case: Case, step: ActionStep) -> ActionStep:
    touch(case)
    session.add_all([step, case])
    session.flush()
    return step
