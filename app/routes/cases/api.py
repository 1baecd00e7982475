"""JSON API under /api/v1 (Bearer token); it calls the same services as the pages."""

from typing import Annotated

from fastapi import Query
from pydantic import BaseModel

from app.models.beneficiaries import (
    BeneficiaryCreate,
    BeneficiaryListed,
    BeneficiaryPublic,
    BeneficiaryUpdate,
)
from app.models.bounds import Limit, Offset, RowId
from app.models.cases import (
    CaseClose,
    CaseOpen,
    CasePublic,
    EpisodeEnd,
    EpisodePublic,
    EpisodeStart,
    InteractionCreate,
    InteractionPublic,
    ReferentChange,
)
from app.models.catalogue import ServiceUnitPublic
from app.models.triage import (
    TriageOfKnownPerson,
    TriageOpenCase,
    TriagePublic,
    TriageRedirect,
)
from app.services.admin.catalogue import list_units
from app.services.audit import accesses
from app.services.cases import beneficiaries, episodes, interactions, triage
from app.services.cases import lifecycle as cases
from app.web.api_errors import API_ERRORS, CONFLICT, OUTSIDE_READ
from app.web.deps import ApiCaseWorker, SessionDep
from app.web.outside_reads import ReasonParam
from app.web.routing import new_router

router = new_router(prefix="/api/v1", tags=["dossiers"], responses=API_ERRORS)


class StartedEpisode(BaseModel):
    episode: EpisodePublic
    warnings: list[str]


@router.get("/units", response_model=list[ServiceUnitPublic])
def get_units(session: SessionDep, _user: ApiCaseWorker):
    """The unit catalogue (unités d'œuvre) in force."""
    return list_units(session=session)


@router.get("/beneficiaries", response_model=list[BeneficiaryListed])
def get_beneficiaries(
    session: SessionDep,
    user: ApiCaseWorker,
    q: Annotated[str, Query(max_length=100)] = "",
    offset: Offset = 0,
    limit: Limit = 50,
):
    """Search (name, e-mail, phone; case and accents ignored) or list the operator's people.
    Without `rqth`: a person's disability recognition is on their own record only."""
    if q.strip():
        found = beneficiaries.search_beneficiaries(
            session=session, actor=user, query=q, limit=limit
        )
        accesses.list_read(session, actor=user, record_type="beneficiary_search")
        return found
    found = beneficiaries.list_beneficiaries(
        session=session, actor=user, offset=offset, limit=limit
    )
    accesses.list_read(session, actor=user, record_type="beneficiary_list")
    return found


@router.post(
    "/beneficiaries", response_model=BeneficiaryPublic, status_code=201, responses=CONFLICT
)
def post_beneficiary(session: SessionDep, user: ApiCaseWorker, data: BeneficiaryCreate):
    return beneficiaries.create_beneficiary(session=session, actor=user, data=data)


@router.get(
    "/beneficiaries/{beneficiary_id}", response_model=BeneficiaryPublic, responses=OUTSIDE_READ
)
def get_beneficiary(
    session: SessionDep, user: ApiCaseWorker, beneficiary_id: RowId, reason: ReasonParam = None
):
    found = beneficiaries.get_beneficiary(
        session=session, actor=user, beneficiary_id=beneficiary_id
    )
    accesses.beneficiary_read(session, actor=user, beneficiary_id=beneficiary_id, reason=reason)
    return found


@router.put("/beneficiaries/{beneficiary_id}", response_model=BeneficiaryPublic, responses=CONFLICT)
def put_beneficiary(
    session: SessionDep, user: ApiCaseWorker, beneficiary_id: RowId, data: BeneficiaryUpdate
):
    return beneficiaries.update_beneficiary(
        session=session, actor=user, beneficiary_id=beneficiary_id, data=data
    )


@router.get("/cases", response_model=list[CasePublic])
def get_cases(
    session: SessionDep,
    user: ApiCaseWorker,
    status: Annotated[str | None, Query(pattern="^(open|closed)$")] = None,
    offset: Offset = 0,
    limit: Limit = 50,
):
    found = cases.list_cases(session=session, actor=user, status=status, offset=offset, limit=limit)
    accesses.list_read(session, actor=user, record_type="case_list")
    return found


@router.post("/cases", response_model=CasePublic, status_code=201)
def post_case(session: SessionDep, user: ApiCaseWorker, data: CaseOpen):
    """Open a case directly (triage usually does it, see /triage)."""
    return cases.open_case(session=session, actor=user, data=data)


@router.get("/cases/{case_id}", response_model=CasePublic, responses=OUTSIDE_READ)
def get_case(session: SessionDep, user: ApiCaseWorker, case_id: RowId, reason: ReasonParam = None):
    found = cases.get_case(session=session, actor=user, case_id=case_id)
    accesses.case_read(session, actor=user, case_id=case_id, reason=reason)
    return found


@router.put("/cases/{case_id}/referent", response_model=CasePublic)
def put_referent(session: SessionDep, user: ApiCaseWorker, case_id: RowId, data: ReferentChange):
    return cases.change_referent(session=session, actor=user, case_id=case_id, data=data)


@router.post("/cases/{case_id}/close", response_model=CasePublic, responses=CONFLICT)
def post_close(session: SessionDep, user: ApiCaseWorker, case_id: RowId, data: CaseClose):
    return cases.close_case(session=session, actor=user, case_id=case_id, data=data)


@router.post("/cases/{case_id}/reopen", response_model=CasePublic, responses=CONFLICT)
def post_reopen(session: SessionDep, user: ApiCaseWorker, case_id: RowId):
    return cases.reopen_case(session=session, actor=user, case_id=case_id)


@router.get("/cases/{case_id}/episodes", response_model=list[EpisodePublic])
def get_episodes(session: SessionDep, user: ApiCaseWorker, case_id: RowId):
    return episodes.public_episodes_of_case(session=session, actor=user, case_id=case_id)


@router.post(
    "/cases/{case_id}/episodes", response_model=StartedEpisode, status_code=201, responses=CONFLICT
)
def post_episode(session: SessionDep, user: ApiCaseWorker, case_id: RowId, data: EpisodeStart):
    """Start any unit at any time; the answer lists warnings about the order, never a refusal.

    Unlike the case page, which asks before such a start, the API starts at once: a client
    reads `warnings` and may cancel the episode (POST /episodes/{id}/cancel)."""
    episode, warnings = episodes.start_episode(
        session=session, actor=user, case_id=case_id, data=data
    )
    public = episodes.episode_public(session=session, episode=episode)
    return StartedEpisode(episode=public, warnings=warnings)


@router.post("/episodes/{episode_id}/end", response_model=EpisodePublic, responses=CONFLICT)
def post_episode_end(session: SessionDep, user: ApiCaseWorker, episode_id: RowId, data: EpisodeEnd):
    episode = episodes.end_episode(session=session, actor=user, episode_id=episode_id, data=data)
    return episodes.episode_public(session=session, episode=episode)


@router.post("/episodes/{episode_id}/cancel", response_model=EpisodePublic, responses=CONFLICT)
def post_episode_cancel(session: SessionDep, user: ApiCaseWorker, episode_id: RowId):
    """Cancel an episode started by mistake (409 once an interview, a deliverable or a control
    draw is attached, or after FILROUGE_EPISODE_CANCEL_DAYS): it then counts nowhere."""
    episode = episodes.cancel_episode(session=session, actor=user, episode_id=episode_id)
    return episodes.episode_public(session=session, episode=episode)


@router.get("/cases/{case_id}/interactions", response_model=list[InteractionPublic])
def get_interactions(
    session: SessionDep, user: ApiCaseWorker, case_id: RowId, reason: ReasonParam = None
):
    """The case's contacts, oldest first; `private_notes` is null unless the reader is one of
    the case's counsellors (its referent, or who recorded a contact in it) or their manager."""
    found = interactions.public_interactions_of_case(session=session, actor=user, case_id=case_id)
    accesses.case_part_read(
        session, actor=user, record_type="case_interactions", case_id=case_id, reason=reason
    )
    return found


@router.post(
    "/cases/{case_id}/interactions",
    response_model=InteractionPublic,
    status_code=201,
    responses=CONFLICT,
)
def post_interaction(
    session: SessionDep, user: ApiCaseWorker, case_id: RowId, data: InteractionCreate
):
    return interactions.record_interaction(session=session, actor=user, case_id=case_id, data=data)


@router.get("/triage", response_model=list[TriagePublic], tags=["accueil"])
def get_triage(session: SessionDep, user: ApiCaseWorker):
    """Pending requests, oldest first."""
    found = [item for item, _person in triage.queue(session=session, actor=user)]
    accesses.list_read(session, actor=user, record_type="triage_list")
    return found


@router.post("/triage", response_model=TriagePublic, status_code=201, tags=["accueil"])
def post_triage(session: SessionDep, user: ApiCaseWorker, data: TriageOfKnownPerson):
    return triage.create_request(session=session, actor=user, data=data)


@router.post(
    "/triage/{request_id}/open-case",
    response_model=CasePublic,
    tags=["accueil"],
    responses=CONFLICT,
)
def post_triage_open(
    session: SessionDep, user: ApiCaseWorker, request_id: RowId, data: TriageOpenCase
):
    return triage.open_case_from_request(
        session=session, actor=user, request_id=request_id, data=data
    )


@router.post(
    "/triage/{request_id}/redirect", response_model=CasePublic, tags=["accueil"], responses=CONFLICT
)
def post_triage_redirect(
    session: SessionDep, user: ApiCaseWorker, request_id: RowId, data: TriageRedirect
):
    return triage.redirect_request(session=session, actor=user, request_id=request_id, data=data)
