"""Reading a person's file outside one's own cases: where the operator asks for it (« Sécurité »),
staff first say why, and every read of that file is recorded with the reason for a while.

A file is one's own when one is the referent of one of the person's cases, has recorded an
interaction on one or has an appointment with the person; a manager's too when one of the
person's cases is at one of their sites or has one of their sites' counsellors as referent (a
manager attached to no site leads the whole team: every file is theirs);
every file is the operator admin's. The reason is asked per person (a case, the person's page,
their documents and attachments are one file), and stands for `REASON_STANDS` after it is
given: the trail itself is the permit (a read with a reason, by the same person, that recent),
so nothing else is stored and nothing can be forged from the browser."""

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Annotated

from pydantic import StringConstraints
from sqlalchemy import exists, or_
from sqlmodel import Session, SQLModel, col, select

from app.core.errors import Forbidden
from app.models.appointments import Appointment, AppointmentStatus
from app.models.audit import MAX_REASON, AuditAction, AuditEvent
from app.models.base import utcnow
from app.models.cases import Case, Interaction
from app.models.nomenclatures import Role
from app.models.operators import Operator
from app.models.staff import StaffSite, StaffUser
from app.services.access.scope import owned_by
from app.services.audit.trail import record
from app.services.cases.beneficiaries import get_beneficiary
from app.services.cases.lifecycle import cases_of_beneficiary

REASON_STANDS = timedelta(minutes=30)


class ReasonRequired(Forbidden):
    """The file is not the actor's and no reason stands: pages ask for one, the API refuses."""

    default_message = (
        "Ce dossier n'est pas dans votre portefeuille : indiquez le motif de la consultation "
        "(paramètre « reason »)."
    )

    def __init__(self, beneficiary_id: int):
        super().__init__()
        self.beneficiary_id = beneficiary_id


class ReadReason(SQLModel):
    """The « Motif de la consultation » form."""

    reason: Annotated[
        str, StringConstraints(strip_whitespace=True, min_length=1, max_length=MAX_REASON)
    ]


def _their_cases(actor: StaffUser, beneficiary_id: int):
    return select(Case.id).where(
        Case.beneficiary_id == beneficiary_id, owned_by(Case, actor.operator_id)
    )


def is_own_file(session: Session, *, actor: StaffUser, beneficiary_id: int) -> bool:
    """Whether the person's file is in the actor's caseload (see the module's docstring); a
    person with no case and no appointment is in nobody's, so everybody's."""
    if actor.role == Role.OPERATOR_ADMIN:
        return True
    cases = _their_cases(actor, beneficiary_id)
    meetings = select(Appointment.id).where(
        Appointment.beneficiary_id == beneficiary_id,
        # A slot held for the waiting list is no meeting until the person accepts it.
        Appointment.status != AppointmentStatus.OFFERED,
    )
    # One query for the whole rule: its every part is an EXISTS.
    ties = [
        ~or_(exists(cases), exists(meetings)),  # in nobody's caseload
        exists(cases.where(Case.referent_id == actor.id)),
        exists(
            select(Interaction.id).where(
                col(Interaction.case_id).in_(cases), Interaction.counsellor_id == actor.id
            )
        ),
        exists(meetings.where(Appointment.counsellor_id == actor.id)),
    ]
    if actor.role == Role.MANAGER:
        their_sites = select(StaffSite.site_id).where(StaffSite.staff_id == actor.id)
        their_staff = select(StaffSite.staff_id).where(col(StaffSite.site_id).in_(their_sites))
        ties += [
            ~exists(their_sites),  # attached to no site: leads the operator's whole team
            exists(
                cases.where(
                    or_(col(Case.site_id).in_(their_sites), col(Case.referent_id).in_(their_staff))
                )
            ),
        ]
    return bool(session.exec(select(or_(*ties))).one())


def standing_reason(
    session: Session, *, actor: StaffUser, beneficiary_id: int, now: datetime | None = None
) -> str | None:
    """The reason the actor gave for the person's file less than `REASON_STANDS` ago."""
    since = (now or utcnow()) - REASON_STANDS
    query = (
        select(AuditEvent.reason)
        .where(
            AuditEvent.actor_id == actor.id,
            AuditEvent.beneficiary_id == beneficiary_id,
            AuditEvent.action == AuditAction.READ.value,
            col(AuditEvent.reason).is_not(None),
            col(AuditEvent.at) >= since,
        )
        .order_by(col(AuditEvent.at).desc())
        .limit(1)
    )
    return session.exec(query).first()


def reason_asked(session: Session, *, actor: StaffUser, beneficiary_id: int) -> bool:
    """Whether the actor must give a reason to read the person's file (standing or not)."""
    operator = session.get(Operator, actor.operator_id) if actor.operator_id else None
    if operator is None or not operator.reason_for_outside_reads:
        return False
    return not is_own_file(session, actor=actor, beneficiary_id=beneficiary_id)


def reason_to_read(
    session: Session, *, actor: StaffUser, beneficiary_id: int | None, given: str | None = None
) -> str | None:
    """The reason a read of the person's file is recorded with: None when none is asked (the
    operator does not ask, or the file is the actor's), else the one `given` (the API's
    `reason`) or standing. Raises ReasonRequired when one is asked and there is none."""
    if beneficiary_id is None or not reason_asked(
        session, actor=actor, beneficiary_id=beneficiary_id
    ):
        return None
    reason = (given or "").strip()[:MAX_REASON]
    reason = reason or standing_reason(session, actor=actor, beneficiary_id=beneficiary_id)
    if not reason:
        raise ReasonRequired(beneficiary_id)
    return reason


@dataclass
class ReasonPage:
    """What the reason's page shows of the file: references, nothing personal."""

    beneficiary_id: int
    case_references: list[str]
    asked: bool  # False: nothing to ask (her own file, or no reason asked any more)


def reason_page(*, session: Session, actor: StaffUser, beneficiary_id: int) -> ReasonPage:
    get_beneficiary(session=session, actor=actor, beneficiary_id=beneficiary_id)  # or 404
    cases = cases_of_beneficiary(session=session, actor=actor, beneficiary_id=beneficiary_id)
    asked = reason_asked(session, actor=actor, beneficiary_id=beneficiary_id)
    asked = asked and not standing_reason(session, actor=actor, beneficiary_id=beneficiary_id)
    return ReasonPage(beneficiary_id, [case.reference for case in cases], asked)


def give_reason(
    session: Session, *, actor: StaffUser, beneficiary_id: int, data: ReadReason
) -> AuditEvent:
    """Record why the actor opens the person's file: a read of the person with the reason,
    which then stands for their next reads of it (`standing_reason`)."""
    get_beneficiary(session=session, actor=actor, beneficiary_id=beneficiary_id)  # or 404
    return record(
        session,
        actor=actor,
        action=AuditAction.READ,
        record_type="beneficiary",
        record_id=beneficiary_id,
        beneficiary_id=beneficiary_id,
        reason=data.reason[:MAX_REASON],
    )
