"""The control campaigns' JSON API (`/api/v1/control-campaigns…`), for both parties: France
compétences' controller opens official campaigns, reads those it opened, judges each sampled
unit and closes; the operator's managers and administrators read the campaigns on their
operator, draw self-checks, record the proofs added, submit and answer a non-conform finding.
It calls the services the pages call (app/services/control/parties.py sends each read to the
party's own); anything not the caller's is 404."""

from typing import Annotated

from fastapi import BackgroundTasks, Query
from fastapi.responses import JSONResponse, StreamingResponse
from pydantic import BaseModel, Field

from app.models.bounds import Limit, Offset, RowId
from app.models.control import (
    CampaignCreate,
    CampaignEventPublic,
    CampaignKind,
    CampaignPopulation,
    CampaignPublic,
    ControlCampaign,
    ControlFinding,
    DrawnUnits,
    FindingAnswer,
    FindingPublic,
    OfficialCampaignCreate,
    ReviewSummaryPublic,
    UnitReview,
)
from app.routes.control.campaigns import build_soon, pack_response
from app.services.audit import accesses
from app.services.control import parties
from app.services.control.campaigns import (
    create_campaign,
    drawn_ids,
    population_ids_of,
    seed_basis_of,
)
from app.services.control.official import open_official_campaign
from app.services.control.proofs import ProofState
from app.services.control.review import ReviewSummary, answer_finding, close_campaign, review_unit
from app.services.control.submission import (
    SampledUnit,
    check_added_proofs,
    sample_with_proofs,
    submit_campaign,
)
from app.web.api_errors import API_ERRORS, CONFLICT, DOWNLOAD, refusal
from app.web.deps import ApiCaseWorker, ApiStaff, SessionDep
from app.web.export_purpose import PurposeDetailParam, PurposeParam, api_export_reason
from app.web.routing import new_router

api_router = new_router(prefix="/api/v1", tags=["contrôles"], responses=API_ERRORS)

CAMPAIGNS = "/control-campaigns"
ONE = CAMPAIGNS + "/{campaign_id}"
# Two levels down: one level down would share its address with GET `ONE`, whose Allow header
# would then name a GET that `/official` does not have.
OPEN_OFFICIAL = CAMPAIGNS + "/official/open"
LOCATION = {
    "description": "L'adresse de la campagne, à relire jusqu'à ce que son `status` soit `ready`",
    "required": True,
    "schema": {"type": "string", "pattern": "^/api/v1/control-campaigns/[0-9]+$"},
}
PARTIES = (
    "\n\nThe controller reads the official campaigns it opened; the operator's managers and "
    "administrators read the campaigns on their operator. Any other campaign is 404."
)
CONTROLLER_ONLY = (
    "\n\nThe controller whose team opened the campaign only (another controller or an unknown "
    "id is 404; any other role 403)."
)
OPERATOR_ONLY = (
    "\n\nThe operator's managers and administrators only (a counsellor is 403; a controller, "
    "another operator or an unknown id 404)."
)


# ---- response models that need the services' enums -------------------------------------------


class ProofPublic(BaseModel):
    """One proof a unit requires, and how far it is."""

    kind_id: int
    kind: str = Field(description="The kind of deliverable, as the operator names it")
    state: ProofState
    deliverable_id: int | None = Field(description="The deliverable that proves it, if any")


class SampledUnitPublic(BaseModel):
    """A unit of the sample and its proofs now: complete, or which are missing or awaited."""

    position: int = Field(description="Its place in the draw, from 1")
    unit_id: int
    case_id: int
    case_reference: str
    unit_code: str
    complete: bool
    proofs: list[ProofPublic]


class ProofsRecorded(BaseModel):
    recorded: int = Field(description="How many proofs added since the opening were recorded now")


def _public(campaign: ControlCampaign) -> CampaignPublic:
    public = CampaignPublic.model_validate(campaign, from_attributes=True)
    public.seed_basis = seed_basis_of(campaign)
    return public


def _created(campaign: ControlCampaign, status_code: int) -> JSONResponse:
    location = {"Location": f"/api/v1/control-campaigns/{campaign.id}"}
    return JSONResponse(_public(campaign).model_dump(mode="json"), status_code, headers=location)


def _unit(unit: SampledUnit) -> SampledUnitPublic:
    return SampledUnitPublic(
        position=unit.position,
        unit_id=unit.episode.id,
        case_id=unit.episode.case_id,
        case_reference=unit.case_reference,
        unit_code=unit.unit_code,
        complete=unit.proofs.complete,
        proofs=[
            ProofPublic(
                kind_id=item.kind.id,
                kind=item.kind.label,
                state=item.state,
                deliverable_id=item.deliverable_id,
            )
            for item in unit.proofs.items
        ],
    )


def _finding(finding: ControlFinding) -> FindingPublic:
    return FindingPublic(
        unit_id=finding.episode_id,
        verdict=finding.verdict,
        reason=finding.reason,
        reason_label=finding.reason_label,
        comment=finding.comment,
        amount=finding.amount,
        reviewed_at=finding.reviewed_at,
        answer=finding.answer,
        answered_at=finding.answered_at,
    )


def _summary(summary: ReviewSummary) -> ReviewSummaryPublic:
    return ReviewSummaryPublic(
        phase=summary.campaign.phase,
        drawn=summary.drawn,
        reviewed=summary.reviewed,
        conform=summary.conform,
        non_conform=summary.non_conform,
        conformity_rate=summary.conformity_rate,
        non_conform_amount=summary.non_conform_amount,
        sample_amount=summary.sample_amount,
        unpriced=summary.unpriced,
    )


# ---- both parties ----------------------------------------------------------------------------


@api_router.get(
    CAMPAIGNS,
    response_model=list[CampaignPublic],
    summary="List control campaigns",
    description="Latest first. The controller gets the official campaigns it opened; the "
    "operator's managers and administrators get the campaigns on their operator, official ones "
    "and self-checks (`kind`).",
)
def get_campaigns(
    session: SessionDep,
    user: ApiStaff,
    kind: Annotated[CampaignKind | None, Query()] = None,
    offset: Offset = 0,
    limit: Limit = 50,
):
    found = parties.campaigns_for(
        session=session, actor=user, kind=kind, offset=offset, limit=limit
    )
    return [_public(campaign) for campaign in found]


@api_router.get(
    ONE,
    response_model=CampaignPublic,
    summary="Read a control campaign",
    description="The campaign as drawn (seed, `seed_basis`, public value, `population`, "
    "`drawn`), its deadline and `phase`, and its proof pack's `status` and `progress` (0 to 1)."
    + PARTIES,
)
def get_one_campaign(session: SessionDep, user: ApiStaff, campaign_id: RowId):
    return _public(parties.campaign_for(session=session, actor=user, campaign_id=campaign_id))


@api_router.get(
    ONE + "/drawn-units",
    response_model=DrawnUnits,
    summary="List the units drawn",
    description="The ids of the units drawn, in the order of the draw." + PARTIES,
)
def get_drawn_units(session: SessionDep, user: ApiStaff, campaign_id: RowId):
    campaign = parties.campaign_for(session=session, actor=user, campaign_id=campaign_id)
    return DrawnUnits(seed=campaign.seed, unit_ids=drawn_ids(session, campaign.id))


@api_router.get(
    ONE + "/population",
    response_model=CampaignPopulation,
    summary="List the units drawn from",
    description="The ids of the units the sample was drawn from, ascending: with the seed, "
    "what a third party needs to draw it again (README, « Refaire un tirage »)." + PARTIES,
)
def get_population(session: SessionDep, user: ApiStaff, campaign_id: RowId):
    campaign = parties.campaign_for(session=session, actor=user, campaign_id=campaign_id)
    return CampaignPopulation(population=campaign.population, unit_ids=population_ids_of(campaign))


@api_router.get(
    ONE + "/history",
    response_model=list[CampaignEventPublic],
    summary="Read an official campaign's history",
    description="Every step (opened, drawn, proof added, submitted…) in the order it happened, "
    "with its time and author; recorded once and never changed. A self-check has none (404)."
    + PARTIES,
)
def get_history(session: SessionDep, user: ApiStaff, campaign_id: RowId):
    lines = parties.history_for(session=session, actor=user, campaign_id=campaign_id)
    return [
        CampaignEventPublic(
            kind=line.event.kind,
            label=line.event.kind_label,
            at=line.event.at,
            author=line.author if line.event.author_id is not None else None,
            unit_id=line.event.episode_id,
            case_reference=line.case_reference,
            detail=line.event.detail,
        )
        for line in lines
    ]


@api_router.get(
    ONE + "/proof-pack",
    response_class=StreamingResponse,
    responses={
        200: {
            "content": {"application/zip": {"schema": {"type": "string", "format": "binary"}}},
            "headers": {"Content-Disposition": DOWNLOAD},
        },
        409: refusal("Pas encore prêt"),
    },
    summary="Download the proof pack",
    description="The ZIP once `status` is `ready` (409 before); its SHA-256 is the campaign's "
    "`pack_sha256`. It holds people's documents: `purpose` (with `purpose_detail` for `autre`) "
    "says why it is downloaded, and is kept in the operator's audit trail." + PARTIES,
)
def get_proof_pack(
    session: SessionDep,
    user: ApiStaff,
    campaign_id: RowId,
    purpose: PurposeParam,
    purpose_detail: PurposeDetailParam = "",
):
    reason = api_export_reason(purpose, purpose_detail)
    campaign = parties.pack_for(session=session, actor=user, campaign_id=campaign_id)
    accesses.exported(
        session,
        actor=user,
        record_type="proof_pack",
        record_id=campaign.id,
        operator_id=campaign.operator_id,
        purpose=reason,
    )
    return pack_response(campaign)


@api_router.get(
    ONE + "/findings",
    response_model=list[FindingPublic],
    summary="List an official campaign's findings",
    description="The controller's verdict on each unit reviewed so far, in the order of the "
    "draw, with its amount at the market's prices and the operator's answer if any. A "
    "self-check has none (404)." + PARTIES,
)
def get_findings(session: SessionDep, user: ApiStaff, campaign_id: RowId):
    findings = parties.findings_for(session=session, actor=user, campaign_id=campaign_id)
    return [_finding(finding) for finding in findings]


@api_router.get(
    ONE + "/summary",
    response_model=ReviewSummaryPublic,
    summary="Summarise an official campaign's review",
    description="Units reviewed of those drawn, the conformity rate, and the amounts at the "
    "market's prices (the ledger's): of the non-conform units and of the whole sample. A "
    "self-check has none (404)." + PARTIES,
)
def get_summary(session: SessionDep, user: ApiStaff, campaign_id: RowId):
    return _summary(parties.summary_for(session=session, actor=user, campaign_id=campaign_id))


# ---- the controller --------------------------------------------------------------------------


@api_router.post(
    OPEN_OFFICIAL,
    response_model=CampaignPublic,
    status_code=201,
    responses={201: {"headers": {"Location": LOCATION}}},
    summary="Open an official campaign",
    description="France compétences' controllers only (403 otherwise). Draws now, among the "
    "operator's billable units ended between `from` and `to`, `sample_size` units or "
    "`sample_rate` percent, with a seed derived from the opening's time and `public_value` "
    "(published as `seed_basis`); `deadline` defaults to 30 days on. 201 with the campaign; "
    "its proof pack is built next.",
)
def post_official_campaign(
    session: SessionDep, user: ApiStaff, data: OfficialCampaignCreate, background: BackgroundTasks
):
    campaign = open_official_campaign(session=session, actor=user, request=data)
    build_soon(background, session, campaign)
    return _created(campaign, 201)


@api_router.put(
    ONE + "/units/{unit_id}/finding",
    response_model=FindingPublic,
    responses=CONFLICT,
    summary="Judge a sampled unit",
    description="Records the verdict on a unit of the sample (`reason` required when "
    "`non_conform`, `reason_text` with `other`), or revises it until the operator has "
    "answered it. 409 before the submission (unless the deadline passed), once answered, or "
    "once closed; 404 for a unit not drawn." + CONTROLLER_ONLY,
)
def put_finding(
    session: SessionDep, user: ApiStaff, campaign_id: RowId, unit_id: RowId, data: UnitReview
):
    finding = review_unit(
        session=session, actor=user, campaign_id=campaign_id, episode_id=unit_id, review=data
    )
    return _finding(finding)


@api_router.post(
    ONE + "/close",
    response_model=CampaignPublic,
    responses=CONFLICT,
    summary="Close an official campaign",
    description="Once every drawn unit is judged: the campaign's `phase` becomes `closed`, its "
    "non-conform units become réfactions in the ledger, and its proof pack is built again with "
    "the verdicts and the whole history. 409 while a unit is unjudged, before the submission "
    "(unless the deadline passed), or once closed." + CONTROLLER_ONLY,
)
def post_close(
    session: SessionDep, user: ApiStaff, campaign_id: RowId, background: BackgroundTasks
):
    campaign = close_campaign(session=session, actor=user, campaign_id=campaign_id)
    build_soon(background, session, campaign)
    return _public(campaign)


# ---- the operator ----------------------------------------------------------------------------


@api_router.post(
    CAMPAIGNS,
    response_model=CampaignPublic,
    status_code=202,
    responses={202: {"headers": {"Location": LOCATION}}},
    summary="Draw a self-check",
    description="An operator's own check (« auto-contrôle »), never counted as France "
    "compétences': a sample of the billable units ended between `from` and `to` "
    "(`sample_size` units or `sample_rate` percent, `seed` optional); 202 with the campaign, "
    "whose proof pack is built next.",
)
def post_campaign(
    session: SessionDep, user: ApiCaseWorker, data: CampaignCreate, background: BackgroundTasks
):
    campaign = create_campaign(session=session, actor=user, request=data)
    build_soon(background, session, campaign)
    return _created(campaign, 202)


@api_router.get(
    ONE + "/units",
    response_model=list[SampledUnitPublic],
    summary="List the sampled units with their proofs",
    description="A page of the sample, in the order of the draw, each unit with the proofs "
    "its unit requires and their `state` now; `complete` when none is missing or awaited."
    + OPERATOR_ONLY,
)
def get_sampled_units(
    session: SessionDep,
    user: ApiStaff,
    campaign_id: RowId,
    offset: Offset = 0,
    limit: Limit = 50,
):
    units = sample_with_proofs(
        session=session, actor=user, campaign_id=campaign_id, offset=offset, limit=limit
    )
    return [_unit(unit) for unit in units]


@api_router.post(
    ONE + "/verify-proofs",
    response_model=ProofsRecorded,
    responses=CONFLICT,
    summary="Record the proofs added",
    description="Records, in the history, each required proof of a sampled unit completed "
    "since the opening (with when and by whom it was completed); returns how many were new. "
    "409 once submitted, past the deadline, or on a self-check." + OPERATOR_ONLY,
)
def post_verify_proofs(session: SessionDep, user: ApiStaff, campaign_id: RowId):
    recorded = check_added_proofs(session=session, actor=user, campaign_id=campaign_id)
    return ProofsRecorded(recorded=recorded)


@api_router.post(
    ONE + "/submit",
    response_model=CampaignPublic,
    responses=CONFLICT,
    summary="Submit an official campaign's pack",
    description="Records the last proofs added, then freezes the campaign (`phase` "
    "`submitted`) and builds its proof pack again with the full history. 409 once submitted, "
    "past the deadline, or on a self-check." + OPERATOR_ONLY,
)
def post_submit(
    session: SessionDep, user: ApiStaff, campaign_id: RowId, background: BackgroundTasks
):
    campaign = submit_campaign(session=session, actor=user, campaign_id=campaign_id)
    build_soon(background, session, campaign)
    return _public(campaign)


@api_router.post(
    ONE + "/units/{unit_id}/answer",
    response_model=FindingPublic,
    responses=CONFLICT,
    summary="Answer a non-conform finding",
    description="The operator's one answer to the controller's non-conform finding on a unit "
    "(« contradictoire »); the verdict can no longer be revised after it. 409 on a conform or "
    "missing finding, once answered, or once closed." + OPERATOR_ONLY,
)
def post_answer(
    session: SessionDep, user: ApiStaff, campaign_id: RowId, unit_id: RowId, data: FindingAnswer
):
    finding = answer_finding(
        session=session, actor=user, campaign_id=campaign_id, episode_id=unit_id, answer=data
    )
    return _finding(finding)
