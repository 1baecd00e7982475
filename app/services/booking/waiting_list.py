"""The waiting list, as people join and leave it and as staff see it. The offers of freed
slots (matching, accepting, declining, expiring) are in waiting_list_offers.py."""

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session, col, or_, select

from app.core.dates import WEEKDAYS, format_datetime
from app.core.errors import Invalid, NotFound
from app.core.security import InvalidToken, read_link_token
from app.models.appointments import AppointmentType, BookingChannel
from app.models.base import utcnow
from app.models.beneficiaries import Beneficiary
from app.models.nomenclatures import Role
from app.models.operators import Operator, Site
from app.models.staff import StaffSite, StaffUser
from app.models.waiting_list import (
    ON_THE_LIST,
    HalfDay,
    OfferOutcome,
    WaitingListEntry,
    WaitingListOffer,
    WaitingOfferDelay,
    WaitingStatus,
)
from app.services.access.rate_limits import check_rate, contact_keys, rate_limit_target
from app.services.access.scope import load_owned, operator_of, owned_by
from app.services.admin.operators import time_zone_of
from app.services.booking.availability import require_type_admin
from app.services.booking.reservations import (
    PUBLIC_RATE_BUCKETS,
    PublicChoice,
    _check_person,
    _find_or_create_beneficiary,
    booking_person,
    public_choice,
)
from app.services.booking.waiting_list_messages import queue_joined
from app.services.booking.waiting_list_offers import withdraw_offer
from app.services.booking.waiting_list_sms import LEAVE_PURPOSE

# The booking's own steps, reused so that a person joins the list exactly as they would book:
# the same checks of their details, the same de-duplicated person, the same consent records.
from app.services.messaging.sms import mobile_number

WEEKDAY_VALUES = tuple(str(day) for day in range(7))
HALF_DAY_VALUES = tuple(half_day.value for half_day in HalfDay)
MODE_NAMES = {"on_site": "sur place", "phone": "par téléphone", "video": "en visio"}


# ---------- Joining and leaving (no account) ----------


@dataclass(frozen=True)
class Joined:
    choice: PublicChoice
    entry: WaitingListEntry | None  # None: a robot was turned away


def join_publicly(
    *,
    session: Session,
    ip: str | None,
    operator_code: str,
    appointment_type_id: int,
    mode: str | None,
    site_id: int | None,
    weekdays: list[str],
    half_days: list[str],
    person: Mapping[str, object],
    robot: bool = False,
    now: datetime | None = None,
) -> Joined:
    """Put someone on the list for a motif, a mode (and a site for a visit), free on
    `weekdays` (0 = Monday) and `half_days`; counted against the public booking's rate
    limits first. The same person waiting for the same thing keeps their place and gets
    their new availabilities. The confirmation carries the link to leave the list."""
    email, phone = person.get("email"), person.get("phone")
    check_rate(
        session_or_engine=rate_limit_target(session),
        bucket=PUBLIC_RATE_BUCKETS[BookingChannel.ONLINE],
        keys=contact_keys(
            ip=ip, email=str(email) if email else None, phone=str(phone) if phone else None
        ),
    )
    choice = public_choice(
        session=session,
        appointment_type_id=appointment_type_id,
        mode=mode,
        site_id=site_id,
        operator_code=operator_code,
    )
    if robot:
        return Joined(choice, None)
    weekdays, half_days = _known(weekdays, WEEKDAY_VALUES), _known(half_days, HALF_DAY_VALUES)
    errors = _availability_errors(weekdays, half_days)
    try:
        checked = _check_person(booking_person(person), needs_consent=True)
    except Invalid as exc:
        raise Invalid({**errors, **exc.fields}) from None
    if not checked.email and not mobile_number(checked.phone):
        # An offer is answered from its link: someone we cannot write to would hold slots.
        errors["phone"] = (
            "Indiquez une adresse e-mail ou un téléphone portable pour être prévenu·e."
        )
    if errors:
        raise Invalid(errors)
    beneficiary = _find_or_create_beneficiary(session, choice.operator.id, checked)
    now = now or utcnow()
    entry = _waiting_already(session, choice, beneficiary.id) or WaitingListEntry(
        operator_id=choice.operator.id,
        appointment_type_id=choice.kind.id,
        mode=choice.mode,
        site_id=choice.site.id if choice.site else None,
        beneficiary_id=beneficiary.id,
        created_at=now,
    )
    entry.weekdays = " ".join(weekdays)
    entry.half_days = " ".join(half_days)
    if entry.status == WaitingStatus.PAUSED:
        entry.status = WaitingStatus.WAITING
    entry.updated_at = now
    session.add(entry)
    session.flush()
    queue_joined(session=session, entry=entry)
    return Joined(choice, entry)


def _waiting_already(
    session: Session, choice: PublicChoice, beneficiary_id: int
) -> WaitingListEntry | None:
    query = select(WaitingListEntry).where(
        owned_by(WaitingListEntry, choice.operator.id),
        WaitingListEntry.beneficiary_id == beneficiary_id,
        WaitingListEntry.appointment_type_id == choice.kind.id,
        WaitingListEntry.mode == choice.mode,
        WaitingListEntry.site_id == (choice.site.id if choice.site else None),
        col(WaitingListEntry.status).in_(ON_THE_LIST),
    )
    return session.exec(query).first()


class InvalidLeaveLink(NotFound):
    default_message = "Ce lien n'est pas valide ou a expiré."


def entry_by_link(*, session: Session, token: str) -> WaitingListEntry:
    try:
        entry_id = read_link_token(token, purpose=LEAVE_PURPOSE)
    except InvalidToken as exc:
        raise InvalidLeaveLink() from exc
    entry = session.get(WaitingListEntry, entry_id)
    if entry is None:
        raise InvalidLeaveLink()
    return entry


def leave_by_link(*, session: Session, token: str, now: datetime | None = None) -> WaitingListEntry:
    """The person leaves the list; a slot held for them goes back to the others. Leaving twice
    is leaving once."""
    entry = entry_by_link(session=session, token=token)
    _take_off(session, entry, WaitingStatus.LEFT, now or utcnow())
    return entry


def _take_off(session: Session, entry: WaitingListEntry, status: WaitingStatus, now) -> None:
    # Locked first (PostgreSQL): a worker making this entry an offer right now finishes, and
    # its offer is then withdrawn below.
    session.refresh(entry, with_for_update=True)
    if entry.status not in ON_THE_LIST:
        return
    pending = session.exec(
        select(WaitingListOffer).where(WaitingListOffer.pending_entry_id == entry.id)
    ).first()
    if pending is not None:
        withdraw_offer(session=session, offer=pending, now=now)
    entry.status = status
    entry.ended_at = entry.updated_at = now
    session.add(entry)
    session.flush()


def close_for_site(*, session: Session, site_id: int, now: datetime) -> int:
    """The site closes: nobody waits for it any more, and the slots held there go back."""
    entries = session.exec(
        select(WaitingListEntry).where(
            WaitingListEntry.site_id == site_id, col(WaitingListEntry.status).in_(ON_THE_LIST)
        )
    ).all()
    for entry in entries:
        _take_off(session, entry, WaitingStatus.REMOVED, now)
    return len(entries)


def forget_person(*, session: Session, person_id: int, now: datetime) -> None:
    """Anonymisation: the person leaves every list (their held slots go back to the others)
    and what they said of their availabilities is erased."""
    entries = select(WaitingListEntry).where(WaitingListEntry.beneficiary_id == person_id)
    for entry in session.exec(entries).all():
        _take_off(session, entry, WaitingStatus.REMOVED, now)
        entry.weekdays = entry.half_days = ""
        session.add(entry)
    session.flush()


# ---------- What staff see ----------


@dataclass
class WaitingRow:
    entry: WaitingListEntry
    person: Beneficiary
    availability: str
    since: str
    offer: str  # « jeudi 4 mars à 14 h 00, jusqu'au … » or ""

    @property
    def status_label(self) -> str:
        return WaitingStatus(self.entry.status).label


@dataclass
class WaitingGroup:
    motif: str
    place: str
    rows: list[WaitingRow]


def availability_label(weekdays: str, half_days: str) -> str:
    """« lundi, jeudi — matin »."""
    days = ", ".join(WEEKDAYS[int(d)] for d in weekdays.split() if d.isdigit())
    moments = " et ".join(HalfDay(h).label.lower() for h in half_days.split() if h)
    return f"{days} — {moments}" if days else ""


def _site_scope(session: Session, actor: StaffUser):
    """Operator admins see every entry; others those of their sites and the remote ones."""
    if actor.role == Role.OPERATOR_ADMIN:
        return None
    their_sites = select(StaffSite.site_id).where(StaffSite.staff_id == actor.id)
    return or_(
        col(WaitingListEntry.site_id).is_(None), col(WaitingListEntry.site_id).in_(their_sites)
    )


def waiting_list(*, session: Session, actor: StaffUser) -> list[WaitingGroup]:
    """The people on the list the actor may see, per motif and place, oldest first."""
    operator_id = operator_of(actor)
    query = (
        select(WaitingListEntry, Beneficiary, AppointmentType.name, Site.name)
        .join(Beneficiary, col(Beneficiary.id) == WaitingListEntry.beneficiary_id)
        .join(AppointmentType, col(AppointmentType.id) == WaitingListEntry.appointment_type_id)
        .outerjoin(Site, col(Site.id) == WaitingListEntry.site_id)
        .where(
            owned_by(WaitingListEntry, operator_id),
            col(WaitingListEntry.status).in_(ON_THE_LIST),
        )
        .order_by(AppointmentType.name, Site.name, WaitingListEntry.created_at, WaitingListEntry.id)
    )
    scope = _site_scope(session, actor)
    if scope is not None:
        query = query.where(scope)
    found = list(session.exec(query))
    offers = _pending_offers(session, [entry.id for entry, *_ in found])
    zone = time_zone_of(session=session, operator_id=operator_id)
    groups: dict[tuple[str, str], WaitingGroup] = {}
    for entry, person, motif, site_name in found:
        place = site_name or f"À distance ({MODE_NAMES[entry.mode]})"
        group = groups.setdefault((motif, place), WaitingGroup(motif, place, []))
        offer = offers.get(entry.id)
        group.rows.append(
            WaitingRow(
                entry=entry,
                person=person,
                availability=availability_label(entry.weekdays, entry.half_days),
                since=format_datetime(entry.created_at, zone),
                offer=(
                    f"{format_datetime(offer.starts_at, zone)}, réponse attendue avant le "
                    f"{format_datetime(offer.expires_at, zone)}"
                )
                if offer
                else "",
            )
        )
    return list(groups.values())


def _pending_offers(session: Session, entry_ids: list[int]) -> dict[int, WaitingListOffer]:
    if not entry_ids:
        return {}
    query = select(WaitingListOffer).where(
        col(WaitingListOffer.pending_entry_id).in_(entry_ids),
        WaitingListOffer.outcome == OfferOutcome.PENDING,
    )
    return {offer.entry_id: offer for offer in session.exec(query)}


def remove_entry(
    *, session: Session, actor: StaffUser, entry_id: int, now: datetime | None = None
) -> WaitingListEntry:
    """A counsellor or manager takes someone off the list (they found a slot by phone…)."""
    entry = load_owned(session, WaitingListEntry, entry_id, actor)
    scope = _site_scope(session, actor)
    if scope is not None:
        visible = select(WaitingListEntry.id).where(WaitingListEntry.id == entry.id, scope)
        if session.exec(visible).first() is None:
            raise NotFound()
    _take_off(session, entry, WaitingStatus.REMOVED, now or utcnow())
    return entry


def _known(values: list[str], allowed: tuple[str, ...]) -> list[str]:
    """The values ticked, in their usual order; anything else sent is ignored."""
    return [value for value in allowed if value in values]


def _availability_errors(weekdays: list[str], half_days: list[str]) -> dict[str, str]:
    errors = {}
    if not weekdays:
        errors["jours"] = "Cochez au moins un jour"
    if not half_days:
        errors["moments"] = "Cochez le matin, l'après-midi ou les deux"
    return errors


# ---------- The operator admin's setting ----------


def offer_delay(*, session: Session, actor: StaffUser) -> int:
    """« Délai pour accepter une place libérée », in hours, of the admin's operator."""
    require_type_admin(actor)
    return session.get(Operator, operator_of(actor)).waiting_offer_hours


def save_offer_delay(*, session: Session, actor: StaffUser, data: WaitingOfferDelay) -> Operator:
    require_type_admin(actor)
    operator = session.get(Operator, operator_of(actor))
    operator.waiting_offer_hours = data.waiting_offer_hours
    session.add(operator)
    session.flush()
    return operator
