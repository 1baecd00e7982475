"""Cancelling and moving a booked appointment, from the beneficiary's link or by staff; each
change raises the calendar SEQUENCE and queues its notice."""

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from app.core.dates import local_today, to_local
from app.core.errors import Conflict, Invalid, NotFound
from app.core.security import InvalidToken, read_link_token
from app.models.appointments import Appointment, AppointmentStatus, AppointmentType
from app.models.base import utcnow
from app.services.access.rate_limits import check_slot_listing
from app.services.booking.counsellor_notices import tell_cancelled, tell_moved
from app.services.booking.details import LINK_PURPOSE, AppointmentDetails, appointment_details
from app.services.booking.messages import queue_cancellation, queue_moved
from app.services.booking.reservations import offered_times
from app.services.booking.slots import counsellors_free_at, free_slots, slot_times

NEXT_SLOTS_SHOWN = 12


class InvalidLink(NotFound):
    default_message = (
        "Ce lien n'est pas valide ou a expiré. Pour modifier votre rendez-vous, contactez votre "
        "lieu d'accueil."
    )


class TooLateToChange(Conflict):
    """Past the type's cancellation cut-off, the beneficiary must call instead."""


class SlotTaken(Conflict):
    """Someone booked the chosen start first; `next_slots` are the ones still free."""

    default_message = "Ce créneau vient d'être réservé. Choisissez un autre horaire."

    def __init__(self, next_slots: list[tuple[datetime, datetime, int]]):
        super().__init__()
        self.next_slots = next_slots


def open_by_link(*, session: Session, token: str) -> AppointmentDetails:
    """The appointment a manage link points to; InvalidLink when tampered, expired or unknown."""
    try:
        appointment_id = read_link_token(token, purpose=LINK_PURPOSE)
    except InvalidToken as exc:
        raise InvalidLink() from exc
    appointment = session.get(Appointment, appointment_id)
    if appointment is None:
        raise InvalidLink()
    return appointment_details(session=session, appointment=appointment)


def change_deadline(appointment: Appointment, appointment_type: AppointmentType) -> datetime:
    """Until when the beneficiary may still cancel or move it themselves."""
    return appointment.starts_at - timedelta(hours=appointment_type.cancel_cutoff_hours)


def can_change(details: AppointmentDetails, now: datetime | None = None) -> bool:
    appointment = details.appointment
    return appointment.status == AppointmentStatus.BOOKED and (now or utcnow()) < change_deadline(
        appointment, details.appointment_type
    )


def cancel_appointment(
    *,
    session: Session,
    appointment_id: int,
    by: str = "beneficiary",
    reason: str = "",
    now: datetime | None = None,
) -> Appointment:
    """Cancel a booked appointment (beneficiaries only before the cut-off); frees its time.
    `reason`: what the beneficiary wrote, if anything, kept for the counsellor."""
    now = now or utcnow()
    details = _changeable(session, appointment_id, by=by, now=now)
    appointment = details.appointment
    appointment.status = AppointmentStatus.CANCELLED
    appointment.cancelled_at = now
    appointment.cancel_reason = reason
    appointment.ics_sequence += 1
    appointment.updated_at = now
    session.add(appointment)
    session.flush()
    queue_cancellation(session=session, appointment=appointment)
    if by == "beneficiary":
        tell_cancelled(session=session, appointment=appointment)
    return appointment


def move_appointment(
    *,
    session: Session,
    appointment_id: int,
    start: datetime,
    by: str = "beneficiary",
    now: datetime | None = None,
) -> Appointment:
    """Move to another free start of the same type, mode and site; the counsellor changes
    only when theirs is taken. SlotTaken, with the next free slots, when nobody is free."""
    now = now or utcnow()
    details = _changeable(session, appointment_id, by=by, now=now)
    appointment, kind = details.appointment, details.appointment_type
    previous_start, previous_counsellor_id = appointment.starts_at, appointment.counsellor_id
    candidates = counsellors_free_at(
        session=session,
        appointment_type=kind,
        mode=appointment.mode,
        site_id=appointment.site_id,
        start=start,
        now=now,
    )
    # Keep the same counsellor when they are free: the beneficiary may have met them already.
    candidates.sort(key=lambda counsellor_id: counsellor_id != appointment.counsellor_id)
    for counsellor_id in candidates:
        if _try_move(session, appointment, kind, start=start, counsellor_id=counsellor_id, now=now):
            queue_moved(session=session, appointment=appointment, previous_start=previous_start)
            if by == "beneficiary":
                tell_moved(
                    session=session,
                    appointment=appointment,
                    previous_counsellor_id=previous_counsellor_id,
                )
            return appointment
    raise SlotTaken(next_free_slots(session=session, details=details, now=now))


def next_free_slots(
    *, session: Session, details: AppointmentDetails, now: datetime | None = None
) -> list[tuple[datetime, datetime, int]]:
    """The earliest free starts of the same type, mode and site (other than the current one)."""
    now = now or utcnow()
    appointment, kind = details.appointment, details.appointment_type
    today = local_today(details.time_zone, now=now)
    slots = free_slots(
        session=session,
        appointment_type=kind,
        mode=appointment.mode,
        site_id=appointment.site_id,
        start=today,
        end=today + timedelta(days=kind.max_horizon_days),
        now=now,
    )
    times = [t for t in slot_times(slots) if t[0] != appointment.starts_at]
    return times[:NEXT_SLOTS_SHOWN]


def _changeable(session: Session, appointment_id: int, *, by: str, now: datetime):
    appointment = session.get(Appointment, appointment_id)
    if appointment is None:
        raise NotFound("Rendez-vous introuvable.")
    details = appointment_details(session=session, appointment=appointment)
    if appointment.status != AppointmentStatus.BOOKED:
        raise Conflict("Ce rendez-vous n'est plus modifiable : il est annulé ou déjà passé.")
    if by == "beneficiary" and not can_change(details, now):
        raise TooLateToChange(too_late_message(details))
    return details


def too_late_message(details: AppointmentDetails) -> str:
    hours = details.appointment_type.cancel_cutoff_hours
    # Neither sites nor operators have a phone number yet: show it as soon as one exists.
    phone = getattr(details.site, "phone", None) or getattr(details.operator, "phone", None)
    contact = f"appelez le {phone}" if phone else f"contactez {details.operator.name}"
    return (
        f"Ce rendez-vous ne peut plus être annulé ou déplacé en ligne moins de {hours} heures "
        f"avant son début. Si vous ne pouvez pas venir, {contact} en indiquant la référence "
        f"{details.appointment.reference}. Merci de nous prévenir."
    )


def _try_move(
    session: Session,
    appointment: Appointment,
    kind: AppointmentType,
    *,
    start: datetime,
    counsellor_id: int,
    now: datetime,
) -> bool:
    """One attempt in a savepoint: the database's no-overlap rule refuses a taken counsellor."""
    ends_at = start + timedelta(minutes=kind.duration_minutes)
    try:
        with session.begin_nested():
            appointment.starts_at = start
            appointment.ends_at = ends_at
            appointment.blocks_until = ends_at + timedelta(minutes=kind.buffer_minutes)
            appointment.counsellor_id = counsellor_id
            appointment.ics_sequence += 1
            # The new time deserves its own reminder.
            appointment.reminder_sent_at = None
            appointment.updated_at = now
            session.add(appointment)
            session.flush()
    except IntegrityError:
        session.refresh(appointment)
        return False
    return True


# ---- the beneficiary's link -----------------------------------------------------------------


@dataclass
class MoveWeek:
    """A week of free starts a link's appointment may move to (its own start left out), as
    the booking's slot step shows them; `movable` False: too late to move it online."""

    details: AppointmentDetails
    movable: bool
    today: date
    week: date
    horizon: date  # the last day that may be booked
    times: list[tuple[datetime, datetime, int]]


def move_week(
    *,
    session: Session,
    token: str,
    ip: str | None,
    week: date | None,
    even_if_too_late: bool = False,
    now: datetime | None = None,
) -> MoveWeek:
    """The free starts of a week from `week` (never before today; by default the week of the
    first free start), counted as a listing of free slots against `ip` (None: not counted, as
    when they are shown again after a refused move)."""
    if ip is not None:
        check_slot_listing(session=session, ip=ip)
    details = open_by_link(session=session, token=token)
    now = now or utcnow()
    today = local_today(details.time_zone, now=now)
    horizon = today + timedelta(days=details.appointment_type.max_horizon_days)
    if not even_if_too_late and not can_change(details, now):
        return MoveWeek(details, False, today, today, horizon, [])
    if week is None:
        first = next_free_slots(session=session, details=details, now=now)[:1]
        week = to_local(first[0][0], details.time_zone).date() if first else today
    week = max(week, today)
    appointment = details.appointment
    times = offered_times(
        session=session,
        appointment_type=details.appointment_type,
        mode=appointment.mode,
        site_id=appointment.site_id,
        first_day=week,
        now=now,
    )
    times = [t for t in times if t[0] != appointment.starts_at]
    return MoveWeek(details, True, today, week, horizon, times)


REASON_MAX_LENGTH = 500


def cancel_by_link(*, session: Session, token: str, reason: str = "") -> Appointment:
    """Cancel a link's appointment, with the reason the person gave (optional)."""
    details = open_by_link(session=session, token=token)
    reason = reason.strip()
    if len(reason) > REASON_MAX_LENGTH:
        raise Invalid({"reason": f"{REASON_MAX_LENGTH} caractères au plus"})
    return cancel_appointment(session=session, appointment_id=details.appointment.id, reason=reason)


def move_by_link(*, session: Session, token: str, ip: str, start: datetime | None) -> Appointment:
    """Move a link's appointment to `start`, one of the starts offered (None: anything else
    was sent). A refused move lists the free slots again: it counts as a listing, first."""
    check_slot_listing(session=session, ip=ip)
    details = open_by_link(session=session, token=token)
    if start is None:
        raise Invalid({"start": "Choisissez un des horaires proposés."})
    return move_appointment(session=session, appointment_id=details.appointment.id, start=start)
