"""The waiting list's rules: joining, matching a freed slot (a cancellation, a new opening) to
the first person waiting whose availabilities fit, the offer held as an appointment, and the
answers (accept, decline, expiry), the clock driven by `now=`."""

from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta

import pytest
from sqlalchemy.exc import IntegrityError
from sqlmodel import select

from app.core.errors import Invalid
from app.core.security import create_link_token
from app.models.appointments import Appointment, AppointmentStatus, OpeningSlot
from app.models.base import utcnow
from app.models.beneficiaries import Beneficiary
from app.models.nomenclatures import Role
from app.models.operators import SiteClosing
from app.models.triage import TriageRequest
from app.models.waiting_list import (
    OfferOutcome,
    WaitingListEntry,
    WaitingListOffer,
    WaitingStatus,
)
from app.services.admin.site_closing import close_site
from app.services.booking.changes import cancel_appointment
from app.services.booking.reservations import BookingPerson, book_appointment
from app.services.booking.waiting_list import forget_person, join_publicly, leave_by_link
from app.services.booking.waiting_list_offers import (
    OfferGone,
    accept_offer,
    decline_offer,
    expire_offers,
    offer_freed_slots,
    stay_on_list,
)
from app.services.booking.waiting_list_sms import (
    LEAVE_PURPOSE,
    OFFER_PURPOSE,
    write_waiting_list_sms,
)
from app.services.personal_space.contents import space_view
from app.services.personal_space.links import mint_link, open_space
from app.services.privacy.anonymise import anonymise
from tests.factories import (
    make_appointment_type,
    make_operator,
    make_site,
    make_staff,
    outbox_messages,
    sms_messages,
    working_day_at,
)


@dataclass
class Place:
    operator: object
    site: object
    counsellor: object
    kind: object
    start: datetime  # the one slot of the agenda, UTC

    @property
    def weekday(self) -> str:
        return str(self.start.astimezone(self.site_zone).weekday())

    @property
    def site_zone(self):
        from zoneinfo import ZoneInfo

        return ZoneInfo(self.site.time_zone)


def open_one_slot(session, counsellor, site, start: datetime) -> None:
    """A 9:00–10:00 opening on the day of `start` only: one slot of an hour."""
    day = start.date()
    session.add(
        OpeningSlot(
            operator_id=counsellor.operator_id,
            counsellor_id=counsellor.id,
            site_id=site.id,
            weekday=day.weekday(),
            start_time=time(9),
            end_time=time(10),
            valid_from=day,
            valid_until=day,
        )
    )
    session.flush()


@pytest.fixture
def place(session) -> Place:
    operator = make_operator(session)
    site = make_site(session, operator)
    counsellor = make_staff(session, operator)
    kind = make_appointment_type(session, operator, name="Premier rendez-vous CEP")
    start = working_day_at(site, days_ahead=10, hour=9)
    open_one_slot(session, counsellor, site, start)
    return Place(operator, site, counsellor, kind, start.astimezone(UTC))


def join(session, place, n: int, *, now, moments=("morning",), phone=None, days=None):
    person = {
        "first_name": "Personne",
        "last_name": f"N{n}",
        "email": f"personne{n}@exemple.fr",
        "phone": phone or "",
        "consent": True,
    }
    return join_publicly(
        session=session,
        ip=None,
        operator_code=place.operator.code,
        appointment_type_id=place.kind.id,
        mode="on_site",
        site_id=place.site.id,
        weekdays=days if days is not None else [place.weekday],
        half_days=list(moments),
        person=person,
        now=now,
    ).entry


def book_the_slot(session, place, who="prise@exemple.fr") -> Appointment:
    return book_appointment(
        session=session,
        appointment_type_id=place.kind.id,
        site_id=place.site.id,
        mode="on_site",
        start=place.start,
        person=BookingPerson(first_name="Déjà", last_name="Inscrite", email=who, consent=True),
        idempotency_key=None,
        operator_id=place.operator.id,
    )


def pending_offer(session, entry) -> WaitingListOffer | None:
    return session.exec(
        select(WaitingListOffer).where(WaitingListOffer.pending_entry_id == entry.id)
    ).first()


def offer_token(offer) -> str:
    return create_link_token(purpose=OFFER_PURPOSE, subject_id=offer.id)


# ---------- Joining ----------


def test_joining_records_the_availabilities_and_sends_the_link_to_leave(session, place):
    entry = join(session, place, 1, now=utcnow(), moments=("morning", "afternoon"))
    assert entry.status == WaitingStatus.WAITING
    assert entry.weekdays == place.weekday and entry.half_days == "morning afternoon"
    mail = outbox_messages(session)[-1]
    assert mail.recipient == "personne1@exemple.fr"
    assert "/rendez-vous/liste-attente/quitter/" in mail.body_text


def test_joining_twice_keeps_the_place_and_updates_the_availabilities(session, place):
    first = join(session, place, 1, now=utcnow() - timedelta(days=3))
    again = join(session, place, 1, now=utcnow(), moments=("afternoon",))
    assert again.id == first.id and again.half_days == "afternoon"


def test_joining_needs_a_day_a_half_day_a_contact_and_consent(session, place):
    with pytest.raises(Invalid) as refused:
        join_publicly(
            session=session,
            ip=None,
            operator_code=place.operator.code,
            appointment_type_id=place.kind.id,
            mode="on_site",
            site_id=place.site.id,
            weekdays=["9"],
            half_days=[],
            person={"first_name": "Inès", "last_name": "Moreau"},
        )
    assert set(refused.value.fields) == {"jours", "moments", "email", "consent"}
    assert session.exec(select(WaitingListEntry)).all() == []


def test_a_mobile_number_gets_the_confirmation_by_sms_too(session, place):
    entry = join(session, place, 1, now=utcnow(), phone="06 12 34 56 78")
    sms = sms_messages(session)[-1]
    assert sms.recipient == "+33612345678" and sms.template == "waiting_list_joined"
    text = write_waiting_list_sms(session=session, message=sms)
    assert "/s/" in text and len(text) <= 160 and entry.id


def test_the_link_leaves_the_list(session, place):
    entry = join(session, place, 1, now=utcnow())
    token = create_link_token(purpose=LEAVE_PURPOSE, subject_id=entry.id)
    leave_by_link(session=session, token=token)
    assert entry.status == WaitingStatus.LEFT
    assert offer_freed_slots(session=session) == 0


# ---------- Matching ----------


def test_a_cancellation_is_offered_to_the_first_person_waiting(session, place):
    taken = book_the_slot(session, place)
    now = utcnow()
    first = join(session, place, 1, now=now - timedelta(hours=2))
    second = join(session, place, 2, now=now - timedelta(hours=1))
    assert offer_freed_slots(session=session, now=now) == 0  # nothing free yet
    cancel_appointment(session=session, appointment_id=taken.id, by="staff")
    assert offer_freed_slots(session=session, now=now) == 1
    offer = pending_offer(session, first)
    held = session.get(Appointment, offer.appointment_id)
    assert held.status == AppointmentStatus.OFFERED and held.starts_at == place.start
    assert held.beneficiary_id == first.beneficiary_id
    assert first.status == WaitingStatus.OFFERED and second.status == WaitingStatus.WAITING
    assert offer.expires_at == now + timedelta(hours=2)  # the operator's default delay
    mail = outbox_messages(session)[-1]
    assert mail.recipient == "personne1@exemple.fr"
    assert "/rendez-vous/place-liberee/" in mail.body_text
    # Held: nobody else is offered it, and the next pass does nothing.
    assert offer_freed_slots(session=session, now=now) == 0


def test_a_new_opening_is_offered_and_the_offer_goes_by_sms(session, place):
    other_day = working_day_at(place.site, days_ahead=12, hour=9)
    entry = join(
        session,
        place,
        1,
        now=utcnow(),
        phone="0612345678",
        days=[str(other_day.weekday())],
    )
    session.delete(session.exec(select(OpeningSlot)).one())  # no opening that day yet
    assert offer_freed_slots(session=session) == 0
    open_one_slot(session, place.counsellor, place.site, other_day)
    assert offer_freed_slots(session=session) == 1
    sms = sms_messages(session)[-1]
    assert sms.template == "waiting_list_offer"
    text = write_waiting_list_sms(session=session, message=sms)
    assert text.startswith("Place libérée : RDV le") and "/s/" in text and len(text) <= 160
    assert pending_offer(session, entry) is not None


def test_only_a_slot_within_the_persons_availabilities_is_offered(session, place):
    afternoons = join(session, place, 1, now=utcnow() - timedelta(hours=1), moments=("afternoon",))
    mornings = join(session, place, 2, now=utcnow())
    assert offer_freed_slots(session=session) == 1
    assert pending_offer(session, afternoons) is None
    assert pending_offer(session, mornings) is not None


def test_the_database_refuses_to_hold_a_slot_already_booked(session, place):
    booked = book_the_slot(session, place)
    held = Appointment(
        **{
            name: getattr(booked, name)
            for name in (
                "operator_id",
                "appointment_type_id",
                "counsellor_id",
                "site_id",
                "mode",
                "starts_at",
                "ends_at",
                "blocks_until",
                "beneficiary_id",
            )
        },
        reference="RDV-HOLD",
        ics_uid="hold@filrouge",
        status=AppointmentStatus.OFFERED,
    )
    with pytest.raises(IntegrityError), session.begin_nested():
        session.add(held)
        session.flush()


def test_a_held_slot_is_not_offered_online(session, place):
    join(session, place, 1, now=utcnow())
    offer_freed_slots(session=session)
    with pytest.raises(Exception) as refused:
        book_the_slot(session, place, who="autre@exemple.fr")
    assert type(refused.value).__name__ == "SlotTaken"


# ---------- Answers ----------


def test_accepting_books_the_held_slot_as_an_online_booking(session, place):
    entry = join(session, place, 1, now=utcnow())
    offer_freed_slots(session=session)
    offer = pending_offer(session, entry)
    view = accept_offer(session=session, token=offer_token(offer))
    appointment = view.appointment
    assert appointment.id == offer.appointment_id
    assert appointment.status == AppointmentStatus.BOOKED
    triage = session.get(TriageRequest, appointment.triage_request_id)
    assert triage.beneficiary_id == entry.beneficiary_id
    assert entry.status == WaitingStatus.BOOKED and entry.appointment_id == appointment.id
    assert offer.outcome == OfferOutcome.ACCEPTED and offer.pending_entry_id is None
    confirmation = outbox_messages(session)[-1]
    assert confirmation.subject.startswith("Rendez-vous confirmé")
    with pytest.raises(OfferGone):  # a second click
        accept_offer(session=session, token=offer_token(offer))


def test_declining_frees_the_slot_for_the_next_person(session, place):
    now = utcnow()
    first = join(session, place, 1, now=now - timedelta(hours=1))
    second = join(session, place, 2, now=now)
    offer_freed_slots(session=session, now=now)
    offer = pending_offer(session, first)
    decline_offer(session=session, token=offer_token(offer), now=now)
    assert offer.outcome == OfferOutcome.DECLINED and offer.appointment_id is None
    assert session.exec(select(Appointment)).all() == []  # the held row is gone
    assert first.status == WaitingStatus.WAITING  # keeps their place…
    assert offer_freed_slots(session=session, now=now) == 1
    assert pending_offer(session, first) is None  # …but is not offered that start again
    assert pending_offer(session, second).starts_at == place.start


def test_an_offer_left_unanswered_expires_and_goes_to_the_next(session, place):
    now = utcnow()
    first = join(session, place, 1, now=now - timedelta(hours=1))
    second = join(session, place, 2, now=now)
    offer_freed_slots(session=session, now=now)
    offer = pending_offer(session, first)
    later = now + timedelta(hours=2, minutes=1)
    assert expire_offers(session=session, now=later) == 1
    assert offer_freed_slots(session=session, now=later) == 1
    assert offer.outcome == OfferOutcome.EXPIRED and first.status == WaitingStatus.PAUSED
    assert pending_offer(session, second) is not None
    with pytest.raises(OfferGone) as late:
        accept_offer(session=session, token=offer_token(offer), now=later)
    assert late.value.view.entry.status == WaitingStatus.PAUSED
    stay_on_list(session=session, token=offer_token(offer), now=later)
    assert first.status == WaitingStatus.WAITING


def test_leaving_while_offered_gives_the_slot_back(session, place):
    now = utcnow()
    first = join(session, place, 1, now=now - timedelta(hours=1))
    second = join(session, place, 2, now=now)
    offer_freed_slots(session=session, now=now)
    leave_by_link(
        session=session, token=create_link_token(purpose=LEAVE_PURPOSE, subject_id=first.id)
    )
    assert pending_offer(session, first) is None
    assert offer_freed_slots(session=session, now=now) == 1
    assert pending_offer(session, second) is not None


def test_anonymisation_takes_the_person_off_the_list(session, place):
    entry = join(session, place, 1, now=utcnow())
    offer_freed_slots(session=session)
    forget_person(session=session, person_id=entry.beneficiary_id, now=utcnow())
    assert entry.status == WaitingStatus.REMOVED and entry.weekdays == ""
    assert session.exec(select(Appointment)).all() == []


# ---------- Who can be offered a slot, and where ----------


def test_a_landline_alone_cannot_join_since_an_offer_could_not_reach_it(session, place):
    with pytest.raises(Invalid) as refused:
        join_publicly(
            session=session,
            ip=None,
            operator_code=place.operator.code,
            appointment_type_id=place.kind.id,
            mode="on_site",
            site_id=place.site.id,
            weekdays=[place.weekday],
            half_days=["morning"],
            person={"first_name": "Fixe", "last_name": "Seul", "phone": "04 72 00 00 00",
                    "consent": True},
        )  # fmt: skip
    assert "téléphone portable" in refused.value.fields["phone"]
    assert session.exec(select(WaitingListEntry)).all() == []


def test_someone_who_can_no_longer_be_written_to_is_paused_not_offered(session, place):
    taken = book_the_slot(session, place)
    first = join(session, place, 1, now=utcnow() - timedelta(hours=2))
    second = join(session, place, 2, now=utcnow() - timedelta(hours=1))
    session.get(Beneficiary, first.beneficiary_id).email = None  # erased by their counsellor
    cancel_appointment(session=session, appointment_id=taken.id, by="staff")
    assert offer_freed_slots(session=session) == 1
    assert pending_offer(session, first) is None and first.status == WaitingStatus.PAUSED
    assert pending_offer(session, second) is not None


def test_closing_the_site_takes_its_waiting_list_off_and_gives_held_slots_back(session, place):
    taken = book_the_slot(session, place)
    entry = join(session, place, 1, now=utcnow() - timedelta(hours=1))
    cancel_appointment(session=session, appointment_id=taken.id, by="staff")
    assert offer_freed_slots(session=session) == 1
    offer = pending_offer(session, entry)
    admin = make_staff(session, place.operator, role=Role.OPERATOR_ADMIN)
    close_site(session=session, actor=admin, site_id=place.site.id, data=SiteClosing(listed=0))
    assert entry.status == WaitingStatus.REMOVED
    with pytest.raises(OfferGone):
        accept_offer(session=session, token=offer_token(offer))
    held = select(Appointment).where(Appointment.status == AppointmentStatus.OFFERED)
    assert session.exec(held).all() == []  # the slot held is given back


def test_a_slot_held_for_the_person_is_not_among_their_appointments_in_their_space(session, place):
    taken = book_the_slot(session, place)
    entry = join(session, place, 1, now=utcnow() - timedelta(hours=1))
    cancel_appointment(session=session, appointment_id=taken.id, by="staff")
    assert offer_freed_slots(session=session) == 1
    person = session.get(Beneficiary, entry.beneficiary_id)
    space = open_space(session=session, token=mint_link(session=session, person=person).token)
    view = space_view(session=session, space=space)
    assert view.upcoming == [] and view.past == []


def test_anonymising_erases_the_reason_given_for_cancelling(session, place):
    appointment = book_the_slot(session, place)
    cancel_appointment(
        session=session, appointment_id=appointment.id, reason="En arrêt maladie", by="staff"
    )
    person = session.get(Beneficiary, appointment.beneficiary_id)
    assert anonymise(session=session, person=person, now=utcnow())
    session.refresh(appointment)
    assert appointment.cancel_reason == ""
