"""The case page — the heart of the product — and its inline actions (htmx or plain posts)."""

from fastapi import Request
from fastapi.responses import RedirectResponse

from app.core.dates import input_datetime
from app.core.errors import Conflict, Invalid, NeedsConfirmation
from app.models.base import utcnow
from app.models.bounds import RowId
from app.models.cases import CaseClose, EpisodeEnd, EpisodeStart, InteractionCreate, ReferentChange
from app.services.cases.episodes import cancel_episode, end_episode, start_episode
from app.services.cases.interactions import record_interaction
from app.services.cases.lifecycle import (
    change_referent,
    close_case,
    reopen_case,
    time_zone_of_case,
)
from app.services.desk.case_page import load_case_view
from app.web.deps import CaseWorker, SessionDep, SubmittedForm
from app.web.forms import form_errors, parse_form
from app.web.rendering import is_htmx, render
from app.web.routing import new_router

router = new_router(prefix="/cases", include_in_schema=False)


def _page(
    request,
    session,
    user,
    case_id,
    *,
    action=None,
    form=None,
    errors=None,
    notices=(),
    to_confirm=(),
):
    view = load_case_view(session=session, actor=user, case_id=case_id)
    return render(
        request,
        "desk/case_page/detail.html",
        {
            "view": view,
            "action": action,
            "form": form or {},
            "errors": errors or {},
            "notices": list(notices),
            "to_confirm": list(to_confirm),
            "now_local": input_datetime(utcnow(), view.time_zone),
            "swapped": is_htmx(request) and request.method == "POST",
        },
        fragment="desk/case_page/_partials/case_body.html",
    )


def _act(request, session, user, case_id, form, action: str, perform):
    """Run one case action (all or nothing); re-render with errors, or show the updated case."""
    try:
        notices = perform(form) or []
    except NeedsConfirmation as exc:
        # Nothing done yet: the same form again, with the warnings and a button to go ahead.
        return _page(
            request, session, user, case_id, action=action, form=dict(form), to_confirm=exc.warnings
        )
    except (Invalid, Conflict) as exc:
        errors = form_errors(exc)
        return _page(request, session, user, case_id, action=action, form=dict(form), errors=errors)
    if is_htmx(request):
        return _page(request, session, user, case_id, notices=notices)
    return RedirectResponse(f"/cases/{case_id}", status_code=303)


@router.get("/{case_id}")
def case_page(request: Request, session: SessionDep, user: CaseWorker, case_id: RowId):
    return _page(request, session, user, case_id)


@router.post("/{case_id}/episodes")
def start_unit(
    request: Request, session: SessionDep, user: CaseWorker, case_id: RowId, form: SubmittedForm
):
    def perform(form):
        data = parse_form(EpisodeStart, form)
        # The warnings are asked about before (« Confirmer quand même »), not shown after.
        start_episode(
            session=session,
            actor=user,
            case_id=case_id,
            data=data,
            confirmed=form.get("confirm") == "1",
        )

    return _act(request, session, user, case_id, form, "start_episode", perform)


@router.post("/{case_id}/episodes/{episode_id}/end")
def end_unit(
    request: Request,
    session: SessionDep,
    user: CaseWorker,
    case_id: RowId,
    episode_id: RowId,
    form: SubmittedForm,
):
    def perform(form):
        data = parse_form(EpisodeEnd, form)
        end_episode(session=session, actor=user, episode_id=episode_id, data=data, case_id=case_id)

    return _act(request, session, user, case_id, form, f"end_episode_{episode_id}", perform)


@router.post("/{case_id}/episodes/{episode_id}/cancel")
def cancel_unit(
    request: Request,
    session: SessionDep,
    user: CaseWorker,
    case_id: RowId,
    episode_id: RowId,
    form: SubmittedForm,
):
    def perform(_form):
        cancel_episode(session=session, actor=user, case_id=case_id, episode_id=episode_id)

    return _act(request, session, user, case_id, form, f"cancel_episode_{episode_id}", perform)


@router.post("/{case_id}/interactions")
def add_interaction(
    request: Request, session: SessionDep, user: CaseWorker, case_id: RowId, form: SubmittedForm
):
    # The case's time zone alone: building the whole case view for it doubled the work.
    time_zone = time_zone_of_case(session=session, actor=user, case_id=case_id)

    def perform(form):
        data = parse_form(InteractionCreate, form, datetimes=("occurred_at",), time_zone=time_zone)
        record_interaction(session=session, actor=user, case_id=case_id, data=data)

    return _act(request, session, user, case_id, form, "interaction", perform)


@router.post("/{case_id}/referent")
def set_referent(
    request: Request, session: SessionDep, user: CaseWorker, case_id: RowId, form: SubmittedForm
):
    def perform(form):
        data = parse_form(ReferentChange, form)
        change_referent(session=session, actor=user, case_id=case_id, data=data)

    return _act(request, session, user, case_id, form, "referent", perform)


@router.post("/{case_id}/close")
def close(
    request: Request, session: SessionDep, user: CaseWorker, case_id: RowId, form: SubmittedForm
):
    def perform(form):
        close_case(session=session, actor=user, case_id=case_id, data=parse_form(CaseClose, form))

    return _act(request, session, user, case_id, form, "close", perform)


@router.post("/{case_id}/reopen")
def reopen(
    request: Request, session: SessionDep, user: CaseWorker, case_id: RowId, form: SubmittedForm
):
    def perform(_form):
        reopen_case(session=session, actor=user, case_id=case_id)

    return _act(request, session, user, case_id, form, "reopen", perform)
