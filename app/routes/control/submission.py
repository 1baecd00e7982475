"""The operator's side of an official campaign: record the proofs added since the opening,
submit the pack (after a confirmation page), download the history."""

from fastapi import BackgroundTasks, Request
from fastapi.responses import RedirectResponse

from app.models.bounds import RowId
from app.routes.control.campaigns import PAGE, build_soon
from app.services.audit import accesses
from app.services.control.history import history_table
from app.services.control.official import controller_history
from app.services.control.submission import (
    check_added_proofs,
    operator_history,
    submit_campaign,
    submittable_campaign,
)
from app.web.deps import CaseWorker, Controller, SessionDep, SubmittedForm
from app.web.export_purpose import export_reason
from app.web.exports import table_response
from app.web.rendering import render
from app.web.routing import new_router

router = new_router(include_in_schema=False)


@router.post(PAGE + "/{campaign_id}/verifier-preuves")
def check_proofs(session: SessionDep, user: CaseWorker, campaign_id: RowId, form: SubmittedForm):
    check_added_proofs(session=session, actor=user, campaign_id=campaign_id)
    return RedirectResponse(f"{PAGE}/{campaign_id}#historique", status_code=303)


@router.get(PAGE + "/{campaign_id}/soumettre")
def submit_confirmation(
    request: Request, session: SessionDep, user: CaseWorker, campaign_id: RowId
):
    """« Soumettre le dossier »: what submitting means, and the button that does it."""
    found = submittable_campaign(session=session, actor=user, campaign_id=campaign_id)
    context = {
        "campaign": found.campaign,
        "time_zone": found.time_zone,
        "days_left": found.days_left,
    }
    return render(request, "control/campaigns/submit.html", context)


@router.post(PAGE + "/{campaign_id}/soumettre")
def submit(
    session: SessionDep,
    user: CaseWorker,
    campaign_id: RowId,
    background: BackgroundTasks,
    form: SubmittedForm,
):
    campaign = submit_campaign(session=session, actor=user, campaign_id=campaign_id)
    build_soon(background, session, campaign)
    return RedirectResponse(f"{PAGE}/{campaign.id}", status_code=303)


# The history names the cases of the units drawn: an export of personal data, with a purpose
# (asked once the reader is known to be allowed: others get their 403 or 404, not the form).
@router.get(PAGE + "/{campaign_id}/historique.csv")
def operator_history_csv(
    request: Request, session: SessionDep, user: CaseWorker, campaign_id: RowId
):
    campaign, lines, time_zone = operator_history(
        session=session, actor=user, campaign_id=campaign_id
    )
    _history_exported(session, user, campaign, export_reason(request))
    return table_response(history_table(campaign, lines, time_zone), "csv")


@router.get("/controle/campagnes/{campaign_id}/historique.csv")
def controller_history_csv(
    request: Request, session: SessionDep, user: Controller, campaign_id: RowId
):
    campaign, lines, time_zone = controller_history(
        session=session, actor=user, campaign_id=campaign_id
    )
    _history_exported(session, user, campaign, export_reason(request))
    return table_response(history_table(campaign, lines, time_zone), "csv")


def _history_exported(session, user, campaign, purpose: str) -> None:
    accesses.exported(
        session,
        actor=user,
        record_type="control_history",
        record_id=campaign.id,
        operator_id=campaign.operator_id,
        purpose=purpose,
    )
