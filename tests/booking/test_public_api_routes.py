"""The public booking API under /api/v1/public: no account, no cookie, no CSRF token."""

from datetime import date, time, timedelta

import pytest
from sqlmodel import select

from app.core.config import get_settings
from app.models.appointments import Appointment, AppointmentType, OpeningSlot
from app.models.base import utcnow
from app.models.triage import TriageRequest
from tests.factories import make_appointment_type, make_operator, make_site, make_staff


def next_date(month: int, day: int = 15) -> date:
    """The next `day` of `month` at least three days ahead (past any minimum notice)."""
    earliest = utcnow().date() + timedelta(days=3)
    candidate = date(earliest.year, month, day)
    return candidate if candidate >= earliest else date(earliest.year + 1, month, day)


def make_type(session, operator, **overrides) -> AppointmentType:
    """« Premier rendez-vous CEP », bookable an hour ahead and for more than a year."""
    values = {"name": "Premier rendez-vous CEP", "min_notice_hours": 1, "max_horizon_days": 400}
    return make_appointment_type(session, operator, **{**values, **overrides})


def make_opening(session, counsellor, site, day: date, start=time(9), end=time(11), **overrides):
    opening = OpeningSlot(
        operator_id=counsellor.operator_id,
        counsellor_id=counsellor.id,
        site_id=site.id if site else None,
        weekday=day.weekday(),
        start_time=start,
        end_time=end,
        valid_from=utcnow().date(),
        **overrides,
    )
    session.add(opening)
    session.flush()
    return opening


@pytest.fixture
def offer(session):
    """ARA: a site, a counsellor opening 9–11 h there on a winter day, an online type."""
    operator = make_operator(session)
    site = make_site(session, operator)
    counsellor = make_staff(session, operator)
    kind = make_type(session, operator)
    day = next_date(1)
    make_opening(session, counsellor, site, day)
    return operator, site, counsellor, kind, day


def booking_body(kind, site, start: str, **overrides) -> dict:
    return {
        "appointment_type": kind.id,
        "site": site.id,
        "start": start,
        "first_name": "Hélène",
        "last_name": "Guérin",
        "email": "helene@exemple.fr",
        "phone": "06 12 34 56 78",
        "postcode": "69003",
        "consent": True,
        "request": "Je souhaite changer de métier.",
        "idempotency_key": "portail-0001",
        **overrides,
    }


# ---- sites and types -----------------------------------------------------------------------


def test_sites_are_listed_nearest_first_or_by_departement(client, session):
    operator = make_operator(session)
    make_site(session, operator, name="Lyon", postcode="69003")
    make_site(session, operator, name="Annecy", postcode="74000")
    make_site(session, operator, name="Grenoble", postcode="38000")
    make_site(session, operator, name="Fermé", postcode="01000", active=False)

    assert client.cookies == {} or "filrouge_session" not in client.cookies
    plain = client.get("/api/v1/public/sites", params={"operator": "ARA"})
    near = client.get("/api/v1/public/sites", params={"operator": "ara", "postcode": "74100"})

    assert plain.status_code == 200
    assert [s["name"] for s in plain.json()] == ["Grenoble", "Lyon", "Annecy"]
    # From Annemasse: Annecy 33 km, Lyon 119 km, Grenoble 120 km.
    assert [s["name"] for s in near.json()] == ["Annecy", "Lyon", "Grenoble"]
    assert near.json()[0]["departement"] == "74"


def test_unknown_operator_gets_404(client, session):
    make_operator(session)
    assert client.get("/api/v1/public/sites", params={"operator": "XYZ"}).status_code == 404
    response = client.get("/api/v1/public/appointment-types", params={"operator": "XYZ"})
    assert response.status_code == 404


def test_only_active_online_types_are_offered(client, session):
    operator = make_operator(session)
    make_type(session, operator, name="En ligne", modes="phone video")
    make_type(session, operator, name="Au guichet seulement", online_bookable=False)
    make_type(session, operator, name="Archivé", active=False)

    response = client.get("/api/v1/public/appointment-types", params={"operator": "ARA"})

    assert response.status_code == 200
    [kind] = response.json()
    assert kind["name"] == "En ligne"
    assert kind["modes"] == ["phone", "video"]
    assert kind["duration_minutes"] == 60
    assert kind["question"] == ""


def test_a_motifs_question_is_listed_and_answered_through_the_api(client, session, offer):
    _operator, site, _counsellor, kind, day = offer
    kind.booking_question = "Êtes-vous actuellement en emploi ?"
    session.add(kind)

    [listed] = client.get("/api/v1/public/appointment-types", params={"operator": "ARA"}).json()
    response = client.post(
        "/api/v1/public/appointments",
        json=booking_body(kind, site, f"{day}T09:00:00+01:00", answer=" Non, en recherche "),
    )

    assert listed["question"] == "Êtes-vous actuellement en emploi ?"
    assert response.status_code == 201, response.text
    appointment = session.exec(select(Appointment)).one()
    assert appointment.booking_question == "Êtes-vous actuellement en emploi ?"
    assert appointment.booking_answer == "Non, en recherche"


# ---- slots ---------------------------------------------------------------------------------


def slots(client, kind, site, first: date, last: date | None = None, **extra):
    params = {
        "appointment_type": kind.id,
        "site": site.id,
        "from": first.isoformat(),
        "to": (last or first).isoformat(),
        **extra,
    }
    return client.get("/api/v1/public/slots", params=params)


def test_winter_slots_in_paris_carry_plus_one(client, offer):
    _operator, site, _counsellor, kind, day = offer

    response = slots(client, kind, site, day)

    assert response.status_code == 200
    assert response.json() == [
        {"start": f"{day}T09:00:00+01:00", "end": f"{day}T10:00:00+01:00"},
        {"start": f"{day}T09:15:00+01:00", "end": f"{day}T10:15:00+01:00"},
        {"start": f"{day}T09:30:00+01:00", "end": f"{day}T10:30:00+01:00"},
        {"start": f"{day}T09:45:00+01:00", "end": f"{day}T10:45:00+01:00"},
        {"start": f"{day}T10:00:00+01:00", "end": f"{day}T11:00:00+01:00"},
    ]


def test_summer_slots_in_paris_carry_plus_two(client, session, offer):
    _operator, site, counsellor, kind, _winter = offer
    day = next_date(7)
    make_opening(session, counsellor, site, day, start=time(14), end=time(15))

    response = slots(client, kind, site, day)

    assert [s["start"] for s in response.json()] == [f"{day}T14:00:00+02:00"]


def test_slots_in_reunion_carry_plus_four(client, session):
    operator = make_operator(session, "REU", "La Réunion")
    site = make_site(
        session, operator, name="Saint-Denis", postcode="97400", time_zone="Indian/Reunion"
    )
    kind = make_type(session, operator)
    day = next_date(3, 10)
    make_opening(session, make_staff(session, operator), site, day, start=time(8), end=time(9))

    response = slots(client, kind, site, day)

    assert response.json() == [{"start": f"{day}T08:00:00+04:00", "end": f"{day}T09:00:00+04:00"}]


def test_a_range_longer_than_31_days_is_refused(client, offer):
    _operator, site, _counsellor, kind, day = offer

    response = slots(client, kind, site, day, day + timedelta(days=31))
    backwards = slots(client, kind, site, day, day - timedelta(days=1))

    assert response.status_code == 422
    assert "31 jours" in response.json()["fields"]["to"]
    assert backwards.status_code == 422
    assert backwards.json()["fields"]["to"] == "Le dernier jour ne peut pas précéder le premier."


def test_slots_of_a_staff_only_type_are_refused_in_french(client, session, offer):
    operator, site, _counsellor, _kind, day = offer
    staff_only = make_type(session, operator, name="Interne", online_bookable=False)

    response = slots(client, staff_only, site, day)

    assert response.status_code == 422
    assert response.json()["fields"] == {
        "appointment_type": "Ce motif de rendez-vous n'est pas proposé"
    }


# ---- booking -------------------------------------------------------------------------------


def test_booking_needs_no_cookie_nor_csrf_and_lands_in_triage(client, session, offer):
    _operator, site, counsellor, kind, day = offer

    response = client.post(
        "/api/v1/public/appointments", json=booking_body(kind, site, f"{day}T09:00:00+01:00")
    )

    assert response.status_code == 201, response.text
    body = response.json()
    assert body["reference"].startswith("RDV-ARA-")
    assert body["start"] == f"{day}T09:00:00+01:00"
    assert body["end"] == f"{day}T10:00:00+01:00"
    appointment = session.exec(
        select(Appointment).where(Appointment.reference == body["reference"])
    ).one()
    assert appointment.counsellor_id == counsellor.id
    assert appointment.booked_via == "api"
    triage = session.get(TriageRequest, appointment.triage_request_id)
    assert triage.status == "pending"


def test_a_phone_slot_is_offered_and_booked_with_a_counsellor_who_works_only_remotely(
    client, session
):
    """The site named in the request is where a visit takes place: a phone appointment is
    held by any counsellor, those who only work remotely included."""
    operator = make_operator(session)
    site = make_site(session, operator)
    remote = make_staff(session, operator)
    kind = make_type(session, operator)
    day = next_date(1)
    make_opening(session, remote, None, day, start=time(9), end=time(10), modes="phone video")

    listed = slots(client, kind, site, day, mode="phone")
    response = client.post(
        "/api/v1/public/appointments",
        json=booking_body(kind, site, f"{day}T09:00:00+01:00", mode="phone"),
    )

    assert listed.json() == [{"start": f"{day}T09:00:00+01:00", "end": f"{day}T10:00:00+01:00"}]
    assert response.status_code == 201, response.text
    appointment = session.exec(
        select(Appointment).where(Appointment.reference == response.json()["reference"])
    ).one()
    assert (appointment.counsellor_id, appointment.mode) == (remote.id, "phone")
    assert appointment.site_id is None
    assert appointment.booked_via == "api"


def test_the_same_idempotency_key_books_once(client, session, offer):
    _operator, site, _counsellor, kind, day = offer
    body = booking_body(kind, site, f"{day}T09:00:00+01:00")

    first = client.post("/api/v1/public/appointments", json=body)
    again = client.post("/api/v1/public/appointments", json=body)

    assert first.status_code == again.status_code == 201
    assert first.json()["reference"] == again.json()["reference"]
    assert len(session.exec(select(Appointment)).all()) == 1


def test_the_same_key_for_another_person_never_returns_the_first_booking(client, offer):
    _operator, site, _counsellor, kind, day = offer
    first = client.post(
        "/api/v1/public/appointments", json=booking_body(kind, site, f"{day}T09:00:00+01:00")
    )

    other = client.post(
        "/api/v1/public/appointments",
        json=booking_body(
            kind, site, f"{day}T10:00:00+01:00", email="autre@exemple.fr", phone="06 98 76 54 32"
        ),
    )

    assert other.status_code == 201
    assert other.json()["reference"] != first.json()["reference"]


def test_a_slot_just_taken_answers_409_with_the_next_ones(client, offer):
    _operator, site, _counsellor, kind, day = offer
    start = f"{day}T09:00:00+01:00"
    client.post("/api/v1/public/appointments", json=booking_body(kind, site, start))

    response = client.post(
        "/api/v1/public/appointments",
        json=booking_body(
            kind, site, start, email="autre@exemple.fr", phone="", idempotency_key="portail-0002"
        ),
    )

    assert response.status_code == 409
    body = response.json()
    assert body["detail"] == "Ce créneau vient d'être réservé"
    assert body["next_slots"][0] == {
        "start": f"{day}T10:00:00+01:00",
        "end": f"{day}T11:00:00+01:00",
    }


def test_bad_input_gets_french_messages_per_field(client, offer):
    _operator, site, _counsellor, kind, day = offer
    body = booking_body(
        kind, site, f"{day}T09:00:00", first_name="", email="pas-un-courriel", consent=True
    )

    response = client.post("/api/v1/public/appointments", json=body)

    assert response.status_code == 422
    fields = response.json()["fields"]
    assert fields["first_name"] == "Ce champ est obligatoire"
    assert fields["email"] == "Adresse e-mail invalide"
    assert "fuseau" in fields["start"]


def test_booking_without_consent_is_refused(client, offer):
    _operator, site, _counsellor, kind, day = offer
    body = booking_body(kind, site, f"{day}T09:00:00+01:00", consent=False)

    response = client.post("/api/v1/public/appointments", json=body)

    assert response.status_code == 422
    assert "consent" in response.json()["fields"]


def test_too_many_bookings_from_one_address_get_429(client, offer, monkeypatch):
    _operator, site, _counsellor, kind, day = offer
    monkeypatch.setattr(get_settings(), "public_rate_limit", "2/minute")
    body = booking_body(kind, site, f"{day}T09:00:00+01:00")

    answers = [client.post("/api/v1/public/appointments", json=body) for _ in range(3)]

    assert [a.status_code for a in answers] == [201, 201, 429]
    assert "Réessayez" in answers[-1].json()["detail"]


def test_slot_listings_are_rate_limited_per_address(client, offer, monkeypatch):
    _operator, site, _counsellor, kind, day = offer
    monkeypatch.setattr(get_settings(), "public_rate_limit", "2/minute")
    url = f"/api/v1/public/slots?appointment_type={kind.id}&site={site.id}&from={day}&to={day}"

    answers = [client.get(url) for _ in range(3)]

    assert [a.status_code for a in answers] == [200, 200, 429]
    assert "Réessayez" in answers[-1].json()["detail"]


def test_the_api_and_the_booking_pages_share_one_slot_allowance(client, offer, monkeypatch):
    _operator, site, _counsellor, kind, day = offer
    monkeypatch.setattr(get_settings(), "public_rate_limit", "2/minute")
    page = f"/rendez-vous/creneaux?operateur=ARA&motif={kind.id}&mode=on_site&lieu={site.id}"
    api = f"/api/v1/public/slots?appointment_type={kind.id}&site={site.id}&from={day}&to={day}"

    statuses = [client.get(page).status_code, client.get(api).status_code]

    assert statuses == [200, 200]
    assert client.get(api).status_code == 429


def test_the_public_endpoints_are_documented(app):
    schema = app.openapi()
    paths = schema["paths"]

    assert set(paths["/api/v1/public/appointments"]["post"]["responses"]) >= {
        "201",
        "409",
        "422",
        "429",
    }
    assert paths["/api/v1/public/slots"]["get"]["tags"] == ["réservation publique"]
    assert "429" in paths["/api/v1/public/slots"]["get"]["responses"]
    assert "examples" in schema["components"]["schemas"]["AppointmentRequest"]
