"""Demo waiting list: the people whose request nobody has taken yet also wait for a phone slot
of the operator's first motif, so that « Liste d'attente » is not empty on the first visit
(the worker offers them the slots that suit them as soon as it runs)."""

from sqlmodel import Session, select

from app.models.appointments import AppointmentType
from app.models.beneficiaries import Beneficiary
from app.models.waiting_list import HalfDay, WaitingListEntry
from app.services.access.scope import owned_by


def wait_for_a_slot(session: Session, person: Beneficiary) -> None:
    kind = session.exec(
        select(AppointmentType)
        .where(owned_by(AppointmentType, person.operator_id), AppointmentType.online_bookable)
        .order_by(AppointmentType.position)
    ).first()
    if kind is None:
        return
    session.add(
        WaitingListEntry(
            operator_id=person.operator_id,
            appointment_type_id=kind.id,
            mode="phone",
            beneficiary_id=person.id,
            weekdays="0 2 4",
            half_days=HalfDay.AFTERNOON.value,
            created_at=person.created_at,
            updated_at=person.created_at,
        )
    )
    session.flush()
