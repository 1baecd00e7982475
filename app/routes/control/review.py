"""The review of an official campaign: the controller's verdict on each unit and the closing
(after a confirmation page), the operator's one answer to a non-conform finding."""

from fastapi import BackgroundTasks, Request
from fastapi.responses import RedirectResponse

from app.core.errors import Invalid
from app.models.base import utcnow
from app.models.bounds import RowId
from app.models.control import FindingAnswer, FindingReason, UnitReview, Verdict
from app.routes.control.campaigns import build_soon
from app.services.admin.operators import time_zone_of
from app.services.control.review import (
    answer_finding,
    case_references,
    closable_campaign,
    close_campaign,
    controller_unit,
    operator_finding,
    review_unit,
    reviewable,
)
from app.web.deps import CaseWorker, Controller, SessionDep, SubmittedForm
from app.web.forms import parse_form
from app.web.rendering import render
from app.web.routing import new_router

router = new_router(include_in_schema=False)

CONTROLLER_PAGE = "/controle/campagnes/{campaign_id}"
OPERATOR_PAGE = "/rapports/controles/{campaign_id}"


@router.get(CONTROLLER_PAGE + "/unites/{episode_id}")
def unit_page(
    request: Request, session: SessionDep, user: Controller, campaign_id: RowId, episode_id: RowId
):
    """A sampled unit's verdict, and the form to give or revise it while it may be."""
    return _unit_page(request, session, user, campaign_id, episode_id)


def _unit_page(request, session, user, campaign_id, episode_id, *, form=None, errors=None):
    campaign, unit, finding = controller_unit(
        session=session, actor=user, campaign_id=campaign_id, episode_id=episode_id
    )
    if form is None and finding is not None:
        form = {
            "verdict": finding.verdict,
            "reason": finding.reason or "",
            "reason_text": finding.reason_text,
            "comment": finding.comment,
        }
    editable = reviewable(session, campaign, utcnow()) and (
        finding is None or finding.answer is None
    )
    context = {
        "campaign": campaign,
        "episode_id": episode_id,
        "unit": unit,
        "finding": finding,
        "editable": editable,
        "time_zone": time_zone_of(session=session, operator_id=campaign.operator_id),
        "verdicts": [(verdict.value, verdict.label) for verdict in Verdict],
        "reasons": [(reason.value, reason.label) for reason in FindingReason],
        "form": form or {},
        "errors": errors or {},
    }
    status_code = 422 if errors else 200
    return render(request, "control/review/unit.html", context, status_code=status_code)


@router.post(CONTROLLER_PAGE + "/unites/{episode_id}")
def review(
    request: Request,
    session: SessionDep,
    user: Controller,
    campaign_id: RowId,
    episode_id: RowId,
    form: SubmittedForm,
):
    form = dict(form.items())
    try:
        verdict = parse_form(UnitReview, form)
    except Invalid as exc:
        return _unit_page(
            request, session, user, campaign_id, episode_id, form=form, errors=exc.fields
        )
    review_unit(
        session=session, actor=user, campaign_id=campaign_id, episode_id=episode_id, review=verdict
    )
    return RedirectResponse(f"/controle/campagnes/{campaign_id}#unites", status_code=303)


@router.get(CONTROLLER_PAGE + "/clore")
def close_confirmation(request: Request, session: SessionDep, user: Controller, campaign_id: RowId):
    summary = closable_campaign(session=session, actor=user, campaign_id=campaign_id)
    time_zone = time_zone_of(session=session, operator_id=summary.campaign.operator_id)
    context = {"summary": summary, "time_zone": time_zone}
    return render(request, "control/review/close.html", context)


@router.post(CONTROLLER_PAGE + "/clore")
def close(
    session: SessionDep,
    user: Controller,
    campaign_id: RowId,
    background: BackgroundTasks,
    form: SubmittedForm,
):
    campaign = close_campaign(session=session, actor=user, campaign_id=campaign_id)
    build_soon(background, session, campaign)
    return RedirectResponse(f"/controle/campagnes/{campaign_id}", status_code=303)


@router.get(OPERATOR_PAGE + "/unites/{episode_id}/reponse")
def answer_page(
    request: Request, session: SessionDep, user: CaseWorker, campaign_id: RowId, episode_id: RowId
):
    """A finding on one of the operator's units, and the form to answer it once."""
    return _answer_page(request, session, user, campaign_id, episode_id)


def _answer_page(request, session, user, campaign_id, episode_id, *, form=None, errors=None):
    campaign, finding = operator_finding(
        session=session, actor=user, campaign_id=campaign_id, episode_id=episode_id
    )
    context = {
        "campaign": campaign,
        "finding": finding,
        "case_reference": case_references(session, [finding.episode_id])[finding.episode_id],
        "answerable": not campaign.closed and not finding.conform and finding.answer is None,
        "time_zone": time_zone_of(session=session, operator_id=campaign.operator_id),
        "form": form or {},
        "errors": errors or {},
    }
    status_code = 422 if errors else 200
    return render(request, "control/review/answer.html", context, status_code=status_code)


@router.post(OPERATOR_PAGE + "/unites/{episode_id}/reponse")
def answer(
    request: Request,
    session: SessionDep,
    user: CaseWorker,
    campaign_id: RowId,
    episode_id: RowId,
    form: SubmittedForm,
):
    form = dict(form.items())
    try:
        given = parse_form(FindingAnswer, form)
    except Invalid as exc:
        return _answer_page(
            request, session, user, campaign_id, episode_id, form=form, errors=exc.fields
        )
    answer_finding(
        session=session, actor=user, campaign_id=campaign_id, episode_id=episode_id, answer=given
    )
    return RedirectResponse(f"/rapports/controles/{campaign_id}#unites", status_code=303)
