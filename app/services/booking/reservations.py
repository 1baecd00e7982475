"""Booking an appointment (online, through the public API or by staff) and asking to be called
back: the person is found or created, the request lands in the triage queue, and the database's
no-overlap rule decides who gets a slot when several people take it at once."""

import hashlib
import math
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from functools import partial
from typing import Literal, NamedTuple

from pydantic import ValidationError, field_validator, model_validator
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, SQLModel, col, select

from app.core.db import REFUSED_BY_THE_DATABASE, all_or_nothing, once_committed
from app.core.errors import Conflict, DomainError, Invalid, NotFound
from app.core.metrics import count_booking
from app.core.validation import field_errors
from app.models.appointments import (
    MODES,
    Appointment,
    AppointmentType,
    BookingChannel,
    needs_site,
)
from app.models.base import utcnow
from app.models.beneficiaries import Beneficiary, BeneficiaryCreate, OptionalEmail
from app.models.bounds import MAX_ROW_ID
from app.models.cases import Case
from app.models.consents import ConsentChannel, ConsentPurpose
from app.models.fields import (
    OptionalPhone,
    OptionalPostcode,
    PersonName,
    search_key,
)
from app.models.nomenclatures import CepSituation, Channel, RequestMotive
from app.models.operators import Operator, Site
from app.models.staff import StaffUser
from app.models.triage import TriageRequest
from app.services.access.rate_limits import check_rate, contact_keys, rate_limit_target
from app.services.access.scope import get_owned, load_owned, operator_of, owned_by
from app.services.admin.operators import time_zone_of
from app.services.booking.counsellor_choice import counsellors_by_fit
from app.services.booking.counsellor_notices import tell_booked
from app.services.booking.geography import distance_km, postcode_position
from app.services.booking.messages import queue_confirmation
from app.services.booking.orientation import check_served
from app.services.booking.slots import free_slots, slot_times
from app.services.booking.video_rooms import new_video_url
from app.services.cases.beneficiaries import find_duplicates
from app.services.privacy.consents import record_consent

NEXT_SLOTS_SHOWN = 6
NEXT_SLOTS_DAYS = 14
CALLBACK_PREFIX = "Demande de rappel (aucun créneau libre en ligne)"


class BookingPerson(SQLModel):
    """Who books, as typed in the public form or sent to the public API."""

    first_name: PersonName
    last_name: PersonName
    email: OptionalEmail = None
    phone: OptionalPhone = None
    postcode: OptionalPostcode = None
    consent: bool = False
    # Agrees to be asked for their opinion afterwards (satisfaction and utility surveys).
    survey_consent: bool = False
    request: str = ""
    # The answer to the motif's question (AppointmentType.booking_question), when it asks one.
    answer: str = ""
    # « Ce qui vous amène » and « Votre situation », for the triage request; none said: the
    # motif's usual motive, and a person in work in the private sector.
    motive: RequestMotive | None = None
    situation: CepSituation | None = None

    @field_validator("motive", "situation", mode="before")
    @classmethod
    def _none_chosen(cls, value):
        return value or None  # a select left on « Choisissez… »

    @model_validator(mode="after")
    def _trim_request(self):
        self.request = self.request.replace("\x00", "").strip()[:2000]
        self.answer = self.answer.replace("\x00", "").strip()[:2000]
        return self


class SlotTaken(Conflict):
    """Someone else got the slot first; `next_slots` are (start, end, count) still free, to be
    shown in `time_zone` when the public booking says which one."""

    default_message = "Ce créneau vient d'être réservé"

    def __init__(
        self,
        next_slots: list[tuple[datetime, datetime, int]],
        message: str | None = None,
        *,
        time_zone: str | None = None,
    ):
        super().__init__(message)
        self.next_slots = next_slots
        self.time_zone = time_zone


def _check_person(person: BookingPerson | None, *, needs_consent: bool) -> BookingPerson:
    if person is None:
        raise Invalid({"first_name": "Ce champ est obligatoire"})
    errors = {}
    if not person.email and not person.phone:
        errors["email"] = "Indiquez une adresse e-mail ou un numéro de téléphone"
    if needs_consent and not person.consent:
        errors["consent"] = "Votre accord est nécessaire pour traiter votre demande"
    if errors:
        raise Invalid(errors)
    return person


def get_bookable_type(
    *, session: Session, appointment_type_id: int, operator_id: int | None = None, online: bool
) -> AppointmentType:
    """An active type (bookable online when `online`), of the operator when one is given."""
    if operator_id is not None:
        kind = get_owned(session, AppointmentType, appointment_type_id, operator_id)
    else:  # the type names the operator booked with
        kind = (
            session.get(AppointmentType, appointment_type_id) if appointment_type_id > 0 else None
        )
    if kind is None or not kind.active or (online and not kind.online_bookable):
        raise Invalid({"appointment_type_id": "Ce motif de rendez-vous n'est pas proposé"})
    return kind


def check_place(
    *, session: Session, appointment_type: AppointmentType, mode: str, site_id: int | None
) -> Site | None:
    """The mode must be offered for the type; a visit needs an active site of the operator."""
    if mode not in MODES or mode not in appointment_type.modes.split():
        raise Invalid({"mode": "Ce mode de rendez-vous n'est pas proposé pour ce motif"})
    if site_id is None:
        if needs_site(mode):
            raise Invalid({"site_id": "Choisissez un lieu d'accueil"})
        return None
    site = get_owned(session, Site, site_id, appointment_type.operator_id)
    if site is None or not site.active:
        raise Invalid({"site_id": "Ce lieu d'accueil n'est pas proposé"})
    return site


def next_free_times(
    *,
    session: Session,
    appointment_type: AppointmentType,
    mode: str,
    site_id: int | None,
    after: datetime,
    now: datetime | None = None,
    limit: int = NEXT_SLOTS_SHOWN,
) -> list[tuple[datetime, datetime, int]]:
    """The first free (start, end, count) from `after` on, within two weeks."""
    slots = free_slots(
        session=session,
        appointment_type=appointment_type,
        mode=mode,
        site_id=site_id,
        start=after.astimezone(UTC).date() - timedelta(days=1),
        end=after.astimezone(UTC).date() + timedelta(days=NEXT_SLOTS_DAYS),
        now=now,
    )
    return [t for t in slot_times(slots) if t[0] >= after][:limit]


def _find_or_create_beneficiary(
    session: Session, operator_id: int, person: BookingPerson, actor: StaffUser | None = None
) -> Beneficiary:
    """The known person with this e-mail or phone, else a new one (de-duplicated on entry),
    with the consents they ticked recorded (_find_or_create_person)."""
    beneficiary, ticked = _find_or_create_person(session, operator_id, person)
    _record_ticked(session, beneficiary, actor, ticked)
    return beneficiary


class _Ticked(NamedTuple):
    """The consents a booking form records for its person (_record_ticked)."""

    processing: bool
    surveys: bool
    now: datetime | None = None  # a new person's: the dates their row was inserted with


def _find_or_create_person(
    session: Session, operator_id: int, person: BookingPerson
) -> tuple[Beneficiary, _Ticked]:
    """The known person with this e-mail or phone, else a new one (de-duplicated on entry), and
    the consents to record for them, left to the caller: recorded after the caller's own rows
    are added, they go to the database in one flush with them.

    A known person's identity is never overwritten from a public form: anyone may type an
    e-mail address; only their consent is recorded (and their agreement to be surveyed, unless
    they opted out: a link from our own e-mail weighs more than a box anyone may tick)."""
    data = BeneficiaryCreate(
        **person.model_dump(exclude={"request", "answer", "motive", "situation"})
    )
    known = find_duplicates(session=session, operator_id=operator_id, data=data)
    if known:
        beneficiary = min(known, key=lambda b: b.id)
        return beneficiary, _Ticked(
            processing=person.consent and beneficiary.consent_at is None,
            surveys=person.survey_consent
            and beneficiary.survey_consent_at is None
            and beneficiary.survey_opt_out_at is None,
        )
    # The dates the consents below set, written with the insert rather than updated after it.
    now = utcnow()
    beneficiary = Beneficiary(
        operator_id=operator_id,
        first_name=data.first_name,
        last_name=data.last_name,
        email=data.email.lower() if data.email else None,
        phone=data.phone,
        postcode=data.postcode,
        consent_at=now if data.consent else None,
        survey_consent_at=now if data.survey_consent else None,
    )
    digits = (beneficiary.phone or "").replace("+33", "0")
    beneficiary.search_text = search_key(
        beneficiary.first_name, beneficiary.last_name, beneficiary.email, beneficiary.phone, digits
    )[:600]
    session.add(beneficiary)
    session.flush()
    return beneficiary, _Ticked(processing=data.consent, surveys=data.survey_consent, now=now)


def _record_ticked(
    session: Session, person: Beneficiary, actor: StaffUser | None, ticked: _Ticked
) -> None:
    """The boxes the person ticked, with the texts the booking form shows (today's): by the
    person online, or by the counsellor booking for them on the phone."""
    how = ConsentChannel.PHONE if actor else ConsentChannel.ONLINE_BOOKING
    for purpose, given in (
        (ConsentPurpose.PROCESSING, ticked.processing),
        (ConsentPurpose.SURVEYS, ticked.surveys),
    ):
        if given:
            record_consent(
                session=session,
                person=person,
                purpose=purpose,
                given=True,
                actor=actor,
                how=how,
                now=ticked.now,
            )


def _triage_request(
    session: Session,
    operator_id: int,
    beneficiary_id: int,
    site_id: int | None,
    text: str,
    *,
    person: BookingPerson | None,
    kind: AppointmentType | None,
    flush: bool = True,
) -> TriageRequest:
    """The request in the triage queue, with the motive and situation the person chose (none
    from the waiting list: the motif's usual motive then); without `flush`, written by the
    caller's next flush (its id unknown till then)."""
    motive = (person and person.motive) or (kind and kind.motive) or RequestMotive.OTHER
    situation = (person and person.situation) or CepSituation.PRIVATE_WORKER
    request = TriageRequest(
        operator_id=operator_id,
        beneficiary_id=beneficiary_id,
        site_id=site_id,
        channel=Channel.WEB.value,
        motive=RequestMotive(motive).value,
        cep_situation=CepSituation(situation).value,
        request_text=text,
    )
    session.add(request)
    if flush:
        session.flush()
    return request


def scoped_idempotency_key(
    key: str | None, *, operator_id: int, person: BookingPerson | None, beneficiary_id: int | None
) -> str | None:
    """The key as stored: the one the form or the client sent, bound to the operator and the
    person booked for (the case's beneficiary, or the e-mail and phone typed), so that the
    same key sent to another operator or for someone else never finds their appointment.

    A digest, so that the one unique index on the column is unique per operator and person,
    and a key of any length fits."""
    key = (key or "").strip()
    if not key:
        return None
    if beneficiary_id is not None:
        who = f"beneficiary:{beneficiary_id}"
    elif person is not None:
        who = f"person:{(person.email or '').lower()}|{person.phone or ''}"
    else:
        who = "nobody"  # refused further on: a booking needs a person
    scope = f"{key}\n{operator_id}\n{who}"
    return "k-" + hashlib.sha256(scope.encode()).hexdigest()


def _by_key(session: Session, operator_id: int, idempotency_key: str | None) -> Appointment | None:
    if not idempotency_key:
        return None
    statement = select(Appointment).where(
        owned_by(Appointment, operator_id), Appointment.idempotency_key == idempotency_key
    )
    return session.exec(statement).first()


# Namespace of the advisory locks that queue bookings of one counsellor (PostgreSQL).
_COUNSELLOR_LOCK = 7321


def _queue_behind_other_bookings(session: Session, counsellor_id: int, held: set[int]) -> bool:
    """On PostgreSQL, wait for the counsellor's other bookings in progress to end first; False
    when that could deadlock, and the counsellor is then skipped.

    Two transactions inserting overlapping rows check the exclusion constraint against each
    other's uncommitted row and deadlock; queued, the later one sees the committed row and gets
    a plain IntegrityError. Counsellors are tried best fit first, not in id order: a booking
    waits only for a counsellor whose id is above every lock it holds, and merely tries the
    others, so that no two bookings ever wait for each other. SQLite needs nothing: its writes
    are serialised (BEGIN IMMEDIATE)."""
    if session.get_bind().dialect.name != "postgresql":
        return True
    if held and counsellor_id < max(held):
        got = session.execute(
            text("SELECT pg_try_advisory_xact_lock(:namespace, :counsellor)"),
            {"namespace": _COUNSELLOR_LOCK, "counsellor": counsellor_id},
        ).scalar()
    else:
        session.execute(
            text("SELECT pg_advisory_xact_lock(:namespace, :counsellor)"),
            {"namespace": _COUNSELLOR_LOCK, "counsellor": counsellor_id},
        )
        got = True
    if got:
        held.add(counsellor_id)
    return bool(got)


def _insert_for_first_free(
    session: Session, values: dict, counsellor_ids: list[int], *, last_raises: bool = False
) -> Appointment | None:
    """Try each counsellor in the order given; the database refuses an overlap (IntegrityError).

    With `last_raises`, the last one is tried without a savepoint of its own (two round trips
    fewer): its overlap raises the IntegrityError, for the caller's savepoint to undo
    (book_appointment answers SlotTaken); otherwise None says that nobody was free."""
    held: set[int] = set()
    for index, counsellor_id in enumerate(counsellor_ids):
        if not _queue_behind_other_bookings(session, counsellor_id, held):
            continue
        # A fresh row each time: a rolled-back insert may leave its id on the old object.
        appointment = Appointment(**values, counsellor_id=counsellor_id)
        if last_raises and index == len(counsellor_ids) - 1:
            session.add(appointment)
            session.flush()
            return appointment
        try:
            with session.begin_nested():
                session.add(appointment)
                session.flush()
        except IntegrityError as exc:
            if "no_overlap" not in str(exc.orig):
                raise
            continue
        return appointment
    return None


def book_appointment(
    *,
    session: Session,
    appointment_type_id: int,
    site_id: int | None,
    mode: str,
    start: datetime,
    person: BookingPerson | None,
    idempotency_key: str | None,
    via: BookingChannel = BookingChannel.ONLINE,
    actor: StaffUser | None = None,
    beneficiary_id: int | None = None,
    case_id: int | None = None,
    operator_id: int | None = None,
    now: datetime | None = None,
) -> Appointment:
    """Book `start` with the counsellor still free whose day it fragments least
    (counsellors_by_fit), or raise SlotTaken with what is next.

    Nothing is written when it fails: what the booking writes runs in one savepoint (the
    checks before it only read), from which a double submission racing this one is recovered,
    and each insert but the last in one of its own. The same idempotency key sent again for
    the same person at the same operator returns the appointment it booked (a double
    submission, a retry after a timeout)."""
    if actor is not None:
        operator_id = operator_of(actor)
    kind = get_bookable_type(
        session=session,
        appointment_type_id=appointment_type_id,
        operator_id=operator_id,
        online=via != BookingChannel.STAFF,
    )
    idempotency_key = scoped_idempotency_key(
        idempotency_key,
        operator_id=kind.operator_id,
        person=person,
        beneficiary_id=beneficiary_id,
    )
    try:
        site = check_place(session=session, appointment_type=kind, mode=mode, site_id=site_id)
        # Held until the end: the session's identity map keeps only the objects still
        # referenced, and the slot check and the confirmation read the operator too.
        operator = session.get(Operator, kind.operator_id)
        if start.tzinfo is None:
            raise Invalid({"start": "Créneau invalide"})
        start = start.astimezone(UTC)
        counsellor_ids = counsellors_by_fit(
            session=session,
            appointment_type=kind,
            mode=mode,
            site_id=site_id,
            start=start,
            now=now,
        )
        booked = _book_and_tell(
            session,
            kind=kind,
            site=site,
            operator_code=operator.code,
            mode=mode,
            start=start,
            person=person,
            idempotency_key=idempotency_key,
            via=via,
            actor=actor,
            beneficiary_id=beneficiary_id,
            case_id=case_id,
            counsellor_ids=counsellor_ids,
        )
    except DomainError as refused:
        # The key sent again finds what it booked, whatever refuses it now (its own booking
        # holds the slot, its key is taken): looked up on refusal only, not on every booking.
        existing = _by_key(session, kind.operator_id, idempotency_key)
        if existing is not None:
            return existing
        if not isinstance(refused, SlotTaken):
            raise
        count_booking(operator=operator.code, channel=str(via), made=False)
        raise _taken(session, kind, mode, site_id, start, now) from None
    # Counted once the request's transaction commits: a booking rolled back after this point
    # (a later step failing, the commit itself) was never made.
    made = partial(count_booking, operator=operator.code, channel=str(via), made=True)
    once_committed(session, made)
    return booked.appointment


def _taken(
    session: Session,
    kind: AppointmentType,
    mode: str,
    site_id: int | None,
    start: datetime,
    now: datetime | None,
) -> SlotTaken:
    """The slot went to someone else: what is free next, to be offered instead."""
    return SlotTaken(
        next_free_times(
            session=session,
            appointment_type=kind,
            mode=mode,
            site_id=site_id,
            after=start,
            now=now,
        )
    )


@dataclass(frozen=True)
class _Booked:
    """The new appointment with its person, held so that the messages queued next find them
    in the session (its identity map keeps only the objects still referenced) rather than
    read them again."""

    appointment: Appointment
    beneficiary: Beneficiary


def _tell_booked(session: Session, booked: _Booked, *, by_staff: bool) -> None:
    """The confirmation to the person; when they booked it themselves, the notice to their
    counsellor."""
    queue_confirmation(session=session, appointment=booked.appointment)
    if not by_staff:
        # Their counsellor came from the agenda of active counsellors (counsellors_by_fit).
        tell_booked(session=session, appointment=booked.appointment, counsellor_checked=True)


def _book_and_tell(session: Session, **booking) -> _Booked:
    """What the booking writes, in one savepoint: a double submission racing this one that
    committed first leaves its key taken (Conflict, and its booking is the answer); the last
    counsellor tried taken meanwhile (_insert_for_first_free) is a SlotTaken."""
    try:
        with session.begin_nested():
            booked = _book_in_savepoint(session, **booking)
            _tell_booked(session, booked, by_staff=booking["actor"] is not None)
    except IntegrityError as exc:
        if "no_overlap" in str(exc.orig):
            raise SlotTaken([]) from None
        raise Conflict(REFUSED_BY_THE_DATABASE) from exc
    return booked


def _book_in_savepoint(
    session: Session,
    *,
    kind: AppointmentType,
    site: Site | None,
    operator_code: str,
    mode: str,
    start: datetime,
    person: BookingPerson | None,
    idempotency_key: str | None,
    via: BookingChannel,
    actor: StaffUser | None,
    beneficiary_id: int | None,
    case_id: int | None,
    counsellor_ids: list[int],
) -> _Booked:
    if not counsellor_ids:
        raise SlotTaken([])
    operator_id = kind.operator_id
    request_text = person.request if person else ""
    # Staff book with no form to answer on: the question is kept only with its answer.
    answer = person.answer if person and kind.booking_question else ""
    if case_id is not None:
        if actor is None:
            raise NotFound()
        beneficiary_id = load_owned(session, Case, case_id, actor).beneficiary_id
    if beneficiary_id is not None:
        if actor is None:
            raise NotFound()
        beneficiary = load_owned(session, Beneficiary, beneficiary_id, actor)
        ticked = _Ticked(processing=False, surveys=False)
    else:
        person = _check_person(person, needs_consent=via != BookingChannel.STAFF)
        beneficiary, ticked = _find_or_create_person(session, operator_id, person)
    triage = None
    if via != BookingChannel.STAFF:
        site_id = site.id if site else None
        triage = _triage_request(
            session,
            operator_id,
            beneficiary.id,
            site_id,
            request_text,
            person=person,
            kind=kind,
            flush=False,
        )
    # The consents' flush writes the triage request too (one flush); this one, if none.
    _record_ticked(session, beneficiary, actor, ticked)
    session.flush()
    triage_id = triage.id if triage else None
    ends_at = start + timedelta(minutes=kind.duration_minutes)
    values = dict(
        operator_id=operator_id,
        # Temporary and unique; the readable reference needs the id (see below).
        reference=f"TMP-{uuid.uuid4().hex[:20]}",
        appointment_type_id=kind.id,
        site_id=site.id if site else None,
        mode=mode,
        starts_at=start,
        ends_at=ends_at,
        blocks_until=ends_at + timedelta(minutes=kind.buffer_minutes),
        beneficiary_id=beneficiary.id,
        triage_request_id=triage_id,
        case_id=case_id,
        booked_via=via,
        booked_by_id=actor.id if actor else None,
        request_text=request_text,
        booking_question=kind.booking_question if answer else "",
        booking_answer=answer,
        idempotency_key=idempotency_key,
        ics_uid=f"{uuid.uuid4()}@filrouge",
        video_url=new_video_url(mode),
    )
    appointment = _insert_for_first_free(session, values, counsellor_ids, last_raises=True)
    if appointment is None:
        raise SlotTaken([])
    # From the id, so that concurrent bookings never race for the same reference; written by
    # the next flush (the confirmation's), with what follows.
    appointment.reference = f"RDV-{operator_code}-{appointment.id:06d}"
    return _Booked(appointment, beneficiary)


@all_or_nothing
def request_callback(
    *,
    session: Session,
    operator_id: int,
    person: BookingPerson,
    appointment_type_id: int | None = None,
    site_id: int | None = None,
    mode: str | None = None,
) -> TriageRequest:
    """Nothing free online: the request lands in the triage queue, asking to be called back."""
    person = _check_person(person, needs_consent=True)
    if not person.phone:
        raise Invalid({"phone": "Indiquez le numéro auquel vous rappeler"})
    details = [CALLBACK_PREFIX]
    kind = None
    if appointment_type_id:
        kind = get_bookable_type(
            session=session,
            appointment_type_id=appointment_type_id,
            operator_id=operator_id,
            online=True,
        )
        details.append(f"Motif : {kind.name}")
    if mode in MODES:
        details.append(f"Mode souhaité : {_MODE_LABELS[mode]}")
    site = get_owned(session, Site, site_id, operator_id) if site_id else None
    if person.request:
        details.append(person.request)
    beneficiary = _find_or_create_beneficiary(session, operator_id, person)
    site_id = site.id if site else None
    return _triage_request(
        session, operator_id, beneficiary.id, site_id, "\n".join(details), person=person, kind=kind
    )


_MODE_LABELS = {"on_site": "sur place", "phone": "par téléphone", "video": "en visio"}


# ---------- What the public pages offer ----------


def operator_by_code(*, session: Session, code: str) -> Operator:
    operator = session.exec(select(Operator).where(Operator.code == code.strip().upper())).first()
    if operator is None:
        raise NotFound("Cet opérateur est inconnu.")
    return operator


def usual_motive(
    *, session: Session, operator_id: int, appointment_type_id: int | None
) -> str | None:
    """The motive a motif of the operator usually has (pre-selected on the forms), if any."""
    kind = (
        get_owned(session, AppointmentType, appointment_type_id, operator_id)
        if appointment_type_id
        else None
    )
    return kind.motive if kind else None


def bookable_types(*, session: Session, operator_id: int) -> list[AppointmentType]:
    statement = select(AppointmentType).where(
        owned_by(AppointmentType, operator_id),
        AppointmentType.active,
        AppointmentType.online_bookable,
    )
    return list(session.exec(statement.order_by(AppointmentType.position, AppointmentType.name)))


def departement_of_postcode(postcode: str | None) -> str | None:
    """The département a postcode usually belongs to (20xxx: 200–201 Corse-du-Sud, else 2B)."""
    if not postcode or len(postcode) != 5 or not postcode.isdigit():
        return None
    if postcode.startswith("97"):
        return postcode[:3]
    if postcode.startswith("20"):
        return "2A" if postcode[:3] in ("200", "201") else "2B"
    return postcode[:2]


def _departement_key(code: str | None) -> tuple[int, str]:
    if code in ("2A", "2B"):
        return (20, code)
    return (int(code), "") if code and code.isdigit() else (999, code or "")


def sites_for_booking(*, session: Session, operator_id: int, postcode: str | None) -> list[Site]:
    """Active sites, nearest first when the person's postcode resolves (offline data, see
    app/data), otherwise the person's département first; then by département and name."""
    sites = session.exec(select(Site).where(owned_by(Site, operator_id), Site.active)).all()
    own = departement_of_postcode(postcode)
    here = postcode_position(postcode)

    def key(site: Site):
        dept = departement_of_postcode(site.postcode)
        there = postcode_position(site.postcode) if here else None
        distance = distance_km(here, there) if there else math.inf
        return (
            distance,
            dept != own if own else False,
            _departement_key(dept),
            site.name.casefold(),
        )

    return sorted(sites, key=key)


def offered_times(
    *,
    session: Session,
    appointment_type: AppointmentType,
    mode: str,
    site_id: int | None,
    first_day: date,
    days: int = 7,
    now: datetime | None = None,
) -> list[tuple[datetime, datetime, int]]:
    """Free (start, end, count) between two local days, earliest first."""
    slots = free_slots(
        session=session,
        appointment_type=appointment_type,
        mode=mode,
        site_id=site_id,
        start=first_day,
        end=first_day + timedelta(days=days - 1),
        now=now,
    )
    return slot_times(slots)


def first_free_start(
    *,
    session: Session,
    appointment_type: AppointmentType,
    mode: str,
    site_id: int | None,
    now: datetime | None = None,
) -> datetime | None:
    """The first free start within the type's horizon, or None: then offer a callback."""
    now = now or utcnow()
    slots = free_slots(
        session=session,
        appointment_type=appointment_type,
        mode=mode,
        site_id=site_id,
        start=now.date() - timedelta(days=1),
        end=now.date() + timedelta(days=appointment_type.max_horizon_days + 1),
        now=now,
    )
    return slots[0].start if slots else None


# ---------- The public booking: the booking pages and the public API alike ----------

# Each public door has its own allowance per IP, e-mail and phone.
PUBLIC_RATE_BUCKETS = {
    BookingChannel.ONLINE: "public_booking",
    BookingChannel.API: "public_api_booking",
}


@dataclass(frozen=True)
class PublicChoice:
    """Whose agenda, which motif, how and where — as checked again at each public step."""

    operator: Operator
    kind: AppointmentType
    mode: str
    site: Site | None  # where the person comes; None on the phone or by video
    time_zone: str  # the site's, else the operator's: the times offered are shown in it


def default_mode(kind: AppointmentType, mode: str | None) -> str:
    """The mode asked for, else a visit when the motif offers one, else its first mode."""
    if mode is not None:
        return mode
    modes = kind.modes.split()
    return "on_site" if "on_site" in modes or not modes else modes[0]


def public_choice(
    *,
    session: Session,
    appointment_type_id: int,
    mode: str | None,
    site_id: int | None,
    operator_code: str | None = None,
) -> PublicChoice:
    """Check a choice made without an account: a motif bookable online (of the operator of
    the booking pages' address, when one is given), a mode it offers, and an active site of
    its operator for a visit. A phone or video appointment is held from wherever the
    counsellor works: the site is dropped, so that counsellors who work only remotely are
    offered too."""
    operator = operator_by_code(session=session, code=operator_code) if operator_code else None
    _held = _load_choice(session, appointment_type_id, site_id)
    kind = get_bookable_type(
        session=session,
        appointment_type_id=appointment_type_id,
        operator_id=operator.id if operator else None,
        online=True,
    )
    mode = default_mode(kind, mode)
    site_id = site_id if needs_site(mode) else None
    site = check_place(session=session, appointment_type=kind, mode=mode, site_id=site_id)
    operator = operator or session.get(Operator, kind.operator_id)
    return PublicChoice(
        operator=operator,
        kind=kind,
        mode=mode,
        site=site,
        time_zone=time_zone_of(session=session, operator_id=operator.id, site_id=site_id),
    )


def _load_choice(session: Session, appointment_type_id: int, site_id: int | None):
    """The motif, its operator and the site asked for, read in one query rather than three:
    the checks that follow find them in the session as long as the caller holds the row
    returned (their ownership is checked there, not here)."""
    if not 1 <= appointment_type_id <= MAX_ROW_ID:
        return None
    query = select(AppointmentType, Operator).join(Operator, owned_by(AppointmentType, Operator.id))
    if site_id is not None and 1 <= site_id <= MAX_ROW_ID:
        query = select(AppointmentType, Operator, Site).join_from(
            AppointmentType, Operator, owned_by(AppointmentType, Operator.id)
        )
        query = query.outerjoin(Site, col(Site.id) == site_id)
    return session.exec(query.where(AppointmentType.id == appointment_type_id)).first()


@dataclass(frozen=True)
class PublicBooking:
    choice: PublicChoice
    appointment: Appointment | None  # None: a robot was turned away, nothing was booked
    time_zone: str  # where the appointment takes place: its site's, else the operator's


def _count_public_request(
    session: Session,
    *,
    via: Literal[BookingChannel.ONLINE, BookingChannel.API],
    ip: str | None,
    person: Mapping[str, object],
) -> None:
    """Counted before any other query, on a connection of its own: a refused or failed
    request still counts (see rate_limit_target)."""
    email, phone = person.get("email"), person.get("phone")
    check_rate(
        session_or_engine=rate_limit_target(session),
        bucket=PUBLIC_RATE_BUCKETS[via],
        keys=contact_keys(
            ip=ip,
            email=str(email) if email else None,
            phone=str(phone) if phone else None,
        ),
    )


def booking_person(person: Mapping[str, object]) -> BookingPerson:
    """Who books, as typed; Invalid with a French message per field."""
    try:
        return BookingPerson.model_validate(dict(person))
    except ValidationError as exc:
        raise Invalid(field_errors(exc)) from exc


def book_publicly(
    *,
    session: Session,
    via: Literal[BookingChannel.ONLINE, BookingChannel.API],
    ip: str | None,
    appointment_type_id: int,
    mode: str | None,
    site_id: int | None,
    start: datetime,
    person: Mapping[str, object],
    idempotency_key: str | None,
    operator_code: str | None = None,
    robot: bool = False,
    now: datetime | None = None,
) -> PublicBooking:
    """Book a slot for someone without an account, from the booking pages
    (`via=BookingChannel.ONLINE`, which name the operator) or the public API
    (`via=BookingChannel.API`).

    The request counts against the public rate limits first (IP, e-mail, phone), then the
    choice is checked (public_choice); a robot (it filled the pages' hidden field) gets an
    answer and nothing is booked. Otherwise the person is found or created, the request lands
    in the triage queue, the best-fitting counsellor still free takes the slot and the confirmation
    is queued (book_appointment). Raises TooManyAttempts, Invalid (ServedElsewhere when the
    person's situation belongs to another network), or SlotTaken with the next free slots in
    the choice's time zone."""
    _count_public_request(session, via=via, ip=ip, person=person)
    choice = public_choice(
        session=session,
        appointment_type_id=appointment_type_id,
        mode=mode,
        site_id=site_id,
        operator_code=operator_code,
    )
    if robot:
        return PublicBooking(choice=choice, appointment=None, time_zone=choice.time_zone)
    who = booking_person(person)
    check_served(who.situation)
    try:
        appointment = book_appointment(
            session=session,
            appointment_type_id=choice.kind.id,
            site_id=choice.site.id if choice.site else None,
            mode=choice.mode,
            start=start,
            person=who,
            idempotency_key=idempotency_key,
            via=via,
            operator_id=choice.operator.id,
            now=now,
        )
    except SlotTaken as exc:
        raise SlotTaken(exc.next_slots, time_zone=choice.time_zone) from None
    time_zone = time_zone_of(
        session=session, operator_id=appointment.operator_id, site_id=appointment.site_id
    )
    return PublicBooking(choice=choice, appointment=appointment, time_zone=time_zone)


def ask_to_be_called_back(
    *,
    session: Session,
    ip: str | None,
    operator_code: str,
    person: Mapping[str, object],
    appointment_type_id: int | None = None,
    site_id: int | None = None,
    mode: str | None = None,
    robot: bool = False,
) -> Operator:
    """Nothing free online: counted like a booking, then the request lands in the triage
    queue (request_callback), unless a robot asks or another network serves the person
    (ServedElsewhere). Returns the operator asked."""
    _count_public_request(session, via=BookingChannel.ONLINE, ip=ip, person=person)
    operator = operator_by_code(session=session, code=operator_code)
    if not robot:
        who = booking_person(person)
        check_served(who.situation)
        request_callback(
            session=session,
            operator_id=operator.id,
            person=who,
            appointment_type_id=appointment_type_id,
            site_id=site_id,
            mode=mode,
        )
    return operator
