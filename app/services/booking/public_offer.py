"""What the public booking pages and API show before a booking: the operator's motifs, the
sites to visit, the free times of a week or of a range of days. Every listing of free times
counts against the address's allowance first (SLOT_LISTING)."""

import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlmodel import Session

from app.core.dates import format_long_day, local_today, to_local
from app.core.errors import Invalid
from app.models.appointments import AppointmentType, needs_site
from app.models.base import utcnow
from app.models.operators import Operator, Site
from app.services.access.rate_limits import check_slot_listing
from app.services.booking.reservations import (
    PublicChoice,
    bookable_types,
    first_free_start,
    get_bookable_type,
    offered_times,
    operator_by_code,
    public_choice,
    sites_for_booking,
)
from app.services.booking.slots import free_slots, slot_times

# The public API lists at most this many days per call.
MAX_RANGE_DAYS = 31
_MODE_NOT_OFFERED = "Ce mode de rendez-vous n'est pas proposé pour ce motif"


@dataclass(frozen=True)
class MotifStep:
    """The first step: the operator's motifs bookable online."""

    operator: Operator
    types: list[AppointmentType]


def motif_step(*, session: Session, operator_code: str) -> MotifStep:
    operator = operator_by_code(session=session, code=operator_code)
    return MotifStep(operator, bookable_types(session=session, operator_id=operator.id))


def sites_to_visit(*, session: Session, operator_code: str, postcode: str | None) -> list[Site]:
    """The operator's active sites, nearest to the person's postcode first."""
    operator = operator_by_code(session=session, code=operator_code)
    return sites_for_booking(session=session, operator_id=operator.id, postcode=postcode)


@dataclass(frozen=True)
class PlaceStep:
    """The motif and mode chosen; for a visit, the sites to choose from, nearest first."""

    operator: Operator
    kind: AppointmentType
    mode: str
    sites: list[Site]


def place_step(
    *, session: Session, operator_code: str, appointment_type_id: int, mode: str, postcode: str
) -> PlaceStep:
    """Check the motif and its mode (Invalid otherwise); no site is needed but for a visit."""
    operator = operator_by_code(session=session, code=operator_code)
    kind = get_bookable_type(
        session=session,
        appointment_type_id=appointment_type_id,
        operator_id=operator.id,
        online=True,
    )
    if mode not in kind.modes.split():
        raise Invalid({"mode": _MODE_NOT_OFFERED})
    # Asked here once for the whole booking: a postcode that cannot be one is asked again now.
    if postcode and not re.fullmatch(r"\d{5}", postcode):
        raise Invalid({"postcode": "Indiquez un code postal à 5 chiffres, ou laissez vide."})
    sites = (
        sites_for_booking(session=session, operator_id=operator.id, postcode=postcode)
        if needs_site(mode)
        else []
    )
    return PlaceStep(operator=operator, kind=kind, mode=mode, sites=sites)


@dataclass(frozen=True)
class SlotWeek:
    """A week of free times, from the first day asked for (never before today)."""

    choice: PublicChoice
    today: date
    first: datetime | None  # the first free start within the motif's horizon: None, call back
    week: date
    horizon: date  # the last day that may be booked
    times: list[tuple[datetime, datetime, int]]  # (start, end, counsellors free)


def slot_week(
    *,
    session: Session,
    ip: str | None,
    operator_code: str,
    appointment_type_id: int,
    mode: str,
    site_id: int | None,
    week: date | None,
    now: datetime | None = None,
) -> SlotWeek:
    """The free times of a week for the booking pages: the week of the first free time unless
    one is asked for. `ip` is the address the listing counts against (None: not counted, as
    when the slots are shown again after one was taken)."""
    if ip is not None:
        # Counted first, on a connection of its own: a refused listing costs no other query.
        check_slot_listing(session=session, ip=ip)
    choice = public_choice(
        session=session,
        appointment_type_id=appointment_type_id,
        mode=mode,
        site_id=site_id,
        operator_code=operator_code,
    )
    now = now or utcnow()
    today = local_today(choice.time_zone, now=now)
    site_id = choice.site.id if choice.site else None
    first = first_free_start(
        session=session, appointment_type=choice.kind, mode=choice.mode, site_id=site_id, now=now
    )
    if week is None:
        week = to_local(first, choice.time_zone).date() if first else today
    week = max(week, today)
    times = (
        offered_times(
            session=session,
            appointment_type=choice.kind,
            mode=choice.mode,
            site_id=site_id,
            first_day=week,
            now=now,
        )
        if first is not None
        else []  # nothing free within the horizon, hence none this week
    )
    horizon = today + timedelta(days=choice.kind.max_horizon_days)
    return SlotWeek(choice, today, first, week, horizon, times)


def times_by_day(times, time_zone: str) -> list[tuple[str, list[tuple[str, str]]]]:
    """[(« lundi 7 décembre 2026 », [(ISO start, « 09 h 30 »), …]), …] in the site's zone: the
    day cards of the slot pickers (booking, moving)."""
    days: dict[date, list[tuple[str, str]]] = {}
    for start, _end, _count in times:
        local = to_local(start, time_zone)
        days.setdefault(local.date(), []).append((start.isoformat(), f"{local:%H} h {local:%M}"))
    return [(format_long_day(day), slots) for day, slots in sorted(days.items())]


def free_times_between(
    *,
    session: Session,
    ip: str,
    appointment_type_id: int,
    mode: str | None,
    site_id: int | None,
    first_day: date,
    last_day: date,
) -> tuple[PublicChoice, list[tuple[datetime, datetime, int]]]:
    """The free times between two local days (MAX_RANGE_DAYS at most), earliest first, for the
    public API; with the choice they were checked against (its time zone shows them)."""
    check_slot_listing(session=session, ip=ip)
    if last_day < first_day:
        raise Invalid({"last_day": "Le dernier jour ne peut pas précéder le premier."})
    if (last_day - first_day).days >= MAX_RANGE_DAYS:
        raise Invalid({"last_day": f"{MAX_RANGE_DAYS} jours au plus par demande"})
    choice = public_choice(
        session=session, appointment_type_id=appointment_type_id, mode=mode, site_id=site_id
    )
    slots = free_slots(
        session=session,
        appointment_type=choice.kind,
        mode=choice.mode,
        site_id=choice.site.id if choice.site else None,
        start=first_day,
        end=last_day,
    )
    return choice, slot_times(slots)
