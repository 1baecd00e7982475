"""Control campaigns: draw a sample, follow its proof pack being built, download it (the API is
in app/routes/control/api.py)."""

import logging

from fastapi import BackgroundTasks, Request
from fastapi.responses import RedirectResponse, StreamingResponse

from app.core.errors import Invalid
from app.models.bounds import RowId
from app.models.control import CampaignCreate, ControlCampaign
from app.services.audit import accesses
from app.services.control.campaigns import (
    campaign_list,
    campaign_view,
    create_campaign,
    pack_filename,
    ready_pack,
    requeue_campaign,
)
from app.services.control.proof_pack import Bind, build_campaign_pack
from app.services.control.review import (
    awaiting_answer,
    case_references,
    findings_of,
    review_summary,
)
from app.web.deps import CaseWorker, SessionDep, SubmittedForm
from app.web.export_purpose import export_reason
from app.web.exports import stored_zip_download
from app.web.forms import parse_form
from app.web.rendering import render
from app.web.routing import new_router

router = new_router(include_in_schema=False)
log = logging.getLogger(__name__)

PAGE = "/rapports/controles"


def build_soon(background: BackgroundTasks, session, campaign: ControlCampaign) -> None:
    """Commit now, then start the pack as soon as the answer is sent; the worker would pick it
    up otherwise (the claim makes sure only one of them builds it)."""
    session.commit()  # the builder reads the campaign on a connection of its own
    background.add_task(_build, session.get_bind(), campaign.id)


def _build(bind: Bind, campaign_id: int) -> None:
    try:
        build_campaign_pack(bind, campaign_id)
    except Exception:  # recorded on the campaign as failed; the page shows it
        log.exception("Proof pack of campaign %s failed", campaign_id)


# ---- pages -----------------------------------------------------------------------------------


@router.get(PAGE)
def campaigns_page(request: Request, session: SessionDep, user: CaseWorker):
    """Recent campaigns, and the form to draw one (last month by default)."""
    return _campaigns_page(request, session, user)


def _campaigns_page(request, session, user, *, form=None, errors=None, status_code=200):
    found = campaign_list(session=session, actor=user)
    awaiting = awaiting_answer(session=session, actor=user)
    if form is None:
        start, end = found.last_month
        form = {"du": start.isoformat(), "au": end.isoformat(), "sample_size": "100"}
    context = {
        "time_zone": found.time_zone,
        "official": found.official,
        "awaiting": awaiting,
        "case_references": case_references(session, [f.episode_id for f in awaiting]),
        "campaigns": found.campaigns,
        "form": form,
        "errors": errors or {},
    }
    return render(request, "control/campaigns/campaigns.html", context, status_code=status_code)


@router.post(PAGE)
def draw_page(
    request: Request,
    session: SessionDep,
    user: CaseWorker,
    background: BackgroundTasks,
    form: SubmittedForm,
):
    form = dict(form.items())
    try:
        request_data = parse_form(CampaignCreate, form)
        campaign = create_campaign(session=session, actor=user, request=request_data)
    except Invalid as exc:
        return _campaigns_page(
            request, session, user, form=form, errors=exc.fields, status_code=422
        )
    build_soon(background, session, campaign)
    return RedirectResponse(f"{PAGE}/{campaign.id}", status_code=303)


@router.get(PAGE + "/{campaign_id}")
def campaign_page(request: Request, session: SessionDep, user: CaseWorker, campaign_id: RowId):
    view = campaign_view(session=session, actor=user, campaign_id=campaign_id)
    context = {
        "campaign": view.campaign,
        "units": view.units,
        "time_zone": view.time_zone,
        "seed_basis": view.seed_basis,
        "proofs": view.proofs,
        "history": view.history,
        "days_left": view.days_left,
    }
    if view.campaign.official:
        context["findings"] = findings_of(session, view.campaign.id)
        context["summary"] = review_summary(session, view.campaign)
    return render(request, "control/campaigns/campaign.html", context)


@router.get(PAGE + "/{campaign_id}/progression")
def campaign_progress(request: Request, session: SessionDep, user: CaseWorker, campaign_id: RowId):
    """The progress panel alone, polled by the page while the pack is being built."""
    view = campaign_view(session=session, actor=user, campaign_id=campaign_id, with_units=False)
    context = {"campaign": view.campaign, "time_zone": view.time_zone}
    return render(request, "control/campaigns/_partials/progress.html", context)


@router.post(PAGE + "/{campaign_id}/relancer")
def retry_page(
    session: SessionDep, user: CaseWorker, campaign_id: RowId, background: BackgroundTasks
):
    campaign = requeue_campaign(session=session, actor=user, campaign_id=campaign_id)
    build_soon(background, session, campaign)
    return RedirectResponse(f"{PAGE}/{campaign.id}", status_code=303)


@router.get(PAGE + "/{campaign_id}/dossier-de-preuves.zip")
def pack_download(request: Request, session: SessionDep, user: CaseWorker, campaign_id: RowId):
    campaign = ready_pack(session=session, actor=user, campaign_id=campaign_id)
    purpose = export_reason(request)  # once the reader is known to be allowed
    accesses.exported(
        session, actor=user, record_type="proof_pack", record_id=campaign.id, purpose=purpose
    )
    return pack_response(campaign)


def pack_response(campaign: ControlCampaign) -> StreamingResponse:
    return stored_zip_download(
        campaign.pack_key,
        filename=pack_filename(campaign),
        size=campaign.pack_size,
        sha256=campaign.pack_sha256,
        gone="Le dossier de preuves n'est plus disponible : relancez-le.",
    )
