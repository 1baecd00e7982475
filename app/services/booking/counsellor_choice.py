"""Which free counsellor takes a booking: the one whose day it fragments least, so that the
times left free stay bookable (taking the first counsellor in id order can leave a later slot
with nobody free, when another counsellor's day had exactly that hole).

Read with the free slots' own queries (load_agenda), whatever the number of counsellors."""

from datetime import UTC, datetime, time, timedelta

from sqlmodel import Session

from app.models.appointments import AppointmentType
from app.services.booking.slots import Agenda, FreeStart, free_starts, load_agenda, local_to_utc


def counsellors_by_fit(
    *,
    session: Session,
    appointment_type: AppointmentType,
    mode: str,
    site_id: int | None,
    start: datetime,
    now: datetime | None = None,
) -> list[int]:
    """Counsellors free at exactly `start`, best fit first: the fewest gaps left too short for
    another appointment of the type, then the most edges touched (an appointment, an absence or
    the opening's bounds), then the fullest day; the lowest id last, so the order is stable."""
    start = start.astimezone(UTC)
    first, last = (start - timedelta(days=1)).date(), (start + timedelta(days=1)).date()
    agenda = load_agenda(
        session=session,
        appointment_type=appointment_type,
        mode=mode,
        site_id=site_id,
        start=first,
        end=last,
    )
    fits: dict[int, tuple[int, int, int]] = {}
    for free in free_starts(
        agenda, appointment_type=appointment_type, start=first, end=last, now=now, only_at=start
    ):
        fit = _fit(agenda, free, appointment_type)
        fits[free.counsellor_id] = min(fit, fits.get(free.counsellor_id, fit))
    return sorted(fits, key=lambda counsellor_id: (fits[counsellor_id], counsellor_id))


def _fit(agenda: Agenda, free: FreeStart, kind: AppointmentType) -> tuple[int, int, int]:
    """(gaps too short, -edges touched, -appointments that day): smaller fits better."""
    blocked = timedelta(minutes=kind.duration_minutes + kind.buffer_minutes)
    until = free.start + blocked
    periods = agenda.busy[free.counsellor_id]
    # The free stretch the booking falls in: from the last busy end before it (or the opening)
    # to the next busy start after it (or the opening's close).
    stretch_from = max([free.opens, *(end for begin, end in periods if end <= free.start)])
    stretch_to = min([free.closes, *(begin for begin, end in periods if begin >= until)])
    before, after = free.start - stretch_from, stretch_to - until
    short = sum(1 for gap in (before, after) if timedelta(0) < gap < blocked)
    touched = sum(1 for gap in (before, after) if gap <= timedelta(0))
    day_from = local_to_utc(free.day, time(), free.zone)
    day_to = local_to_utc(free.day + timedelta(days=1), time(), free.zone)
    that_day = sum(1 for at in agenda.booked[free.counsellor_id] if day_from <= at < day_to)
    return (short, -touched, -that_day)
