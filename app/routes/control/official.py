"""France compétences' control pages: the controller's campaigns, opening one on an operator,
a campaign's published record, its population and its proof pack."""

from fastapi import BackgroundTasks, Request
from fastapi.responses import PlainTextResponse, RedirectResponse

from app.core.errors import Invalid
from app.models.base import utcnow
from app.models.bounds import RowId
from app.models.control import OfficialCampaignCreate
from app.routes.control.campaigns import build_soon, pack_response
from app.services.audit import accesses
from app.services.control.official import (
    controller_campaign,
    controller_pack,
    official_campaign_view,
    official_campaigns,
    open_official_campaign,
)
from app.services.control.review import findings_of, review_summary, reviewable
from app.web.deps import Controller, SessionDep, SubmittedForm
from app.web.export_purpose import export_reason
from app.web.forms import parse_form
from app.web.rendering import render
from app.web.routing import new_router

router = new_router(include_in_schema=False)

PAGE = "/controle/campagnes"


@router.get(PAGE)
def official_campaigns_page(request: Request, session: SessionDep, user: Controller):
    """The controller's campaigns, and the form to open one (last month by default)."""
    return _campaigns_page(request, session, user)


def _campaigns_page(request, session, user, *, form=None, errors=None, status_code=200):
    found = official_campaigns(session=session, actor=user)
    if form is None:
        start, end = found.last_month
        form = {
            "du": start.isoformat(),
            "au": end.isoformat(),
            "sample_size": "100",
            "echeance": found.default_deadline.isoformat(),
        }
    context = {
        "campaigns": found.campaigns,
        "operator_choices": [(operator.id, operator.name) for operator in found.operators],
        "form": form,
        "errors": errors or {},
    }
    return render(request, "control/official/campaigns.html", context, status_code=status_code)


@router.post(PAGE)
def open_campaign_page(
    request: Request,
    session: SessionDep,
    user: Controller,
    background: BackgroundTasks,
    form: SubmittedForm,
):
    form = dict(form.items())
    try:
        request_data = parse_form(OfficialCampaignCreate, form)
        campaign = open_official_campaign(session=session, actor=user, request=request_data)
    except Invalid as exc:
        return _campaigns_page(
            request, session, user, form=form, errors=exc.fields, status_code=422
        )
    build_soon(background, session, campaign)
    return RedirectResponse(f"{PAGE}/{campaign.id}", status_code=303)


@router.get(PAGE + "/{campaign_id}")
def official_campaign_page(
    request: Request, session: SessionDep, user: Controller, campaign_id: RowId
):
    view = official_campaign_view(session=session, actor=user, campaign_id=campaign_id)
    context = {
        "campaign": view.campaign,
        "operator": view.operator,
        "drawn_ids": view.drawn_ids,
        "seed_basis": view.seed_basis,
        "history": view.history,
        "days_left": view.days_left,
        "findings": findings_of(session, view.campaign.id),
        "summary": review_summary(session, view.campaign),
        "reviewable": reviewable(session, view.campaign, utcnow()),
    }
    return render(request, "control/official/campaign.html", context)


@router.get(PAGE + "/{campaign_id}/population.txt")
def population_download(session: SessionDep, user: Controller, campaign_id: RowId):
    """The ids of the units drawn from, one per line, ascending: what a re-draw starts from."""
    campaign = controller_campaign(session=session, actor=user, campaign_id=campaign_id)
    body = "\n".join((campaign.population_ids or "").split()) + "\n"
    disposition = f'attachment; filename="population-controle-{campaign.id}.txt"'
    return PlainTextResponse(body, headers={"Content-Disposition": disposition})


@router.get(PAGE + "/{campaign_id}/dossier-de-preuves.zip")
def official_pack_download(
    request: Request, session: SessionDep, user: Controller, campaign_id: RowId
):
    campaign = controller_pack(session=session, actor=user, campaign_id=campaign_id)
    purpose = export_reason(request)  # once the reader is known to be allowed
    accesses.exported(
        session,
        actor=user,
        record_type="proof_pack",
        record_id=campaign.id,
        operator_id=campaign.operator_id,
        purpose=purpose,
    )
    return pack_response(campaign)
