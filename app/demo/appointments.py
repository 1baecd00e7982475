"""Demo appointments: some open cases have their next appointment booked by the counsellor,
so that agendas are not empty on the first visit."""

from datetime import timedelta

from sqlmodel import select

from app.models.appointments import AppointmentType, BookingChannel
from app.models.base import utcnow
from app.models.cases import Case
from app.models.staff import StaffUser
from app.services.booking.reservations import SlotTaken, book_appointment
from app.services.booking.slots import free_slots

BOOKING_RATE = 0.3


def book_next(session, rng, actor: StaffUser, case: Case, site_id: int) -> None:
    """Maybe book the case's next « Entretien de conseil » at the counsellor's site."""
    if rng.random() > BOOKING_RATE:
        return
    kind = session.exec(
        select(AppointmentType).where(
            AppointmentType.operator_id == case.operator_id,
            AppointmentType.name == "Entretien de conseil",
        )
    ).first()
    if kind is None:
        return
    today = utcnow().date()
    slots = free_slots(
        session=session,
        appointment_type=kind,
        mode="on_site",
        site_id=site_id,
        start=today + timedelta(days=1),
        end=today + timedelta(days=15),
        counsellor_id=actor.id,
    )
    if not slots:
        return
    slot = rng.choice(slots[:40])
    try:
        book_appointment(
            session=session,
            appointment_type_id=kind.id,
            site_id=site_id,
            mode="on_site",
            start=slot.start,
            person=None,
            idempotency_key=None,
            via=BookingChannel.STAFF,
            actor=actor,
            beneficiary_id=case.beneficiary_id,
            case_id=case.id,
        )
    except SlotTaken:
        return
