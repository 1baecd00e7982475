"""Offering freed slots to the waiting list: the worker's matching, and the person's answer.

A slot is offered by inserting an appointment in status `offered` for it: the database's
no-overlap rule refuses it when anybody holds the slot (a booking, another offer), whichever
process got there first, and while it stands nobody else is offered or books it. One entry has
one pending offer at most (WaitingListOffer.pending_entry_id is unique). Every answer claims
the offer with a conditional UPDATE on its outcome, so that of an acceptance, a refusal and the
expiry racing each other exactly one wins.

On PostgreSQL, whatever writes a held row first takes the advisory locks of its counsellors,
in id order, as a booking does (reservations._queue_behind_other_bookings): two transactions
writing overlapping rows would otherwise wait on each other's uncommitted row and deadlock,
and the one aborted could be a person's booking.
"""

import uuid
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import update
from sqlmodel import Session, col, select

from app.core.dates import to_local
from app.core.errors import Conflict, NotFound
from app.core.security import InvalidToken, read_link_token
from app.models.appointments import Appointment, AppointmentStatus, AppointmentType
from app.models.base import utcnow
from app.models.beneficiaries import Beneficiary
from app.models.operators import Operator, Site
from app.models.waiting_list import (
    HalfDay,
    OfferOutcome,
    WaitingListEntry,
    WaitingListOffer,
    WaitingStatus,
)
from app.services.admin.operators import time_zone_of
from app.services.booking.counsellor_notices import tell_booked
from app.services.booking.messages import queue_confirmation

# The booking's own steps (see waiting_list.py): the triage request an online booking files,
# and the insert that the no-overlap rule arbitrates.
from app.services.booking.reservations import (
    _insert_for_first_free,
    _queue_behind_other_bookings,
    _triage_request,
)
from app.services.booking.slots import Slot, free_slots
from app.services.booking.video_rooms import new_video_url
from app.services.booking.waiting_list_messages import queue_offer
from app.services.booking.waiting_list_sms import OFFER_PURPOSE
from app.services.messaging.sms import may_get_sms

# How far ahead freed slots are looked for: a person waits for something soon.
OFFER_HORIZON_DAYS = 28
# Entries matched per pass: the rest wait for the next pass, a few seconds later.
ENTRIES_PER_PASS = 100
NOON = 12
# Slots planned per entry and pass: enough for the entries before it to take some.
CANDIDATES_PER_ENTRY = 8


# ---------- The worker's pass ----------


def offer_freed_slots(*, session: Session, now: datetime | None = None) -> int:
    """Offer each waiting entry (oldest first) the first free slot matching its
    availabilities; returns how many offers were made.

    One indexed query when nobody waits. Entries are claimed FOR UPDATE SKIP LOCKED
    (PostgreSQL; SQLite serialises writers), so that two workers never match the same one;
    the slots are planned first, then their counsellors locked in id order, then held."""
    now = now or utcnow()
    anybody = select(WaitingListEntry.id).where(WaitingListEntry.status == WaitingStatus.WAITING)
    if session.exec(anybody.limit(1)).first() is None:
        return 0
    waiting = (
        select(WaitingListEntry)
        .where(WaitingListEntry.status == WaitingStatus.WAITING)
        .order_by(WaitingListEntry.created_at, WaitingListEntry.id)
        .limit(ENTRIES_PER_PASS)
        .with_for_update(skip_locked=True)
    )
    groups: dict[tuple, list[WaitingListEntry]] = defaultdict(list)
    for entry in session.exec(waiting).all():
        groups[(entry.appointment_type_id, entry.mode, entry.site_id)].append(entry)
    plans = [
        plan
        for (kind_id, mode, site_id), entries in groups.items()
        for plan in _plan_group(session, kind_id, mode, site_id, entries, now)
    ]
    lock_counsellors(session, [slot.counsellor_id for plan in plans for slot in plan.slots])
    gone: set[tuple[datetime, int]] = set()  # (start, counsellor) held in this pass
    made = 0
    for plan in plans:
        if not _reachable(session, plan.entry):
            continue
        for slot in plan.slots:
            if (slot.start, slot.counsellor_id) in gone:
                continue
            gone.add((slot.start, slot.counsellor_id))
            if _offer(session, plan.entry, plan.kind, plan.operator, slot, now):
                made += 1
                break
    return made


def _reachable(session: Session, entry: WaitingListEntry) -> bool:
    """An offer is answered from its link: someone who can no longer be written to (e-mail
    erased, STOP answered) is paused rather than held slots nobody tells them about."""
    person = session.get(Beneficiary, entry.beneficiary_id)
    if person.anonymised_at is None and (person.email or may_get_sms(person)):
        return True
    entry.status = WaitingStatus.PAUSED
    session.add(entry)
    return False


@dataclass
class _Plan:
    entry: WaitingListEntry
    kind: AppointmentType
    operator: Operator
    slots: list[Slot]  # the first free ones that suit the entry, earliest first


def _plan_group(session, kind_id, mode, site_id, entries, now) -> list[_Plan]:
    """Entries waiting for the same motif, mode and site share one computation of free slots;
    each gets its first few that suit it (one taken in this pass, the next is tried)."""
    kind = session.get(AppointmentType, kind_id)
    if kind is None or not kind.active or not kind.online_bookable:
        return []
    today = now.astimezone(UTC).date()
    horizon = min(kind.max_horizon_days, OFFER_HORIZON_DAYS)
    slots = free_slots(
        session=session,
        appointment_type=kind,
        mode=mode,
        site_id=site_id,
        start=today - timedelta(days=1),
        end=today + timedelta(days=horizon + 1),
        now=now,
    )
    if not slots:
        return []
    operator = session.get(Operator, kind.operator_id)
    zone = time_zone_of(session=session, operator_id=operator.id, site_id=site_id)
    offered_before = _starts_offered_before(session, [entry.id for entry in entries])
    plans = []
    for entry in entries:
        suiting = [
            slot
            for slot in slots
            if slot.start not in offered_before[entry.id] and _suits(entry, slot, zone)
        ]
        if suiting:
            plans.append(_Plan(entry, kind, operator, suiting[:CANDIDATES_PER_ENTRY]))
    return plans


def _suits(entry: WaitingListEntry, slot: Slot, zone: str) -> bool:
    local = to_local(slot.start, zone)
    half_day = HalfDay.MORNING if local.hour < NOON else HalfDay.AFTERNOON
    return entry.free_on(local.weekday(), half_day)


def _starts_offered_before(session: Session, entry_ids: list[int]) -> dict[int, set[datetime]]:
    """The starts each entry was offered already: declined or let go, never offered again."""
    found: dict[int, set[datetime]] = defaultdict(set)
    query = select(WaitingListOffer.entry_id, WaitingListOffer.starts_at).where(
        col(WaitingListOffer.entry_id).in_(entry_ids)
    )
    for entry_id, starts_at in session.exec(query):
        found[entry_id].add(starts_at)
    return found


def _offer(session, entry, kind, operator, slot: Slot, now: datetime) -> bool:
    """Hold the slot for the entry and tell them; False when somebody holds it already."""
    ends_at = slot.start + timedelta(minutes=kind.duration_minutes)
    values = dict(
        operator_id=operator.id,
        reference=f"TMP-{uuid.uuid4().hex[:20]}",
        appointment_type_id=kind.id,
        site_id=slot.site_id,
        mode=entry.mode,
        starts_at=slot.start,
        ends_at=ends_at,
        blocks_until=ends_at + timedelta(minutes=kind.buffer_minutes),
        status=AppointmentStatus.OFFERED,
        beneficiary_id=entry.beneficiary_id,
        ics_uid=f"{uuid.uuid4()}@filrouge",
        video_url=new_video_url(entry.mode),
    )
    held = _insert_for_first_free(session, values, [slot.counsellor_id])
    if held is None:
        return False
    held.reference = f"RDV-{operator.code}-{held.id:06d}"
    session.add(held)
    offer = WaitingListOffer(
        operator_id=operator.id,
        entry_id=entry.id,
        pending_entry_id=entry.id,
        appointment_id=held.id,
        starts_at=slot.start,
        counsellor_id=slot.counsellor_id,
        offered_at=now,
        expires_at=min(now + timedelta(hours=operator.waiting_offer_hours), slot.start),
    )
    session.add(offer)
    entry.status = WaitingStatus.OFFERED
    entry.updated_at = now
    session.add(entry)
    session.flush()
    queue_offer(session=session, offer=offer, appointment=held)
    return True


def expire_offers(*, session: Session, now: datetime | None = None) -> int:
    """Offers left unanswered past their time: the slot goes back, the person is paused (no
    more offers until they say they still wait)."""
    now = now or utcnow()
    due = select(WaitingListOffer).where(
        WaitingListOffer.outcome == OfferOutcome.PENDING,
        col(WaitingListOffer.expires_at) <= now,
    )
    offers = session.exec(due).all()
    lock_counsellors(session, [offer.counsellor_id for offer in offers])
    ended = 0
    for offer in offers:
        if _close(session, offer, OfferOutcome.EXPIRED, now, still_due=True):
            _release(session, offer)
            _set_entry(session, offer.entry_id, WaitingStatus.PAUSED, now)
            ended += 1
    return ended


# ---------- Claiming and releasing ----------


def lock_counsellors(session: Session, counsellor_ids: list[int]) -> None:
    """Queue behind the bookings in progress of these counsellors, in id order (PostgreSQL)."""
    held: set[int] = set()
    for counsellor_id in sorted(set(counsellor_ids)):
        _queue_behind_other_bookings(session, counsellor_id, held)


def _close(
    session: Session, offer: WaitingListOffer, outcome: OfferOutcome, now, *, still_due=False
) -> bool:
    """Claim a pending offer for `outcome`; False when another answer (or the expiry) came
    first. An acceptance or a refusal counts only before the offer expires."""
    condition = [
        col(WaitingListOffer.id) == offer.id,
        WaitingListOffer.outcome == OfferOutcome.PENDING,
    ]
    if still_due:
        condition.append(col(WaitingListOffer.expires_at) <= now)
    elif outcome != OfferOutcome.WITHDRAWN:
        condition.append(col(WaitingListOffer.expires_at) > now)
    claim = (
        update(WaitingListOffer)
        .where(*condition)
        .values(outcome=outcome, answered_at=now, pending_entry_id=None)
        .execution_options(synchronize_session=False)
    )
    claimed = session.exec(claim).rowcount == 1
    session.refresh(offer)
    return claimed


def _release(session: Session, offer: WaitingListOffer) -> None:
    """The slot held for the offer is free again: its row goes (it was nobody's appointment)."""
    held_id = offer.appointment_id
    offer.appointment_id = None
    session.add(offer)
    session.flush()
    held = session.get(Appointment, held_id) if held_id is not None else None
    if held is not None and held.status == AppointmentStatus.OFFERED:
        session.delete(held)
        session.flush()


def _set_entry(
    session: Session,
    entry_id: int,
    status: WaitingStatus,
    now: datetime,
    *,
    was: WaitingStatus = WaitingStatus.OFFERED,
) -> None:
    """From `was` to `status`: not when the person left or was removed meanwhile."""
    entry = session.get(WaitingListEntry, entry_id, with_for_update=True)
    if entry.status != was:
        return
    entry.status = status
    entry.updated_at = now
    session.add(entry)
    session.flush()


def withdraw_offer(*, session: Session, offer: WaitingListOffer, now: datetime) -> None:
    """The entry leaves the list while offered a slot: the slot goes back to the others."""
    lock_counsellors(session, [offer.counsellor_id])
    if _close(session, offer, OfferOutcome.WITHDRAWN, now):
        _release(session, offer)


# ---------- The person's answer, from the signed link ----------


class InvalidOfferLink(NotFound):
    default_message = "Ce lien n'est pas valide."


class OfferGone(Conflict):
    """Too late: the offer expired, was answered already, or the person left the list."""

    def __init__(self, offer: "OfferView"):
        super().__init__("Cette proposition n'est plus valable.")
        self.view = offer


@dataclass
class OfferView:
    offer: WaitingListOffer
    entry: WaitingListEntry
    kind: AppointmentType
    operator: Operator
    site: Site | None  # where a visit takes place
    time_zone: str
    appointment: Appointment | None  # the held slot while pending, the booking once accepted

    def open(self, now: datetime | None = None) -> bool:
        return self.offer.outcome == OfferOutcome.PENDING and self.offer.expires_at > (
            now or utcnow()
        )


def open_offer(*, session: Session, token: str) -> OfferView:
    try:
        offer_id = read_link_token(token, purpose=OFFER_PURPOSE)
    except InvalidToken as exc:
        raise InvalidOfferLink() from exc
    offer = session.get(WaitingListOffer, offer_id)
    if offer is None:
        raise InvalidOfferLink()
    entry = session.get(WaitingListEntry, offer.entry_id)
    kind = session.get(AppointmentType, entry.appointment_type_id)
    appointment = session.get(Appointment, offer.appointment_id) if offer.appointment_id else None
    return OfferView(
        offer=offer,
        entry=entry,
        kind=kind,
        operator=session.get(Operator, offer.operator_id),
        site=session.get(Site, entry.site_id) if entry.site_id else None,
        time_zone=time_zone_of(
            session=session, operator_id=offer.operator_id, site_id=entry.site_id
        ),
        appointment=appointment,
    )


def accept_offer(*, session: Session, token: str, now: datetime | None = None) -> OfferView:
    """The held slot becomes the person's appointment, booked as online: its triage request,
    its confirmation (e-mail, SMS) and the counsellor's notice. OfferGone when too late."""
    now = now or utcnow()
    view = open_offer(session=session, token=token)
    lock_counsellors(session, [view.offer.counsellor_id])
    if not _close(session, view.offer, OfferOutcome.ACCEPTED, now):
        raise OfferGone(view)
    appointment = session.get(Appointment, view.offer.appointment_id)
    triage = _triage_request(
        session,
        view.offer.operator_id,
        appointment.beneficiary_id,
        appointment.site_id,
        "",
        person=None,
        kind=session.get(AppointmentType, appointment.appointment_type_id),
    )
    appointment.status = AppointmentStatus.BOOKED
    appointment.triage_request_id = triage.id
    appointment.updated_at = now
    session.add(appointment)
    view.entry.status = WaitingStatus.BOOKED
    view.entry.appointment_id = appointment.id
    view.entry.ended_at = view.entry.updated_at = now
    session.add(view.entry)
    session.flush()
    queue_confirmation(session=session, appointment=appointment)
    tell_booked(session=session, appointment=appointment)
    view.appointment = appointment
    return view


def decline_offer(*, session: Session, token: str, now: datetime | None = None) -> OfferView:
    """Not free then: the slot goes to the next person; this one keeps their place."""
    now = now or utcnow()
    view = open_offer(session=session, token=token)
    lock_counsellors(session, [view.offer.counsellor_id])
    if not _close(session, view.offer, OfferOutcome.DECLINED, now):
        raise OfferGone(view)
    _release(session, view.offer)
    view.appointment = None
    if view.entry.status == WaitingStatus.OFFERED:
        _set_entry(session, view.entry.id, WaitingStatus.WAITING, now)
    return view


def stay_on_list(*, session: Session, token: str, now: datetime | None = None) -> OfferView:
    """After an offer ran out: the person still waits, in their place."""
    view = open_offer(session=session, token=token)
    _set_entry(
        session, view.entry.id, WaitingStatus.WAITING, now or utcnow(), was=WaitingStatus.PAUSED
    )
    return view
