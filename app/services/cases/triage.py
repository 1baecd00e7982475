"""Triage (accueil, aiguillage — UO0): the queue of incoming requests and their outcome.

Whatever the outcome, the triage is recorded as a UO0 episode on a case, so that the work
shows up: the case stays open for a counsellor, or is closed at once after a redirection.
"""

from sqlmodel import Session, func, select

from app.core.db import all_or_nothing
from app.core.errors import Conflict, Invalid
from app.models.base import utcnow
from app.models.beneficiaries import Beneficiary, BeneficiaryCreate
from app.models.cases import CaseClose, CaseOpen, Episode, Interaction
from app.models.nomenclatures import (
    CepSituation,
    CloseReason,
    InteractionChannel,
    Redirection,
)
from app.models.notifications import NotificationKind
from app.models.staff import StaffUser
from app.models.triage import (
    TriageCreate,
    TriageOpenCase,
    TriageRedirect,
    TriageRequest,
    TriageStatus,
)
from app.services.access.scope import load_owned, operator_of, owned_by
from app.services.admin.catalogue import triage_unit
from app.services.admin.markets import episode_lot_id
from app.services.admin.operators import get_site
from app.services.admin.staff import get_counsellor
from app.services.cases.beneficiaries import create_beneficiary, get_beneficiary
from app.services.cases.lifecycle import close_case, open_case
from app.services.messaging.notifications import notify

_REDIRECTION_FOR = {
    CepSituation.JOB_SEEKER: Redirection.FRANCE_TRAVAIL,
    CepSituation.MANAGER: Redirection.APEC,
    CepSituation.DISABILITY: Redirection.CAP_EMPLOI,
    CepSituation.YOUNG_NEET: Redirection.MISSION_LOCALE,
    CepSituation.PUBLIC_AGENT: Redirection.PUBLIC_EMPLOYER,
}

# How a triage channel is recorded as an interaction.
_INTERACTION_CHANNEL = {
    "telephone": InteractionChannel.PHONE,
    "email": InteractionChannel.EMAIL,
    "web": InteractionChannel.EMAIL,
    "accueil": InteractionChannel.ON_SITE,
    "partenaire": InteractionChannel.PHONE,
}


def suggest_redirection(situation: str) -> Redirection | None:
    """The network the profile points to; the counsellor decides (a cadre may also stay)."""
    return _REDIRECTION_FOR.get(CepSituation(situation))


@all_or_nothing
def create_request(
    *,
    session: Session,
    actor: StaffUser,
    data: TriageCreate,
    person: BeneficiaryCreate | None = None,
) -> TriageRequest:
    """Put a request in the triage queue, for a person found beforehand or a new `person`."""
    operator_id = operator_of(actor)
    if data.beneficiary_id is None:
        if person is None:
            raise Invalid({"beneficiary_id": "Choisissez une personne ou saisissez-la"})
        beneficiary = create_beneficiary(session=session, actor=actor, data=person)
        data = data.model_copy(update={"beneficiary_id": beneficiary.id})
    get_beneficiary(session=session, actor=actor, beneficiary_id=data.beneficiary_id)
    if data.site_id is not None:
        get_site(session=session, operator_id=operator_id, site_id=data.site_id)
    if data.assigned_to_id is not None:
        get_counsellor(
            session=session,
            operator_id=operator_id,
            staff_id=data.assigned_to_id,
            field="assigned_to_id",
        )
    values = data.model_dump(exclude={"received_at"})
    request = TriageRequest(
        operator_id=operator_id, received_at=data.received_at or utcnow(), **values
    )
    session.add(request)
    session.flush()
    notify(
        session=session,
        operator_id=operator_id,
        recipient_id=request.assigned_to_id,
        kind=NotificationKind.REQUEST_ASSIGNED,
        text=f"{actor.full_name} vous a attribué une demande à traiter dans la file d'accueil.",
        link=f"/triage/{request.id}",
        actor_id=actor.id,
    )
    return request


def get_request(*, session: Session, actor: StaffUser, request_id: int) -> TriageRequest:
    return load_owned(session, TriageRequest, request_id, actor)


def queue(
    *, session: Session, actor: StaffUser, mine_only: bool = False, limit: int = 200
) -> list[tuple[TriageRequest, Beneficiary]]:
    """Pending requests, oldest first; `mine_only` keeps those assigned to the actor or nobody."""
    statement = (
        select(TriageRequest, Beneficiary)
        .join(Beneficiary, Beneficiary.id == TriageRequest.beneficiary_id)
        .where(*_queued(actor, mine_only))
    )
    return list(session.exec(statement.order_by(TriageRequest.received_at).limit(limit)))


def queue_size(*, session: Session, actor: StaffUser, mine_only: bool = False) -> int:
    """How many requests `queue` holds in all, beyond the ones a page shows."""
    return session.exec(select(func.count()).where(*_queued(actor, mine_only))).one()


def _queued(actor: StaffUser, mine_only: bool) -> list:
    conditions = [
        owned_by(TriageRequest, operator_of(actor)),
        TriageRequest.status == TriageStatus.PENDING,
    ]
    if mine_only:
        conditions.append(
            (TriageRequest.assigned_to_id == actor.id) | TriageRequest.assigned_to_id.is_(None)
        )
    return conditions


def _pending(session: Session, actor: StaffUser, request_id: int) -> TriageRequest:
    request = get_request(session=session, actor=actor, request_id=request_id)
    if request.status != TriageStatus.PENDING:
        raise Conflict("Cette demande a déjà été traitée.")
    return request


def _record_triage(
    session: Session,
    actor: StaffUser,
    request: TriageRequest,
    *,
    case_id: int,
    status: str,
    outcome: str,
) -> None:
    """The UO0 episode and the contact itself, on the case."""
    now = utcnow()
    episode = Episode(
        operator_id=request.operator_id,
        case_id=case_id,
        unit_id=triage_unit(session=session).id,
        started_at=request.received_at,
        ended_at=max(now, request.received_at),
        outcome=outcome,
        started_by_id=actor.id,
        lot_id=episode_lot_id(session, request.operator_id, request.received_at),
    )
    session.add(episode)
    session.flush()
    contact = Interaction(
        operator_id=request.operator_id,
        case_id=case_id,
        episode_id=episode.id,
        counsellor_id=actor.id,
        occurred_at=request.received_at,
        duration_minutes=15,
        channel=_INTERACTION_CHANNEL[request.channel].value,
        summary=request.first_advice,
        private_notes=request.request_text,
    )
    session.add(contact)
    request.status = status
    request.case_id = case_id
    request.handled_by_id = actor.id
    request.handled_at = now
    session.add(request)
    session.flush()


@all_or_nothing
def open_case_from_request(
    *, session: Session, actor: StaffUser, request_id: int, data: TriageOpenCase
):
    """Outcome « dossier ouvert »: a case for the chosen counsellor, with the UO0 episode."""
    request = _pending(session, actor, request_id)
    if data.first_advice:
        request.first_advice = data.first_advice
    case = open_case(
        session=session,
        actor=actor,
        opened_at=request.received_at,
        data=CaseOpen(
            beneficiary_id=request.beneficiary_id,
            channel=request.channel,
            motive=request.motive,
            request_text=request.request_text,
            referent_id=data.referent_id,
            site_id=data.site_id or request.site_id,
        ),
    )
    _record_triage(
        session,
        actor,
        request,
        case_id=case.id,
        status=TriageStatus.CASE_OPENED,
        outcome="Dossier ouvert",
    )
    return case


@all_or_nothing
def redirect_request(*, session: Session, actor: StaffUser, request_id: int, data: TriageRedirect):
    """Outcome « réorienté »: the UO0 episode is kept on a case closed at once."""
    request = _pending(session, actor, request_id)
    if data.first_advice:
        request.first_advice = data.first_advice
    request.redirection = data.redirection.value
    request.redirect_reason = data.reason
    case = open_case(
        session=session,
        actor=actor,
        opened_at=request.received_at,
        data=CaseOpen(
            beneficiary_id=request.beneficiary_id,
            channel=request.channel,
            motive=request.motive,
            request_text=request.request_text,
            site_id=request.site_id,
        ),
    )
    _record_triage(
        session,
        actor,
        request,
        case_id=case.id,
        status=TriageStatus.REDIRECTED,
        outcome=f"Réorienté vers {data.redirection.label}",
    )
    close_case(
        session=session,
        actor=actor,
        case_id=case.id,
        data=CaseClose(reason=CloseReason.REDIRECTED, note=data.reason),
    )
    return case
