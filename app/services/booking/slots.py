"""Free appointment slots: the counsellors' weekly openings, minus holidays, absences and
appointments, in the time zone of the place where they open.

Decisions (see also the module constants):

* **Grid.** Starts every `GRID_MINUTES` (15) from the opening's start; the appointment *and* the
  type's buffer must end by the opening's end.
* **Blocking.** A slot blocks `[start, start + duration + buffer)`. It must not overlap an
  absence, nor `[starts_at, blocks_until)` of any non-cancelled appointment of the counsellor —
  the same interval the database's no-overlap constraint protects.
* **Time zones.** An opening at a site is read in the site's zone, a remote opening (no site) in
  the operator's. Local wall times are built with zoneinfo (fold=0): a time that does not exist
  (spring forward, 02:30 in Paris) is read with the offset in force before the change, so it
  lands just after the gap (03:30); an ambiguous time (fall back) is its first occurrence. The
  grid is then walked in UTC, so an opening never yields a slot twice nor a gap.
* **Remote modes.** For phone / video, remote openings (no site) with that mode count, and so do
  openings at a site whose modes include it (a counsellor at a site may call). The slot's
  `site_id` is then None. When a `site_id` is given with a remote mode, only that site's
  openings count.
* **Holidays.** The `holidays` package for France, with the subdivision of the site's postcode
  (Moselle 57, Alsace 67/68, overseas 971–978); remote openings follow the operator's time
  zone for overseas operators, metropolitan France otherwise.
* **Who decides what.** The type must be active; whether it may be booked online is for the
  booking pages, since staff may book any active type. Inactive counsellors and inactive sites
  offer nothing.

A constant number of queries per call: openings, sites, counsellors, absences, appointments.
"""

from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

import holidays
from sqlalchemy import literal, union_all
from sqlmodel import Session, and_, col, or_, select

from app.models.appointments import (
    MODES,
    Absence,
    Appointment,
    AppointmentStatus,
    AppointmentType,
    OpeningSlot,
)
from app.models.base import utcnow
from app.models.operators import Operator, Site
from app.models.staff import StaffUser
from app.services.access.scope import owned_by

GRID_MINUTES = 15
REMOTE_MODES = ("phone", "video")

# Postcode prefix → subdivision of holidays.France (3 digits are tried before 2).
_POSTCODE_SUBDIVISIONS = {
    "57": "57",
    "67": "6AE",
    "68": "6AE",
    "971": "971",
    "972": "972",
    "973": "973",
    "974": "974",
    "975": "PM",
    "976": "976",
    "977": "BL",
    "978": "MF",
    "986": "WF",
    "987": "PF",
    "988": "NC",
}
_TIME_ZONE_SUBDIVISIONS = {
    "America/Guadeloupe": "971",
    "America/Martinique": "972",
    "America/Cayenne": "973",
    "Indian/Reunion": "974",
    "America/Miquelon": "PM",
    "Indian/Mayotte": "976",
    "America/St_Barthelemy": "BL",
    "America/Marigot": "MF",
    "Pacific/Wallis": "WF",
    "Pacific/Tahiti": "PF",
    "Pacific/Noumea": "NC",
}


@dataclass(frozen=True)
class Slot:
    start: datetime  # aware, UTC
    end: datetime  # aware, UTC
    counsellor_id: int
    site_id: int | None  # None = remote (phone / video)
    mode: str  # "on_site" | "phone" | "video"


def holiday_subdivision(*, postcode: str | None = None, time_zone: str | None = None) -> str | None:
    """The holidays.France subdivision of a postcode (or, failing one, of a time zone)."""
    if postcode:
        for length in (3, 2):
            if postcode[:length] in _POSTCODE_SUBDIVISIONS:
                return _POSTCODE_SUBDIVISIONS[postcode[:length]]
        return None
    return _TIME_ZONE_SUBDIVISIONS.get(time_zone or "")


@lru_cache(maxsize=256)
def _holidays_of(subdivision: str | None, year: int) -> frozenset[date]:
    return frozenset(holidays.France(subdiv=subdivision, years=year).keys())


# No appointment holds its counsellor longer: a type lasts at most 480 minutes plus a 120-minute
# buffer (the type_duration_range and type_buffer_range constraints).
LONGEST_APPOINTMENT = timedelta(hours=10)


def is_public_holiday(day: date, subdivision: str | None) -> bool:
    return day in _holidays_of(subdivision, day.year)


def local_to_utc(day: date, at: time, zone: ZoneInfo) -> datetime:
    """A local wall time as UTC; nonexistent times move past the gap, ambiguous take the first."""
    return datetime.combine(day, at, tzinfo=zone).astimezone(UTC)


def _days(start: date, end: date):
    day = start
    while day <= end:
        yield day
        day += timedelta(days=1)


def _opening_matches(opening, mode: str, site_id: int | None) -> bool:
    """Whether an opening (an OpeningSlot or a row of its columns) offers this mode here."""
    if mode not in opening.modes.split():
        return False
    if mode == "on_site":
        return opening.site_id is not None and opening.site_id == site_id
    return site_id is None or opening.site_id == site_id


def free_slots(
    *,
    session: Session,
    appointment_type: AppointmentType,
    mode: str,
    site_id: int | None,
    start: date,
    end: date,
    now: datetime | None = None,
    counsellor_id: int | None = None,
    only_at: datetime | None = None,
) -> list[Slot]:
    """Every (counsellor, start) free for this type, mode and site between two local dates
    (inclusive), earliest first, then by counsellor id; only those starting at `only_at` when
    given (a booking checks one start, not the whole grid)."""
    agenda = load_agenda(
        session=session,
        appointment_type=appointment_type,
        mode=mode,
        site_id=site_id,
        start=start,
        end=end,
        counsellor_id=counsellor_id,
    )
    length = timedelta(minutes=appointment_type.duration_minutes)
    found = {
        Slot(free.start, free.start + length, free.counsellor_id, free.site_id, mode)
        for free in free_starts(
            agenda,
            appointment_type=appointment_type,
            start=start,
            end=end,
            now=now,
            only_at=only_at,
        )
    }
    return sorted(found, key=lambda s: (s.start, s.counsellor_id, s.site_id or 0))


@dataclass(frozen=True)
class Agenda:
    """What the free slots are computed from, read in a constant number of queries: the
    openings offering the mode here (plain rows), each counsellor's busy periods (absences and
    appointments, `[from, until)`), and the starts of their appointments alone."""

    mode: str
    openings: list
    busy: dict[int, list[tuple[datetime, datetime]]]
    booked: dict[int, list[datetime]]
    remote_zone: str  # the operator's: remote openings are read in it


@dataclass(frozen=True)
class FreeStart:
    """A free start within one opening on one local day, with that opening's bounds (UTC)."""

    counsellor_id: int
    site_id: int | None  # None = remote (phone / video)
    start: datetime
    opens: datetime
    closes: datetime
    zone: ZoneInfo
    day: date


def load_agenda(
    *,
    session: Session,
    appointment_type: AppointmentType,
    mode: str,
    site_id: int | None,
    start: date,
    end: date,
    counsellor_id: int | None = None,
) -> Agenda | None:
    """The openings and busy periods between two local dates; None when nothing is offered."""
    if (
        not appointment_type.active
        or mode not in MODES
        or mode not in appointment_type.modes.split()
        or (mode == "on_site" and site_id is None)
        or end < start
    ):
        return None
    operator_id = appointment_type.operator_id

    # Each opening of an active counsellor, with its site's zone and postcode when the site is
    # active (None for a remote opening), in one query, as plain rows.
    query = (
        select(
            OpeningSlot.counsellor_id,
            OpeningSlot.site_id,
            OpeningSlot.weekday,
            OpeningSlot.start_time,
            OpeningSlot.end_time,
            OpeningSlot.modes,
            OpeningSlot.valid_from,
            OpeningSlot.valid_until,
            Site.time_zone,
            Site.postcode,
        )
        .join(StaffUser, StaffUser.id == OpeningSlot.counsellor_id)
        .outerjoin(Site, and_(Site.id == OpeningSlot.site_id, col(Site.active)))
        .where(
            owned_by(OpeningSlot, operator_id),
            OpeningSlot.valid_from <= end,
            or_(col(OpeningSlot.valid_until).is_(None), col(OpeningSlot.valid_until) >= start),
            owned_by(StaffUser, operator_id),
            col(StaffUser.active),
        )
    )
    if counsellor_id is not None:
        query = query.where(OpeningSlot.counsellor_id == counsellor_id)
    if site_id is not None:
        query = query.where(OpeningSlot.site_id == site_id)
    openings = [
        opening
        for opening in session.exec(query)
        if _opening_matches(opening, mode, site_id)
        and (opening.site_id is None or opening.time_zone is not None)
    ]
    if not openings:
        return None

    operator = session.get(Operator, operator_id)
    active = {opening.counsellor_id for opening in openings}
    # Local dates of any zone (UTC−10 … UTC+14) fall within a day either side in UTC.
    window_start = datetime.combine(start - timedelta(days=1), time(), tzinfo=UTC)
    window_end = datetime.combine(end + timedelta(days=2), time(), tzinfo=UTC)
    busy: dict[int, list[tuple[datetime, datetime]]] = {c: [] for c in active}
    booked: dict[int, list[datetime]] = {c: [] for c in active}
    # Plain rows, not ORM objects: a busy site has hundreds of appointments in the window.
    # Absences and appointments in one statement (one round trip); `booked` tells them apart.
    appointments = select(
        Appointment.counsellor_id,
        Appointment.starts_at,
        Appointment.blocks_until,
        literal(True).label("booked"),
    ).where(
        col(Appointment.counsellor_id).in_(active),
        Appointment.status != AppointmentStatus.CANCELLED,
        Appointment.starts_at < window_end,
        Appointment.blocks_until > window_start,
        # Redundant, but it bounds the index range: without it every past appointment of the
        # counsellors is read.
        Appointment.starts_at > window_start - LONGEST_APPOINTMENT,
    )
    absences = select(
        Absence.counsellor_id, Absence.starts_at, Absence.ends_at, literal(False).label("booked")
    ).where(
        col(Absence.counsellor_id).in_(active),
        Absence.starts_at < window_end,
        Absence.ends_at > window_start,
    )
    for who, busy_from, busy_until, is_booked in session.execute(union_all(appointments, absences)):
        busy[who].append((busy_from, busy_until))
        if is_booked:
            booked[who].append(busy_from)
    remote_zone = operator.time_zone if operator else "Europe/Paris"
    return Agenda(mode, openings, busy, booked, remote_zone)


def free_starts(
    agenda: Agenda | None,
    *,
    appointment_type: AppointmentType,
    start: date,
    end: date,
    now: datetime | None = None,
    only_at: datetime | None = None,
) -> Iterator[FreeStart]:
    """Each start of an opening's grid between two local dates where the type's appointment
    and its buffer overlap nothing busy, within the type's notice and horizon."""
    if agenda is None:
        return
    now = (now or utcnow()).astimezone(UTC)
    earliest = now + timedelta(hours=appointment_type.min_notice_hours)
    latest = now + timedelta(days=appointment_type.max_horizon_days)
    blocked = timedelta(minutes=appointment_type.duration_minutes + appointment_type.buffer_minutes)
    step = timedelta(minutes=GRID_MINUTES)
    for opening in agenda.openings:
        if opening.site_id is not None:
            zone = ZoneInfo(opening.time_zone)
            subdivision = holiday_subdivision(postcode=opening.postcode)
        else:
            zone = ZoneInfo(agenda.remote_zone)
            subdivision = holiday_subdivision(time_zone=agenda.remote_zone)
        first = max(start, opening.valid_from)
        last = min(end, opening.valid_until) if opening.valid_until else end
        slot_site = opening.site_id if agenda.mode == "on_site" else None
        periods = agenda.busy[opening.counsellor_id]
        for day in _days(first, last):
            if day.weekday() != opening.weekday or is_public_holiday(day, subdivision):
                continue
            begin = local_to_utc(day, opening.start_time, zone)
            close = local_to_utc(day, opening.end_time, zone)
            for at in _grid(begin, close, blocked, step, only_at):
                if earliest <= at <= latest and not any(
                    b_start < at + blocked and at < b_end for b_start, b_end in periods
                ):
                    yield FreeStart(opening.counsellor_id, slot_site, at, begin, close, zone, day)


def _grid(
    begin: datetime, close: datetime, blocked: timedelta, step: timedelta, only_at: datetime | None
) -> list[datetime]:
    """The starts of an opening's grid whose whole blocked span fits before it closes."""
    if only_at is not None:
        fits = begin <= only_at and only_at + blocked <= close
        return [only_at] if fits and (only_at - begin) % step == timedelta(0) else []
    starts, at = [], begin
    while at + blocked <= close:
        starts.append(at)
        at += step
    return starts


def slot_times(slots: list[Slot]) -> list[tuple[datetime, datetime, int]]:
    """Distinct (start, end, how many counsellors free) — what a public page offers."""
    distinct = {(slot.start, slot.end, slot.counsellor_id) for slot in slots}
    counts = Counter((start, end) for start, end, _counsellor in distinct)
    return [(s, e, n) for (s, e), n in sorted(counts.items())]


def counsellors_free_at(
    *,
    session: Session,
    appointment_type: AppointmentType,
    mode: str,
    site_id: int | None,
    start: datetime,
    now: datetime | None = None,
) -> list[int]:
    """Counsellors who can take exactly this start, for the booking service to try in turn."""
    start = start.astimezone(UTC)
    slots = free_slots(
        session=session,
        appointment_type=appointment_type,
        mode=mode,
        site_id=site_id,
        start=(start - timedelta(days=1)).date(),
        end=(start + timedelta(days=1)).date(),
        now=now,
        only_at=start,
    )
    return sorted({s.counsellor_id for s in slots})
