"""The action plan of a case: htmx fragment and plain-form actions, and its JSON API."""

from typing import NamedTuple

from fastapi import Request, Response
from fastapi.responses import RedirectResponse

from app.core.errors import Conflict, Invalid
from app.models.bounds import RowId
from app.models.deliverables import (
    ActionPlanObjective,
    ActionStepMove,
    ActionStepPublic,
    ActionStepWrite,
)
from app.services.audit import accesses
from app.services.deliverables import action_plan
from app.web.api_errors import API_ERRORS, CONFLICT
from app.web.deps import ApiCaseWorker, CaseWorker, SessionDep, SubmittedForm
from app.web.forms import form_errors, parse_form
from app.web.rendering import is_htmx, render
from app.web.routing import new_router

pages = new_router(prefix="/cases/{case_id}/plan", include_in_schema=False)
api = new_router(prefix="/api/v1", tags=["plan d'action"], responses=API_ERRORS)

FRAGMENT = "deliverables/action_plan/_partials/plan.html"


class Done(NamedTuple):
    """What a plan action did, for its confirmation: the message, where it is said
    (« objective », « add », « steps » above the table, or a row « step-<id> ») and the control
    that keeps the focus (else the message takes it)."""

    message: str
    at: str
    keep_focus: str | None = None


def _plan(request, session, user, case_id, **context):
    """The plan fragment for htmx; a page of its own otherwise (a plain form with errors)."""
    plan = action_plan.load_plan(session=session, actor=user, case_id=case_id)
    return render(
        request,
        "deliverables/action_plan/page.html",
        {"plan": plan, **context},
        fragment=FRAGMENT,
    )


def _act(request, form, session, user, case_id, form_id: str, perform):
    """Run one plan action (its service writes all or nothing): bad input re-renders the form."""
    try:
        done = perform(form)
    except (Invalid, Conflict) as exc:
        errors = form_errors(exc)
        return _plan(
            request,
            session,
            user,
            case_id,
            plan_action=form_id,
            plan_form=dict(form),
            plan_errors=errors,
        )
    if is_htmx(request):
        return _plan(request, session, user, case_id, plan_done=done)
    return RedirectResponse(f"/cases/{case_id}?section=documents#plan-action", status_code=303)


# ---- pages --------------------------------------------------------------------------------


@pages.get("")
def plan_page(request: Request, session: SessionDep, user: CaseWorker, case_id: RowId):
    page = _plan(request, session, user, case_id)
    accesses.action_plan_read(session, actor=user, case_id=case_id)
    return page


@pages.post("/objective")
def objective(
    request: Request, session: SessionDep, user: CaseWorker, case_id: RowId, form: SubmittedForm
):
    def perform(form):
        data = parse_form(ActionPlanObjective, form)
        action_plan.set_objective(
            session=session, actor=user, case_id=case_id, objective=data.objective
        )
        return Done("Objectif du plan d'action enregistré.", "objective")

    return _act(request, form, session, user, case_id, "objective", perform)


@pages.post("/steps")
def add(
    request: Request, session: SessionDep, user: CaseWorker, case_id: RowId, form: SubmittedForm
):
    def perform(form):
        data = parse_form(ActionStepWrite, form)
        action_plan.add_step(session=session, actor=user, case_id=case_id, data=data)
        # Said just below the new step (the table's last row), above the form.
        return Done("Étape ajoutée au plan d'action.", "add")

    return _act(request, form, session, user, case_id, "add", perform)


@pages.post("/steps/{step_id}")
def update(
    request: Request,
    session: SessionDep,
    user: CaseWorker,
    case_id: RowId,
    step_id: RowId,
    form: SubmittedForm,
):
    def perform(form):
        data = parse_form(ActionStepWrite, form)
        action_plan.update_step(
            session=session, actor=user, case_id=case_id, step_id=step_id, data=data
        )
        # The inline status select keeps the focus (it is saved on change: arrowing through
        # its options goes on); the full edit form closes, so the focus goes to the message.
        if "inline" in form:
            message = f"État enregistré : « {data.status.label} »."
            return Done(message, f"step-{step_id}", f"step-{step_id}-state")
        return Done("Étape enregistrée.", f"step-{step_id}")

    return _act(request, form, session, user, case_id, f"step-{step_id}", perform)


@pages.post("/steps/{step_id}/move")
def move(
    request: Request,
    session: SessionDep,
    user: CaseWorker,
    case_id: RowId,
    step_id: RowId,
    form: SubmittedForm,
):
    def perform(form):
        direction = parse_form(ActionStepMove, form).direction
        action_plan.move_step(
            session=session, actor=user, case_id=case_id, step_id=step_id, direction=direction
        )
        # The arrow keeps the focus, to move the step on (the template follows it to the
        # other arrow at an end of the plan).
        return Done("Étape déplacée.", f"step-{step_id}", f"step-{step_id}-{direction}")

    return _act(request, form, session, user, case_id, f"step-{step_id}", perform)


@pages.post("/steps/{step_id}/delete")
def delete(
    request: Request,
    session: SessionDep,
    user: CaseWorker,
    case_id: RowId,
    step_id: RowId,
    form: SubmittedForm,
):
    def perform(_form):
        action_plan.delete_step(session=session, actor=user, case_id=case_id, step_id=step_id)
        return Done("Étape supprimée du plan d'action.", "steps")

    return _act(request, form, session, user, case_id, f"step-{step_id}", perform)


# ---- JSON API -----------------------------------------------------------------------------


@api.get("/cases/{case_id}/action-steps", response_model=list[ActionStepPublic])
def get_steps(session: SessionDep, user: ApiCaseWorker, case_id: RowId):
    """The case's action plan, in order."""
    return action_plan.list_steps(session=session, actor=user, case_id=case_id)


@api.post(
    "/cases/{case_id}/action-steps",
    response_model=ActionStepPublic,
    status_code=201,
    responses=CONFLICT,
)
def post_step(session: SessionDep, user: ApiCaseWorker, case_id: RowId, data: ActionStepWrite):
    """Append a step at the end of the plan."""
    return action_plan.add_step(session=session, actor=user, case_id=case_id, data=data)


@api.put(
    "/cases/{case_id}/action-steps/{step_id}", response_model=ActionStepPublic, responses=CONFLICT
)
def put_step(
    session: SessionDep, user: ApiCaseWorker, case_id: RowId, step_id: RowId, data: ActionStepWrite
):
    return action_plan.update_step(
        session=session, actor=user, case_id=case_id, step_id=step_id, data=data
    )


@api.post(
    "/cases/{case_id}/action-steps/{step_id}/move",
    response_model=list[ActionStepPublic],
    responses=CONFLICT,
)
def post_move(
    session: SessionDep, user: ApiCaseWorker, case_id: RowId, step_id: RowId, data: ActionStepMove
):
    """Swap a step with its neighbour; answers the whole plan in its new order."""
    return action_plan.move_step(
        session=session, actor=user, case_id=case_id, step_id=step_id, direction=data.direction
    )


@api.delete("/cases/{case_id}/action-steps/{step_id}", status_code=204, responses=CONFLICT)
def delete_step(session: SessionDep, user: ApiCaseWorker, case_id: RowId, step_id: RowId):
    action_plan.delete_step(session=session, actor=user, case_id=case_id, step_id=step_id)
    return Response(status_code=204)


router = new_router()
router.include_router(pages)
router.include_router(api)
