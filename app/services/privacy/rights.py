"""The person's rights (RGPD articles 15 to 21): the operator administrators' queue of
requests, each answered within one calendar month of its receipt (article 12 § 3), and what
answers rectification, erasure and objection. The access archive is built by
app/services/privacy/access_archive.py."""

import calendar
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlmodel import Session, col, select

from app.core.dates import local_today
from app.core.errors import Conflict, Forbidden, Invalid
from app.models.base import utcnow
from app.models.beneficiaries import Beneficiary
from app.models.cases import Case, CaseStatus
from app.models.consents import ConsentChannel, ConsentPurpose
from app.models.fields import search_key, without_nul
from app.models.nomenclatures import Role
from app.models.operators import Operator
from app.models.rights import (
    OPEN_STATUSES,
    RightKind,
    RightsRequest,
    RightsRequestCreate,
    RightStatus,
)
from app.models.staff import StaffUser
from app.services.access.scope import load_owned, owned_by
from app.services.cases.beneficiaries import search_beneficiaries
from app.services.privacy.anonymise import anonymise
from app.services.privacy.consents import withdraw
from app.services.privacy.retention import CONTROL_KEEP_YEARS, held_by_a_control

# A request due within this many days is shown as « bientôt dû ».
DUE_SOON_DAYS = 7

HELD_BY_A_CONTROL = (
    "Effacement refusé : les données de cette personne sont conservées pour un contrôle de "
    "service fait de France compétences en cours ou clos depuis moins de "
    f"{CONTROL_KEEP_YEARS} ans (RGPD, art. 17 § 3 b et e : obligation légale et constatation, "
    "exercice ou défense de droits en justice)."
)
CASE_STILL_OPEN = (
    "Effacement refusé pour l'instant : l'accompagnement de cette personne est en cours "
    "(dossier ouvert). Les données restent nécessaires au service qu'elle a demandé "
    "(RGPD, art. 17 § 1 a) et à la preuve du service fait due au financeur (art. 17 § 3 b). "
    "Clôturez le dossier avec la personne, puis traitez la demande."
)


def require_operator_admin(actor: StaffUser) -> int:
    """Only the operator's administrators handle the requests; their operator's id."""
    if actor.role != Role.OPERATOR_ADMIN or actor.operator_id is None:
        raise Forbidden("Seuls les administrateur·rices de l'opérateur traitent ces demandes.")
    return actor.operator_id


def one_month_after(day: date) -> date:
    """The same day of the next month (its last day when it is shorter: 31 January → 28 or
    29 February), as article 12 § 3 counts the month."""
    year, month = divmod(day.year * 12 + day.month, 12)
    last = calendar.monthrange(year, month + 1)[1]
    return day.replace(year=year, month=month + 1, day=min(day.day, last))


# ---- finding the person --------------------------------------------------------------------


@dataclass
class Candidate:
    person: Beneficiary
    references: list[str]


def find_people(*, session: Session, actor: StaffUser, query: str) -> list[Candidate]:
    """The operator's people matching a case reference exactly, else by name, e-mail or phone."""
    operator_id = require_operator_admin(actor)
    wanted = without_nul(query).strip().upper()
    if not wanted:
        return []
    by_reference = select(Beneficiary).join(Case, col(Case.beneficiary_id) == Beneficiary.id)
    by_reference = by_reference.where(owned_by(Case, operator_id), col(Case.reference) == wanted)
    people = list(session.exec(by_reference)) or search_beneficiaries(
        session=session, actor=actor, query=query
    )
    return [Candidate(person, references_of(session, person.id)) for person in people]


def references_of(session: Session, person_id: int) -> list[str]:
    statement = select(Case.reference).where(col(Case.beneficiary_id) == person_id)
    return list(session.exec(statement.order_by(Case.opened_at, Case.id)))


# ---- the queue -----------------------------------------------------------------------------


def record_request(
    *, session: Session, actor: StaffUser, data: RightsRequestCreate
) -> RightsRequest:
    operator_id = require_operator_admin(actor)
    person = load_owned(session, Beneficiary, data.beneficiary_id, actor)
    if person.anonymised_at is not None:
        raise Invalid({"beneficiary_id": "Cette personne est déjà anonymisée."})
    request = RightsRequest(
        operator_id=operator_id,
        beneficiary_id=person.id,
        kind=data.kind.value,
        received_on=data.received_on,
        received_via=data.received_via.value,
        due_on=one_month_after(data.received_on),
        created_by_id=actor.id,
    )
    session.add(request)
    session.flush()
    return request


@dataclass
class QueueRow:
    request: RightsRequest
    person: Beneficiary
    references: list[str]
    handled_by: StaffUser | None
    overdue: bool
    due_soon: bool
    time_zone: str  # the operator's, for the dates shown


@dataclass
class Queue:
    today: date
    time_zone: str
    open: list[QueueRow]
    closed: list[QueueRow]

    @property
    def overdue_count(self) -> int:
        return sum(row.overdue for row in self.open)

    @property
    def due_soon_count(self) -> int:
        return sum(row.due_soon for row in self.open)


def rights_queue(*, session: Session, actor: StaffUser, now: datetime | None = None) -> Queue:
    """Open requests first, the most pressing due date first; then the last ones answered."""
    operator_id = require_operator_admin(actor)
    operator = session.get(Operator, operator_id)
    today = local_today(operator.time_zone, now=now or utcnow())
    base = select(RightsRequest).where(owned_by(RightsRequest, operator_id))
    still_open = col(RightsRequest.status).in_([status.value for status in OPEN_STATUSES])
    pending = session.exec(base.where(still_open).order_by(RightsRequest.due_on, RightsRequest.id))
    answered = session.exec(
        base.where(~still_open).order_by(col(RightsRequest.handled_at).desc()).limit(50)
    )
    zone = operator.time_zone
    rows = [_row(session, request, today, zone) for request in pending]
    return Queue(today, zone, rows, [_row(session, r, today, zone) for r in answered])


def _row(session: Session, request: RightsRequest, today: date, time_zone: str) -> QueueRow:
    person = session.get(Beneficiary, request.beneficiary_id)
    handled_by = session.get(StaffUser, request.handled_by_id) if request.handled_by_id else None
    overdue = request.is_open and request.due_on < today
    due_soon = (
        request.is_open and not overdue and request.due_on <= today + timedelta(days=DUE_SOON_DAYS)
    )
    references = references_of(session, person.id)
    return QueueRow(request, person, references, handled_by, overdue, due_soon, time_zone)


def load_request(*, session: Session, actor: StaffUser, request_id: int) -> RightsRequest:
    require_operator_admin(actor)
    return load_owned(session, RightsRequest, request_id, actor)


def request_row(
    *, session: Session, actor: StaffUser, request_id: int, now: datetime | None = None
) -> QueueRow:
    request = load_request(session=session, actor=actor, request_id=request_id)
    operator = session.get(Operator, request.operator_id)
    today = local_today(operator.time_zone, now=now or utcnow())
    return _row(session, request, today, operator.time_zone)


def _open_request(session: Session, actor: StaffUser, request_id: int) -> RightsRequest:
    request = load_request(session=session, actor=actor, request_id=request_id)
    if not request.is_open:
        raise Conflict("Cette demande a déjà reçu sa réponse.")
    return request


def _close(
    session: Session, request: RightsRequest, actor: StaffUser, status: RightStatus, outcome: str
) -> RightsRequest:
    request.status = status.value
    request.outcome = outcome[:1000]
    request.handled_by_id = actor.id
    request.handled_at = utcnow()
    session.add(request)
    session.flush()
    return request


def take_request(*, session: Session, actor: StaffUser, request_id: int) -> RightsRequest:
    """« En cours »: someone handles it."""
    request = _open_request(session, actor, request_id)
    request.status = RightStatus.IN_PROGRESS.value
    request.handled_by_id = actor.id
    session.add(request)
    session.flush()
    return request


def answer_request(
    *, session: Session, actor: StaffUser, request_id: int, refused: bool, outcome: str
) -> RightsRequest:
    """Mark it « traitée » (e.g. the rectification done through the person's form, the
    archive sent) or « refusée », which needs its reason."""
    request = _open_request(session, actor, request_id)
    outcome = outcome.strip()
    if refused and not outcome:
        raise Invalid({"outcome": "Indiquez le motif du refus, communiqué à la personne."})
    status = RightStatus.REFUSED if refused else RightStatus.DONE
    return _close(session, request, actor, status, outcome)


# ---- erasure (art. 17) ---------------------------------------------------------------------


def erasure_refusal(*, session: Session, person: Beneficiary, now: datetime) -> str | None:
    """The legal reason to keep the person's data, or None when they may be erased."""
    held = select(Beneficiary.id).where(col(Beneficiary.id) == person.id, held_by_a_control(now))
    if session.exec(held).first() is not None:
        return HELD_BY_A_CONTROL
    open_case = select(Case.id).where(
        col(Case.beneficiary_id) == person.id, col(Case.status) == CaseStatus.OPEN.value
    )
    if session.exec(open_case.limit(1)).first() is not None:
        return CASE_STILL_OPEN
    return None


def erase_person(
    *,
    session: Session,
    actor: StaffUser,
    request_id: int,
    typed_reference: str,
    now: datetime | None = None,
) -> RightsRequest:
    """Anonymise the person for good, once one of their case references is typed in; refused
    with its legal reason when a control or an open case keeps the data."""
    now = now or utcnow()
    request = _open_request(session, actor, request_id)
    if request.kind != RightKind.ERASURE:
        raise Conflict("Cette demande n'est pas une demande d'effacement.")
    person = session.get(Beneficiary, request.beneficiary_id)
    expected = references_of(session, person.id) or [search_key(person.last_name).upper()]
    if search_key(typed_reference).upper() not in {search_key(r).upper() for r in expected}:
        raise Invalid(
            {"reference": "La référence saisie n'est pas celle d'un dossier de cette personne."}
        )
    reason = erasure_refusal(session=session, person=person, now=now)
    if reason is not None:
        return _close(session, request, actor, RightStatus.REFUSED, reason)
    anonymise(session=session, person=person, now=now, actor=actor)
    return _close(session, request, actor, RightStatus.DONE, "Données effacées (anonymisation).")


# ---- objection and withdrawal of consent (art. 21 and 7 § 3) --------------------------------


# What an objection withdraws: being asked for one's opinion, and being written to (e-mail,
# SMS) beyond the messages about the appointments the person books.
OBJECTION_PURPOSES = (ConsentPurpose.SURVEYS, ConsentPurpose.EMAIL, ConsentPurpose.SMS)


def apply_objection(
    *, session: Session, person: Beneficiary, actor: StaffUser, now: datetime
) -> None:
    """What an objection changes, at once: each consent withdrawn, recorded as coming from the
    request (no more surveys nor their reminders, no more reminders by e-mail or SMS)."""
    for purpose in OBJECTION_PURPOSES:
        withdraw(
            session=session,
            person=person,
            purpose=purpose,
            actor=actor,
            now=now,
            how=ConsentChannel.RIGHTS_REQUEST,
        )


def record_objection(*, session: Session, actor: StaffUser, request_id: int) -> RightsRequest:
    request = _open_request(session, actor, request_id)
    if request.kind != RightKind.OBJECTION:
        raise Conflict("Cette demande n'est pas une opposition.")
    now = utcnow()
    person = session.get(Beneficiary, request.beneficiary_id)
    apply_objection(session=session, person=person, actor=actor, now=now)
    outcome = (
        "Consentements retirés à compter de ce jour : enquêtes, contact par e-mail et par SMS "
        "(seuls les messages sur ses rendez-vous lui sont encore adressés)."
    )
    return _close(session, request, actor, RightStatus.DONE, outcome)
