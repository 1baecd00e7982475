"""What the pages of people and triage show: a person with their cases, the triage queue,
taking a request (find the person first), and one request with what it led to."""

from dataclasses import dataclass

from sqlmodel import Session

from app.models.beneficiaries import Beneficiary
from app.models.cases import Case
from app.models.nomenclatures import Redirection
from app.models.operators import Operator, Site
from app.models.staff import StaffUser
from app.models.triage import TriageRequest
from app.services.access.scope import operator_of
from app.services.admin.operators import list_sites
from app.services.admin.staff import Colleague, list_counsellors
from app.services.audit.journal import TrailLine, person_accesses
from app.services.booking.calendar import appointments_of_request
from app.services.cases.beneficiaries import get_beneficiary, search_beneficiaries
from app.services.cases.lifecycle import cases_of_beneficiary
from app.services.cases.triage import get_request, queue, queue_size, suggest_redirection


@dataclass
class BeneficiaryPage:
    beneficiary: Beneficiary
    cases: list[Case]  # newest first
    # « Qui a consulté ce dossier »: the last entries of the trail, for those who may see them.
    accesses: list[TrailLine] | None
    time_zone: str


def beneficiary_page(*, session: Session, actor: StaffUser, beneficiary_id: int) -> BeneficiaryPage:
    beneficiary = get_beneficiary(session=session, actor=actor, beneficiary_id=beneficiary_id)
    cases = cases_of_beneficiary(session=session, actor=actor, beneficiary_id=beneficiary_id)
    accesses = person_accesses(session=session, actor=actor, beneficiary_id=beneficiary_id)
    operator = session.get(Operator, beneficiary.operator_id)
    return BeneficiaryPage(beneficiary, cases, accesses, operator.time_zone)


@dataclass
class TriageQueue:
    items: list[tuple[TriageRequest, Beneficiary]]  # the oldest first
    total: int


def triage_queue(*, session: Session, actor: StaffUser, mine_only: bool) -> TriageQueue:
    return TriageQueue(
        items=queue(session=session, actor=actor, mine_only=mine_only),
        total=queue_size(session=session, actor=actor, mine_only=mine_only),
    )


@dataclass
class Intake:
    """Taking a request: the people matching what was typed, or the one chosen."""

    matches: list[Beneficiary]
    chosen: Beneficiary | None
    sites: list[Site]
    colleagues: list[Colleague]


def intake(
    *, session: Session, actor: StaffUser, query: str = "", beneficiary_id: int | None = None
) -> Intake:
    chosen = (
        get_beneficiary(session=session, actor=actor, beneficiary_id=beneficiary_id)
        if beneficiary_id
        else None
    )
    operator_id = operator_of(actor)
    return Intake(
        matches=search_beneficiaries(session=session, actor=actor, query=query) if query else [],
        chosen=chosen,
        sites=list_sites(session=session, operator_id=operator_id),
        colleagues=list_counsellors(session=session, operator_id=operator_id),
    )


@dataclass
class RequestPage:
    item: TriageRequest
    beneficiary: Beneficiary
    suggestion: Redirection | None
    appointments: list[tuple]  # (appointment, type name, site name) booked with the request
    sites: list[Site]
    colleagues: list[Colleague]


def request_page(*, session: Session, actor: StaffUser, request_id: int) -> RequestPage:
    item = get_request(session=session, actor=actor, request_id=request_id)
    operator_id = operator_of(actor)
    return RequestPage(
        item=item,
        beneficiary=get_beneficiary(
            session=session, actor=actor, beneficiary_id=item.beneficiary_id
        ),
        suggestion=suggest_redirection(item.cep_situation),
        appointments=appointments_of_request(session=session, actor=actor, request_id=item.id),
        sites=list_sites(session=session, operator_id=operator_id),
        colleagues=list_counsellors(session=session, operator_id=operator_id),
    )
