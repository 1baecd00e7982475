"""Referrals: the case's « Orientations » section (htmx fragment or plain posts), the
partner's pages reached from the e-mailed link (no account), and the /api/v1 endpoints."""

from typing import NamedTuple

from fastapi import Request
from fastapi.responses import RedirectResponse

from app.core.errors import Conflict, Invalid
from app.models.bounds import RowId
from app.models.partners import (
    PartnerDecision,
    PartnerOutcomeReport,
    ReferralCreate,
    ReferralPublic,
    ReferralStatus,
    ReferralTransition,
)
from app.services.referrals import views
from app.services.referrals.partner_side import (
    InvalidLink,
    LinkUsed,
    open_partner_link,
    partner_decides,
    partner_reports_outcome,
)
from app.services.referrals.workflow import (
    change_status,
    get_referral,
    propose_referral,
    send_referral,
)
from app.web.api_errors import API_ERRORS, CONFLICT
from app.web.deps import ApiCaseWorker, CaseWorker, SessionDep, SubmittedForm
from app.web.forms import form_errors, parse_form
from app.web.rendering import is_htmx, render
from app.web.routing import new_router

pages = new_router(include_in_schema=False)
partner_pages = new_router(prefix="/partenaire/orientations", include_in_schema=False)
api = new_router(prefix="/api/v1", tags=["orientations"], responses=API_ERRORS)

FRAGMENT = "referrals/referrals/_partials/case_referrals.html"


class Done(NamedTuple):
    """What an action did, for the section's confirmation: where it is said (« new », the
    proposal form, or the referral's « ref-<id> »), the referral, what happened (a status, or
    « emailed ») and to whom an e-mail went."""

    at: str
    referral_id: int
    what: str
    recipient: str = ""


# ---- the case section ---------------------------------------------------------------------


def _section(request, session, user, case_id, **context):
    """The section for htmx; a page of its own otherwise (a plain form with errors)."""
    panel = views.referral_panel(session=session, actor=user, case_id=case_id)
    return render(
        request,
        "referrals/referrals/page.html",
        {
            "referral_panel": panel,
            "referral_swapped": is_htmx(request) and request.method == "POST",
            **context,
        },
        fragment=FRAGMENT,
    )


def _act(request, form, session, user, case_id, form_id: str, perform):
    """Run one action (its service writes all or nothing): bad input re-renders the section."""
    try:
        done = perform(form)
    except (Invalid, Conflict) as exc:
        errors = form_errors(exc)
        return _section(
            request,
            session,
            user,
            case_id,
            referral_action=form_id,
            referral_form=dict(form),
            referral_errors=errors,
        )
    if is_htmx(request):
        return _section(request, session, user, case_id, referral_done=done)
    return RedirectResponse(f"/cases/{case_id}?section=orientations#orientations", status_code=303)


@pages.get("/cases/{case_id}/referrals")
def section_page(request: Request, session: SessionDep, user: CaseWorker, case_id: RowId):
    return _section(request, session, user, case_id)


@pages.post("/cases/{case_id}/referrals")
def propose(
    request: Request, session: SessionDep, user: CaseWorker, case_id: RowId, form: SubmittedForm
):
    def perform(form):
        data = parse_form(ReferralCreate, form)
        referral = propose_referral(session=session, actor=user, case_id=case_id, data=data)
        what = ReferralStatus.SENT if data.send_now else ReferralStatus.PROPOSED
        return Done("new", referral.id, what.value)

    return _act(request, form, session, user, case_id, "new", perform)


@pages.post("/referrals/{referral_id}/send")
def send(
    request: Request, session: SessionDep, user: CaseWorker, referral_id: RowId, form: SubmittedForm
):
    referral = get_referral(session=session, actor=user, referral_id=referral_id)

    def perform(_form):
        message = send_referral(session=session, actor=user, referral_id=referral_id)
        return Done(f"ref-{referral_id}", referral_id, "emailed", message.recipient)

    return _act(request, form, session, user, referral.case_id, f"ref-{referral_id}", perform)


@pages.post("/referrals/{referral_id}/status")
def status(
    request: Request, session: SessionDep, user: CaseWorker, referral_id: RowId, form: SubmittedForm
):
    referral = get_referral(session=session, actor=user, referral_id=referral_id)
    target = form.get("to")
    known = target in {s.value for s in ReferralStatus}
    form_id = f"ref-{referral_id}-{target}" if known else f"ref-{referral_id}"

    def perform(form):
        data = parse_form(ReferralTransition, form)
        change_status(session=session, actor=user, referral_id=referral_id, data=data)
        return Done(f"ref-{referral_id}", referral_id, data.to.value)

    return _act(request, form, session, user, referral.case_id, form_id, perform)


# ---- the partner's pages ------------------------------------------------------------------


def _private(response):
    # The token is in the address: keep it out of Referer headers sent to other sites.
    response.headers["Referrer-Policy"] = "no-referrer"
    response.headers["X-Robots-Tag"] = "noindex"
    return response


def _partner_page(request, session, token, *, link=None, status_code=200, **context):
    try:
        link = link or open_partner_link(session=session, token=token)
    except InvalidLink as exc:
        return _private(
            render(
                request,
                "errors/error.html",
                {"status": 404, "message": exc.message},
                status_code=404,
            )
        )
    context = {"link": link, "token": token, **context}
    return _private(
        render(request, "referrals/referrals/partner.html", context, status_code=status_code)
    )


def _answer(request, form, session, token, schema, perform):
    """Parse and act (all or nothing); a used link or bad input shows the page again."""
    try:
        link, answered = perform(parse_form(schema, form))
    except LinkUsed:
        return _partner_page(request, session, token, status_code=409)
    except Invalid as exc:
        return _partner_page(
            request, session, token, status_code=422, errors=exc.fields, form=dict(form)
        )
    except InvalidLink:
        return _partner_page(request, session, token)
    return _partner_page(request, session, token, link=link, answered_now=answered)


@partner_pages.get("/{token}")
def partner_page(request: Request, session: SessionDep, token: str):
    return _partner_page(request, session, token)


@partner_pages.post("/{token}/decision")
def decision(request: Request, session: SessionDep, token: str, form: SubmittedForm):
    def perform(data: PartnerDecision):
        accept = data.decision == "accept"
        link = partner_decides(session=session, token=token, accept=accept, reason=data.reason)
        return link, ReferralStatus.ACCEPTED if accept else ReferralStatus.DECLINED

    return _answer(request, form, session, token, PartnerDecision, perform)


@partner_pages.post("/{token}/issue")
def issue(request: Request, session: SessionDep, token: str, form: SubmittedForm):
    def perform(data: PartnerOutcomeReport):
        link = partner_reports_outcome(
            session=session,
            token=token,
            outcome=data.outcome,
            note=data.note,
            in_progress_only=data.in_progress,
        )
        return link, ReferralStatus.IN_PROGRESS if data.in_progress else ReferralStatus.COMPLETED

    return _answer(request, form, session, token, PartnerOutcomeReport, perform)


# ---- API ----------------------------------------------------------------------------------


def _public(row: views.ReferralRow) -> ReferralPublic:
    return ReferralPublic.model_validate(
        {
            **row.referral.model_dump(),
            "partner_name": row.partner.name,
            "partner_type": row.partner.type,
            "events": [e.model_dump() for e in row.events],
        }
    )


def _detail(session, user, referral_id: int) -> ReferralPublic:
    return _public(views.referral_detail(session=session, actor=user, referral_id=referral_id))


@api.get("/cases/{case_id}/referrals", response_model=list[ReferralPublic])
def api_list(session: SessionDep, user: ApiCaseWorker, case_id: RowId):
    """The case's referrals, newest first, each with its status history."""
    rows = views.referrals_of_case(session=session, actor=user, case_id=case_id)
    return [_public(row) for row in rows]


@api.post(
    "/cases/{case_id}/referrals", response_model=ReferralPublic, status_code=201, responses=CONFLICT
)
def api_propose(session: SessionDep, user: ApiCaseWorker, case_id: RowId, data: ReferralCreate):
    """Propose a referral the person agreed to (`consent`); `send_now` e-mails the partner."""
    referral = propose_referral(session=session, actor=user, case_id=case_id, data=data)
    return _detail(session, user, referral.id)


@api.get("/referrals/{referral_id}", response_model=ReferralPublic)
def api_get(session: SessionDep, user: ApiCaseWorker, referral_id: RowId):
    """One referral with its status history."""
    return _detail(session, user, referral_id)


@api.post("/referrals/{referral_id}/send", response_model=ReferralPublic, responses=CONFLICT)
def api_send(session: SessionDep, user: ApiCaseWorker, referral_id: RowId):
    """E-mail the partner a single-use link to accept or decline (proposed or expired only)."""
    send_referral(session=session, actor=user, referral_id=referral_id)
    return _detail(session, user, referral_id)


@api.post("/referrals/{referral_id}/transitions", response_model=ReferralPublic, responses=CONFLICT)
def api_transition(
    session: SessionDep, user: ApiCaseWorker, referral_id: RowId, data: ReferralTransition
):
    """Move the referral: `sent` (sent without e-mail), `accepted`, `declined` (with `reason`),
    `in_progress`, `completed` (with `outcome`, optional `note`) or `abandoned`."""
    change_status(session=session, actor=user, referral_id=referral_id, data=data)
    return _detail(session, user, referral_id)


router = new_router()
for _router in (pages, partner_pages, api):
    router.include_router(_router)
