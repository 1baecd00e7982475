"""The case page — the heart of the product — and its inline actions (htmx or plain posts)."""

from dataclasses import dataclass
from functools import partial
from typing import Annotated

from fastapi import Query, Request
from fastapi.responses import RedirectResponse

from app.core.dates import input_datetime
from app.core.errors import Conflict, Invalid, NeedsConfirmation
from app.models.base import utcnow
from app.models.bounds import PageNumber, RowId
from app.models.cases import CaseClose, EpisodeEnd, EpisodeStart, InteractionCreate, ReferentChange
from app.services.admin.catalogue import get_unit
from app.services.admin.staff import get_counsellor
from app.services.audit import accesses
from app.services.cases.episodes import cancel_episode, end_episode, start_episode
from app.services.cases.interactions import record_interaction
from app.services.cases.lifecycle import (
    change_referent,
    close_case,
    reopen_case,
    time_zone_of_case,
)
from app.services.desk.case_page import (
    DEFAULT_SECTION,
    SECTIONS,
    TIMELINE_FILTERS,
    CaseSight,
    episode_anchor,
    interaction_anchor,
    load_case_view,
)
from app.web.deps import CaseWorker, SessionDep, SubmittedForm
from app.web.forms import form_errors, parse_form
from app.web.rendering import is_htmx, render
from app.web.routing import new_router

router = new_router(prefix="/cases", include_in_schema=False)

# A section or filter code in the address: unknown ones open the default view.
SightCode = Annotated[str, Query(max_length=40)]


@dataclass(frozen=True)
class Done:
    """What an action did, said in its section next to where it was done (`slot`), with a link
    to the history entry it added (`anchor`), if any."""

    section: str
    slot: str
    message: str
    anchor: str | None = None


def _page(
    request,
    session,
    user,
    case_id,
    *,
    sight: CaseSight | None = None,
    action=None,
    form=None,
    errors=None,
    notices=(),
    to_confirm=(),
    answered: Done | None = None,
):
    view = load_case_view(session=session, actor=user, case_id=case_id, sight=sight)
    return render(
        request,
        "desk/case_page/detail.html",
        {
            "view": view,
            "sections": SECTIONS,
            "timeline_filters": TIMELINE_FILTERS,
            "action": action,
            "form": form or {},
            "errors": errors or {},
            "notices": list(notices),
            "to_confirm": list(to_confirm),
            "answered": answered,
            "now_local": input_datetime(utcnow(), view.time_zone),
            "swapped": is_htmx(request) and request.method == "POST",
        },
        fragment="desk/case_page/_partials/case_body.html",
    )


def _act(request, session, user, case_id, form, action: str, section: str, perform):
    """Run one case action (all or nothing) from `section`: re-render it with errors, or with
    what was done; a plain post is sent back to the section (and to the new entry)."""
    page = partial(_page, request, session, user, case_id, sight=CaseSight(section=section))
    try:
        answered = perform(form)
    except NeedsConfirmation as exc:
        # Nothing done yet: the same form again, with the warnings and a button to go ahead.
        return page(action=action, form=dict(form), to_confirm=exc.warnings)
    except (Invalid, Conflict) as exc:
        return page(action=action, form=dict(form), errors=form_errors(exc))
    if is_htmx(request):
        return page(answered=answered)
    target = CaseSight(section=answered.section).url(case_id)
    if answered.anchor and answered.section == DEFAULT_SECTION:
        target += f"#{answered.anchor}"
    return RedirectResponse(target, status_code=303)


@router.get("/{case_id}")
def case_page(
    request: Request,
    session: SessionDep,
    user: CaseWorker,
    case_id: RowId,
    section: SightCode = "",
    filtre: SightCode = "",
    page: PageNumber = 1,
):
    """The case: its header, and the section asked for (`section`); in the history, the kind of
    entries (`filtre`) and the page of them (`page`)."""
    sight = CaseSight.read(section=section, filter=filtre, page=page)
    response = _page(request, session, user, case_id, sight=sight)
    accesses.case_read(session, actor=user, case_id=case_id)
    return response


@router.post("/{case_id}/episodes")
def start_unit(
    request: Request, session: SessionDep, user: CaseWorker, case_id: RowId, form: SubmittedForm
):
    def perform(form):
        data = parse_form(EpisodeStart, form)
        # The warnings are asked about before (« Confirmer quand même »), not shown after.
        episode, _warnings = start_episode(
            session=session,
            actor=user,
            case_id=case_id,
            data=data,
            confirmed=form.get("confirm") == "1",
        )
        code = get_unit(session=session, unit_id=episode.unit_id).code
        anchor = episode_anchor("episode_started", episode.id)
        return Done("unites", "start", f"{code} démarrée.", anchor)

    return _act(request, session, user, case_id, form, "start_episode", "unites", perform)


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
        episode = end_episode(
            session=session, actor=user, episode_id=episode_id, data=data, case_id=case_id
        )
        code = get_unit(session=session, unit_id=episode.unit_id).code
        return Done(
            "unites", "end", f"{code} terminée.", episode_anchor("episode_ended", episode.id)
        )

    action = f"end_episode_{episode_id}"
    return _act(request, session, user, case_id, form, action, "unites", perform)


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
        episode = cancel_episode(
            session=session, actor=user, case_id=case_id, episode_id=episode_id
        )
        code = get_unit(session=session, unit_id=episode.unit_id).code
        message = f"Démarrage de {code} annulé : l'unité ne compte plus."
        return Done(
            "historique", "timeline", message, episode_anchor("episode_cancelled", episode.id)
        )

    action = f"cancel_episode_{episode_id}"
    return _act(request, session, user, case_id, form, action, "historique", perform)


@router.post("/{case_id}/interactions")
def add_interaction(
    request: Request, session: SessionDep, user: CaseWorker, case_id: RowId, form: SubmittedForm
):
    # The case's time zone alone: building the whole case view for it doubled the work.
    time_zone = time_zone_of_case(session=session, actor=user, case_id=case_id)

    def perform(form):
        data = parse_form(InteractionCreate, form, datetimes=("occurred_at",), time_zone=time_zone)
        interaction = record_interaction(session=session, actor=user, case_id=case_id, data=data)
        anchor = interaction_anchor(interaction.id)
        return Done("historique", "interaction", "Entretien enregistré.", anchor)

    return _act(request, session, user, case_id, form, "interaction", "historique", perform)


@router.post("/{case_id}/referent")
def set_referent(
    request: Request, session: SessionDep, user: CaseWorker, case_id: RowId, form: SubmittedForm
):
    def perform(form):
        data = parse_form(ReferentChange, form)
        case = change_referent(session=session, actor=user, case_id=case_id, data=data)
        name = get_counsellor(
            session=session, operator_id=case.operator_id, staff_id=case.referent_id
        ).full_name
        return Done("dossier", "referent", f"Dossier confié à {name}.")

    return _act(request, session, user, case_id, form, "referent", "dossier", perform)


@router.post("/{case_id}/close")
def close(
    request: Request, session: SessionDep, user: CaseWorker, case_id: RowId, form: SubmittedForm
):
    def perform(form):
        close_case(session=session, actor=user, case_id=case_id, data=parse_form(CaseClose, form))
        return Done("dossier", "close", "Dossier clos.")

    return _act(request, session, user, case_id, form, "close", "dossier", perform)


@router.post("/{case_id}/reopen")
def reopen(
    request: Request, session: SessionDep, user: CaseWorker, case_id: RowId, form: SubmittedForm
):
    # Offered in the history and in « Dossier »: the answer comes back where it was asked.
    section = "historique" if form.get("section") == "historique" else "dossier"

    def perform(_form):
        reopen_case(session=session, actor=user, case_id=case_id)
        return Done(section, "reopen", "Dossier rouvert.")

    return _act(request, session, user, case_id, form, "reopen", section, perform)
