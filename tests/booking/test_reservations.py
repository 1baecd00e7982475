"""Booking an appointment online: idempotency, de-duplication, triage, validation, races lost."""

from datetime import UTC, timedelta

import pytest
from sqlmodel import select

from app.core.errors import Invalid
from app.models.appointments import Appointment
from app.models.beneficiaries import Beneficiary
from app.models.outbox import OutboxMessage
from app.models.triage import TriageRequest
from app.services.booking.reservations import (
    BookingPerson,
    SlotTaken,
    book_appointment,
    request_callback,
    sites_for_booking,
)
from tests.factories import (
    make_appointment_type,
    make_case,
    make_openings,
    make_operator,
    make_site,
    make_staff,
    working_day_at,
)


@pytest.fixture
def agenda(session):
    operator = make_operator(session)
    site = make_site(session, operator)
    counsellor = make_staff(session, operator)
    make_openings(session, counsellor, site)
    kind = make_appointment_type(session, operator)
    return operator, site, kind, counsellor


def person(**overrides) -> BookingPerson:
    values = {
        "first_name": "Inès",
        "last_name": "Moreau",
        "email": "ines.moreau@exemple.fr",
        "phone": "06 12 34 56 78",
        "postcode": "69003",
        "consent": True,
        "request": "Je voudrais me reconvertir.",
    }
    return BookingPerson(**{**values, **overrides})


def book(session, agenda, *, start=None, key="cle-1", **overrides):
    operator, site, kind, _ = agenda
    values = {
        "session": session,
        "appointment_type_id": kind.id,
        "site_id": site.id,
        "mode": "on_site",
        "start": start or working_day_at(site),
        "person": person(),
        "idempotency_key": key,
        **overrides,
    }
    return book_appointment(**values)


def test_booking_creates_the_appointment_with_reference_and_triage_item(session, agenda):
    operator, site, kind, counsellor = agenda
    appointment = book(session, agenda)
    assert appointment.reference == f"RDV-ARA-{appointment.id:06d}"
    assert appointment.counsellor_id == counsellor.id
    assert appointment.ics_uid.endswith("@filrouge")
    assert appointment.ends_at - appointment.starts_at == timedelta(minutes=60)
    assert appointment.blocks_until == appointment.ends_at
    triage = session.get(TriageRequest, appointment.triage_request_id)
    assert (triage.channel, triage.status, triage.site_id) == ("web", "pending", site.id)
    assert triage.request_text == "Je voudrais me reconvertir."
    assert triage.beneficiary_id == appointment.beneficiary_id
    assert session.get(Beneficiary, appointment.beneficiary_id).consent_at is not None


def test_blocks_until_includes_the_type_buffer(session, agenda):
    operator, site, kind, _ = agenda
    kind.buffer_minutes = 15
    session.add(kind)
    appointment = book(session, agenda)
    assert appointment.blocks_until == appointment.ends_at + timedelta(minutes=15)


def test_booking_queues_the_confirmation_email(session, agenda):
    book(session, agenda)
    recipients = session.exec(select(OutboxMessage.recipient)).all()
    assert "ines.moreau@exemple.fr" in recipients


def test_double_submitted_form_books_once(session, agenda):
    first = book(session, agenda, key="meme-cle")
    second = book(session, agenda, key="meme-cle")
    assert second.id == first.id
    assert len(session.exec(select(Appointment)).all()) == 1


@pytest.fixture
def other_agenda(session):
    """A second operator, open at the same hours."""
    operator = make_operator(session, "BRE", name="Bretagne")
    site = make_site(session, operator, name="Rennes", postcode="35000", city="Rennes")
    counsellor = make_staff(session, operator)
    make_openings(session, counsellor, site)
    kind = make_appointment_type(session, operator)
    return operator, site, kind, counsellor


def test_a_key_replayed_at_another_operator_books_anew(session, agenda, other_agenda):
    first = book(session, agenda, key="meme-cle")
    replayed = book(session, other_agenda, key="meme-cle", operator_id=other_agenda[0].id)
    assert replayed.id != first.id
    assert replayed.operator_id == other_agenda[0].id


def test_a_key_replayed_for_another_person_never_returns_their_appointment(session, agenda):
    _, site, _, _ = agenda
    first = book(session, agenda, key="meme-cle")
    someone_else = person(first_name="Paul", email="paul@exemple.fr", phone="06 98 76 54 32")
    replayed = book(
        session, agenda, key="meme-cle", person=someone_else, start=working_day_at(site, hour=11)
    )
    assert replayed.id != first.id
    assert replayed.beneficiary_id != first.beneficiary_id


def test_a_key_replayed_for_another_person_on_a_taken_slot_is_refused(session, agenda):
    book(session, agenda, key="meme-cle")
    with pytest.raises(SlotTaken):
        book(session, agenda, key="meme-cle", person=person(email="b@exemple.fr", phone=None))


def test_a_staff_key_is_bound_to_the_case_beneficiary(session, agenda):
    operator, site, kind, counsellor = agenda
    first_case, second_case = make_case(session, counsellor), make_case(session, counsellor)

    def book_for(case, hour):
        return book(
            session,
            agenda,
            key="staff-cle",
            person=None,
            via="staff",
            actor=counsellor,
            beneficiary_id=case.beneficiary_id,
            case_id=case.id,
            start=working_day_at(site, hour=hour),
        )

    first = book_for(first_case, 9)
    assert book_for(first_case, 9).id == first.id
    other = book_for(second_case, 11)
    assert other.id != first.id and other.case_id == second_case.id


def test_known_email_or_phone_finds_the_same_beneficiary(session, agenda):
    _, site, _, _ = agenda
    first = book(session, agenda, key="a")
    by_phone = book(
        session,
        agenda,
        key="b",
        start=working_day_at(site, hour=11),
        person=person(email="autre@exemple.fr", first_name="Usurpation"),
    )
    assert by_phone.beneficiary_id == first.beneficiary_id
    # A public form never rewrites a known person's identity.
    assert session.get(Beneficiary, first.beneficiary_id).first_name == "Inès"


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"mode": "carrier_pigeon"}, "mode"),
        ({"site_id": None}, "site_id"),
        ({"appointment_type_id": 999_999}, "appointment_type_id"),
        ({"person": person(consent=False)}, "consent"),
        ({"person": person(email=None, phone=None)}, "email"),
    ],
)
def test_bad_input_names_the_field_and_writes_nothing(session, agenda, overrides, field):
    with pytest.raises(Invalid) as caught:
        book(session, agenda, **overrides)
    assert field in caught.value.fields
    assert session.exec(select(TriageRequest)).all() == []
    assert session.exec(select(Beneficiary)).all() == []


def test_type_not_bookable_online_is_refused(session, agenda):
    _, _, kind, _ = agenda
    kind.online_bookable = False
    session.add(kind)
    with pytest.raises(Invalid) as caught:
        book(session, agenda)
    assert "appointment_type_id" in caught.value.fields


def test_site_of_another_operator_is_refused(session, agenda):
    other_site = make_site(session, make_operator(session, code="BRE", name="Bretagne"))
    with pytest.raises(Invalid) as caught:
        book(session, agenda, site_id=other_site.id)
    assert "site_id" in caught.value.fields


def test_taken_slot_raises_with_the_next_free_slots_and_writes_nothing(session, agenda):
    _, site, _, _ = agenda
    start = working_day_at(site)
    book(session, agenda, start=start, key="first")
    with pytest.raises(SlotTaken) as caught:
        book(
            session,
            agenda,
            start=start,
            key="second",
            person=person(email="b@exemple.fr", phone=None),
        )
    assert caught.value.message == "Ce créneau vient d'être réservé"
    assert caught.value.status_code == 409
    starts = [s for s, _e, _n in caught.value.next_slots]
    assert starts and starts[0] == start.astimezone(UTC) + timedelta(hours=1)
    assert len(session.exec(select(TriageRequest)).all()) == 1
    assert (
        session.exec(select(Beneficiary).where(Beneficiary.email == "b@exemple.fr")).first() is None
    )


def test_second_counsellor_takes_the_same_slot(session, agenda):
    operator, site, _, first_counsellor = agenda
    second_counsellor = make_staff(session, operator)
    make_openings(session, second_counsellor, site)
    start = working_day_at(site)
    a = book(session, agenda, start=start, key="a")
    b = book(session, agenda, start=start, key="b", person=person(email="b@exemple.fr", phone=None))
    assert {a.counsellor_id, b.counsellor_id} == {first_counsellor.id, second_counsellor.id}


def test_callback_request_lands_in_triage_without_appointment(session, agenda):
    operator, site, kind, _ = agenda
    triage = request_callback(
        session=session,
        operator_id=operator.id,
        person=person(request="Plutôt le soir"),
        appointment_type_id=kind.id,
        mode="phone",
    )
    assert triage.channel == "web" and triage.status == "pending"
    assert "rappel" in triage.request_text and "Plutôt le soir" in triage.request_text
    assert session.exec(select(Appointment)).all() == []


def test_a_booking_whose_confirmation_fails_leaves_nothing(session, agenda, monkeypatch):
    def refuse(**_):
        raise Invalid({"email": "Refusé"})

    monkeypatch.setattr("app.services.booking.reservations.queue_confirmation", refuse)
    with pytest.raises(Invalid):
        book(session, agenda)
    assert session.exec(select(Appointment)).all() == []
    assert session.exec(select(TriageRequest)).all() == []
    assert session.exec(select(Beneficiary)).all() == []


def test_a_callback_whose_request_fails_leaves_no_beneficiary(session, agenda, monkeypatch):
    operator, *_ = agenda

    def refuse(*_args, **_kwargs):
        raise Invalid({"request": "Refusé"})

    monkeypatch.setattr("app.services.booking.reservations._triage_request", refuse)
    with pytest.raises(Invalid):
        request_callback(session=session, operator_id=operator.id, person=person())
    assert session.exec(select(Beneficiary)).all() == []


def test_callback_needs_a_phone(session, agenda):
    operator, *_ = agenda
    with pytest.raises(Invalid) as caught:
        request_callback(session=session, operator_id=operator.id, person=person(phone=None))
    assert "phone" in caught.value.fields


def test_sites_of_the_persons_departement_come_first(session):
    operator = make_operator(session)
    make_site(session, operator, name="Annecy", postcode="74000", city="Annecy")
    make_site(session, operator, name="Bourg", postcode="01000", city="Bourg-en-Bresse")
    make_site(session, operator, name="Lyon", postcode="69003", city="Lyon")
    names = [
        s.name
        for s in sites_for_booking(session=session, operator_id=operator.id, postcode="74100")
    ]
    assert names == ["Annecy", "Bourg", "Lyon"]
    names = [
        s.name for s in sites_for_booking(session=session, operator_id=operator.id, postcode=None)
    ]
    assert names == ["Bourg", "Lyon", "Annecy"]


def test_the_database_refuses_an_overlap_the_slot_check_missed(session, agenda, monkeypatch):
    """Two bookings that both saw the counsellor free: the no-overlap rule decides."""
    _, site, _, counsellor = agenda
    start = working_day_at(site)
    book(session, agenda, start=start, key="first")
    monkeypatch.setattr(
        "app.services.booking.reservations.counsellors_by_fit", lambda **_kwargs: [counsellor.id]
    )
    with pytest.raises(SlotTaken):
        book(session, agenda, start=start, key="second", person=person(email="c@exemple.fr"))
    assert len(session.exec(select(Appointment)).all()) == 1


def test_sites_come_nearest_first_when_the_postcode_resolves(session):
    from app.services.booking.reservations import sites_for_booking
    from tests.factories import make_operator, make_site

    operator = make_operator(session)
    grenoble = make_site(session, operator, name="Grenoble", postcode="38000", city="Grenoble")
    lyon = make_site(session, operator, name="Lyon", postcode="69003", city="Lyon")
    annecy = make_site(session, operator, name="Annecy", postcode="74000", city="Annecy")
    near_annemasse = sites_for_booking(session=session, operator_id=operator.id, postcode="74100")
    assert near_annemasse[0] == annecy  # 33 km, where Lyon and Grenoble are about 120 km away
    near_villeurbanne = sites_for_booking(
        session=session, operator_id=operator.id, postcode="69100"
    )
    assert near_villeurbanne[0] == lyon
    near_voiron = sites_for_booking(session=session, operator_id=operator.id, postcode="38500")
    assert near_voiron[0] == grenoble
    unknown = sites_for_booking(session=session, operator_id=operator.id, postcode="00000")
    assert unknown == [grenoble, lyon, annecy]  # by département when the postcode is unknown
