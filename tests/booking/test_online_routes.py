"""The public booking pages, driven as a browser without JavaScript would: plain forms."""

from html import unescape

import pytest
from fastapi.testclient import TestClient
from sqlmodel import select

from app.core.config import get_settings
from app.models.appointments import Appointment
from app.models.nomenclatures import Role
from app.models.triage import TriageRequest
from tests.factories import (
    anonymous_csrf,
    contact_page,
    first_slot_link,
    hidden,
    links,
    log_in_as,
    make_appointment_type,
    make_openings,
    make_operator,
    make_site,
    make_staff,
    submit,
)

# The clock of tests/conftest.py: the first slot, listed a moment before a quarter hour,
# would fall within the minimum notice if it were booked a moment after.
pytestmark = pytest.mark.usefixtures("clock")

PERSONAL = ("Inès", "In%C3%A8s", "Moreau", "ines.moreau", "0612345678", "06+12", "%2B33")


@pytest.fixture
def agenda(session):
    operator = make_operator(session)
    site = make_site(session, operator)
    make_openings(session, make_staff(session, operator), site)
    kind = make_appointment_type(session, operator, name="Premier rendez-vous CEP")
    return operator, site, kind


def test_first_step_lists_online_types_and_modes(client, agenda):
    page = client.get("/rendez-vous?operateur=ARA")
    assert page.status_code == 200
    assert "Premier rendez-vous CEP" in page.text and "Par téléphone" in page.text


def test_unknown_operator_is_404(client, agenda):
    assert client.get("/rendez-vous?operateur=ZZZ").status_code == 404


def test_remote_mode_skips_the_site_step_without_personal_data(client, agenda):
    _, _, kind = agenda
    token = anonymous_csrf(client, "/rendez-vous?operateur=ARA")
    response = client.post(
        "/rendez-vous/lieu",
        data={
            "csrf_token": token,
            "operateur": "ARA",
            "motif": kind.id,
            "mode": "phone",
            "postcode": "69003",
        },
        follow_redirects=False,
    )
    assert response.status_code == 303
    assert "69003" not in response.headers["location"]


def test_booking_without_javascript_confirms_and_lands_in_triage(client, session, agenda):
    page, token = contact_page(client, agenda)
    assert page.headers["cache-control"] == "no-store"
    response = submit(client, page, token)
    assert response.status_code == 200
    assert response.headers["cache-control"] == "no-store"
    appointment = session.exec(select(Appointment)).one()
    assert appointment.reference in response.text
    assert session.get(TriageRequest, appointment.triage_request_id).channel == "web"
    for url in links(response.text) + links(page.text):
        assert not any(p in url for p in PERSONAL), url


def test_double_submission_books_once(client, session, agenda):
    page, token = contact_page(client, agenda)
    submit(client, page, token)
    again = submit(client, page, token)
    assert again.status_code == 200
    assert len(session.exec(select(Appointment)).all()) == 1


def test_missing_consent_shows_the_form_again_with_what_was_typed(client, session, agenda):
    page, token = contact_page(client, agenda)
    response = submit(client, page, token, consent="")
    assert response.status_code == 422
    assert "Votre accord est nécessaire" in response.text
    assert 'value="Moreau"' in response.text
    assert session.exec(select(Appointment)).all() == []


def test_filled_honeypot_pretends_success_without_booking(client, session, agenda):
    page, token = contact_page(client, agenda)
    response = submit(client, page, token, site_web="http://spam.example")
    assert response.status_code == 200 and "confirmé" in response.text
    assert session.exec(select(Appointment)).all() == []


def test_a_key_of_one_operators_form_replayed_on_anothers_books_anew(client, session, agenda):
    page, token = contact_page(client, agenda)
    submit(client, page, token)
    [first] = session.exec(select(Appointment)).all()
    breton = make_operator(session, "BRE", name="Bretagne")
    site = make_site(session, breton, name="Rennes", postcode="35000", city="Rennes")
    make_openings(session, make_staff(session, breton), site)
    kind = make_appointment_type(session, breton, name="Premier rendez-vous CEP")
    slots = client.get(
        f"/rendez-vous/creneaux?operateur=BRE&motif={kind.id}&mode=on_site&lieu={site.id}"
    )
    breton_page = client.get(first_slot_link(slots.text))

    replayed = submit(
        client, breton_page, token, idempotency_key=hidden(page.text, "idempotency_key")
    )

    assert replayed.status_code == 200
    assert first.reference not in replayed.text
    [second] = session.exec(select(Appointment).where(Appointment.id != first.id)).all()
    assert second.operator_id == breton.id and second.reference in replayed.text


def test_taken_slot_shows_the_next_free_ones(client, session, agenda):
    page, token = contact_page(client, agenda)
    submit(client, page, token)
    response = submit(client, page, token, idempotency_key="autre", email="b@exemple.fr", phone="")
    assert response.status_code == 409
    assert "Ce créneau vient d'être réservé" in unescape(response.text)
    assert first_slot_link(response.text)


def test_too_many_requests_get_a_polite_page(client, agenda, monkeypatch):
    monkeypatch.setattr(get_settings(), "public_rate_limit", "1/minute")
    page, token = contact_page(client, agenda)
    submit(client, page, token)
    response = submit(client, page, token, idempotency_key="autre")
    assert response.status_code == 429
    assert "Merci de patienter" in response.text


def test_one_phone_typed_three_ways_counts_as_one_number(app, agenda, monkeypatch):
    monkeypatch.setattr(get_settings(), "public_rate_limit", "2/minute")
    statuses = []
    for n, typed in enumerate(["06 12 34 56 78", "0612345678", "+33612345678"]):
        client = TestClient(app, client=(f"198.51.100.{n}", 1234))  # a new address each time
        page, token = contact_page(client, agenda)
        response = submit(
            client, page, token, idempotency_key=f"cle-{n}", email=f"p{n}@exemple.fr", phone=typed
        )
        statuses.append(response.status_code)
    assert statuses[2] == 429


def test_the_slot_pages_are_rate_limited_per_address(client, agenda, monkeypatch):
    monkeypatch.setattr(get_settings(), "public_rate_limit", "2/minute")
    _operator, site, kind = agenda
    url = f"/rendez-vous/creneaux?operateur=ARA&motif={kind.id}&mode=on_site&lieu={site.id}"
    assert [client.get(url).status_code for _ in range(3)] == [200, 200, 429]


def test_nothing_free_offers_a_callback_that_lands_in_triage(client, session):
    operator = make_operator(session)
    kind = make_appointment_type(session, operator, name="Sans créneau")
    token = anonymous_csrf(client, "/rendez-vous?operateur=ARA")
    page = client.get(f"/rendez-vous/creneaux?operateur=ARA&motif={kind.id}&mode=phone")
    assert "Être rappelé·e" in page.text
    response = client.post(
        "/rendez-vous/rappel",
        data={
            "csrf_token": token,
            "operateur": "ARA",
            "motif": kind.id,
            "mode": "phone",
            "lieu": "",
            "first_name": "Inès",
            "last_name": "Moreau",
            "phone": "0612345678",
            "consent": "1",
        },
    )
    assert response.status_code == 200
    triage = session.exec(select(TriageRequest)).one()
    assert "rappel" in triage.request_text and "Sans créneau" in triage.request_text


def test_post_without_csrf_token_is_refused(client, agenda):
    anonymous_csrf(client, "/rendez-vous?operateur=ARA")
    response = client.post("/rendez-vous/coordonnees", data={"first_name": "Inès"})
    assert response.status_code == 403


def test_the_triage_item_shows_the_appointment_booked_online(client, session, agenda):
    from tests.factories import log_in

    operator, _, _ = agenda
    page, token = contact_page(client, agenda)
    submit(client, page, token)
    appointment = session.exec(select(Appointment)).one()
    log_in(client, session, make_staff(session, operator))
    detail = client.get(f"/triage/{appointment.triage_request_id}")
    assert "Rendez-vous pris en ligne" in detail.text and appointment.reference in detail.text


def test_a_phone_slot_is_booked_with_a_counsellor_who_works_only_remotely(client, session):
    operator = make_operator(session)
    make_site(session, operator)
    remote = make_staff(session, operator)
    make_openings(session, remote, None, modes="phone video")
    kind = make_appointment_type(session, operator, name="Premier rendez-vous CEP")
    token = anonymous_csrf(client, "/rendez-vous?operateur=ARA")
    slots = client.get(f"/rendez-vous/creneaux?operateur=ARA&motif={kind.id}&mode=phone")
    page = client.get(first_slot_link(slots.text))
    data = {name: hidden(page.text, name) for name in ("operateur", "motif", "mode", "debut")}

    response = client.post(
        "/rendez-vous/coordonnees",
        data={
            **data,
            "csrf_token": token,
            "idempotency_key": hidden(page.text, "idempotency_key"),
            "first_name": "Inès",
            "last_name": "Moreau",
            "phone": "06 12 34 56 78",
            "consent": "1",
            "site_web": "",
        },
    )

    assert response.status_code == 200, response.text
    appointment = session.exec(select(Appointment)).one()
    assert appointment.reference in response.text
    assert (appointment.counsellor_id, appointment.mode) == (remote.id, "phone")
    assert appointment.site_id is None


# ---- the motif's question, and a motif no longer offered --------------------------------------


def test_the_motifs_question_is_asked_and_staff_read_the_answer(client, session, agenda):
    from tests.factories import log_in

    operator, _, kind = agenda
    kind.booking_question = "Êtes-vous actuellement en emploi ?"
    session.add(kind)
    page, token = contact_page(client, agenda)
    assert '<label for="answer">Êtes-vous actuellement en emploi ? (facultatif)</label>' in (
        unescape(page.text)
    )

    submit(client, page, token, answer="  Oui, à mi-temps\x00 ")

    appointment = session.exec(select(Appointment)).one()
    assert (appointment.booking_question, appointment.booking_answer) == (
        "Êtes-vous actuellement en emploi ?",
        "Oui, à mi-temps",
    )
    kind.booking_question = "Question changée depuis"  # the one asked stays with the answer
    session.add(kind)
    log_in(client, session, make_staff(session, operator, Role.MANAGER))
    day = appointment.starts_at.date().isoformat()
    for url in (
        f"/triage/{appointment.triage_request_id}",
        f"/agenda?conseiller={appointment.counsellor_id}&jour={day}",
    ):
        shown = unescape(client.get(url).text)
        assert "Êtes-vous actuellement en emploi ?</span><br>Oui, à mi-temps" in shown, url
        assert "Question changée depuis" not in shown


def test_a_motif_without_a_question_asks_none_and_keeps_no_answer(client, session, agenda):
    page, token = contact_page(client, agenda)
    assert 'name="answer"' not in page.text

    submit(client, page, token, answer="Glissé dans le formulaire")

    appointment = session.exec(select(Appointment)).one()
    assert (appointment.booking_question, appointment.booking_answer) == ("", "")


def test_a_deactivated_motif_is_no_longer_offered_but_stays_on_its_appointments(
    client, session, agenda
):
    from tests.factories import log_in

    operator, site, kind = agenda
    page, token = contact_page(client, agenda)
    submit(client, page, token)
    appointment = session.exec(select(Appointment)).one()
    _, csrf = log_in_as(client, session, operator, Role.OPERATOR_ADMIN)
    client.post(f"/admin/motifs/{kind.id}/desactiver", data={"csrf_token": csrf})

    client.cookies.clear()
    assert "Premier rendez-vous CEP" not in client.get("/rendez-vous?operateur=ARA").text
    token = anonymous_csrf(client, "/rendez-vous?operateur=ARA")
    chosen = {"csrf_token": token, "operateur": "ARA", "motif": kind.id, "mode": "on_site"}
    refused = client.post("/rendez-vous/lieu", data={**chosen, "postcode": "69003"})
    assert refused.status_code == 422 and "Premier rendez-vous CEP" not in refused.text
    replayed = submit(client, page, token, email="autre@exemple.fr", phone="")
    assert replayed.status_code == 422
    assert len(session.exec(select(Appointment)).all()) == 1
    log_in(client, session, make_staff(session, operator, Role.MANAGER))
    day = appointment.starts_at.date().isoformat()
    agenda_page = client.get(f"/agenda?conseiller={appointment.counsellor_id}&jour={day}")
    assert "Premier rendez-vous CEP" in agenda_page.text
    assert "Premier rendez-vous CEP" in client.get(f"/triage/{appointment.triage_request_id}").text
