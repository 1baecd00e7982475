"""The waiting list's pages: the public form (from the slot page and the « nothing free » page),
the signed links to answer an offer and to leave, the staff's list and the admin's delay."""

from datetime import timedelta
from html import unescape

import pytest
from sqlmodel import select

from app.core.config import get_settings
from app.core.security import create_link_token
from app.models.appointments import Appointment, AppointmentStatus
from app.models.base import utcnow
from app.models.nomenclatures import Role
from app.models.operators import Operator
from app.models.staff import StaffSite
from app.models.waiting_list import WaitingListEntry, WaitingListOffer, WaitingStatus
from app.services.booking.waiting_list_offers import expire_offers, offer_freed_slots
from app.services.booking.waiting_list_sms import LEAVE_PURPOSE, OFFER_PURPOSE
from tests.booking.test_waiting_list import Place, join, open_one_slot
from tests.factories import (
    anonymous_csrf,
    links,
    log_in,
    log_in_as,
    make_appointment_type,
    make_operator,
    make_site,
    make_staff,
    working_day_at,
)

pytestmark = pytest.mark.usefixtures("clock")


@pytest.fixture
def place(session) -> Place:
    operator = make_operator(session)
    site = make_site(session, operator)
    counsellor = make_staff(session, operator)
    kind = make_appointment_type(session, operator, name="Premier rendez-vous CEP")
    start = working_day_at(site, days_ahead=10, hour=9)
    open_one_slot(session, counsellor, site, start)
    return Place(operator, site, counsellor, kind, start)


def flow(place) -> str:
    return f"operateur=ARA&motif={place.kind.id}&mode=on_site&lieu={place.site.id}"


def form(place, token, **overrides) -> dict:
    data = {
        "csrf_token": token,
        "operateur": "ARA",
        "motif": place.kind.id,
        "mode": "on_site",
        "lieu": place.site.id,
        "jours": [place.weekday],
        "moments": ["morning"],
        "first_name": "Inès",
        "last_name": "Moreau",
        "email": "ines.moreau@exemple.fr",
        "phone": "06 12 34 56 78",
        "consent": "1",
        "site_web": "",
    }
    return data | overrides


def test_the_slot_page_and_the_nothing_free_page_lead_to_the_list(client, session, place):
    slots = client.get(f"/rendez-vous/creneaux?{flow(place)}")
    assert f"/rendez-vous/liste-attente?{flow(place)}" in links(slots.text)
    # Its notice ends after its horizon: nothing is ever free.
    other = make_appointment_type(
        session, place.operator, name="Sans créneau", min_notice_hours=720
    )
    empty = client.get(f"/rendez-vous/creneaux?operateur=ARA&motif={other.id}&mode=phone")
    assert "Aucun créneau n'est libre" in unescape(empty.text)
    assert f"/rendez-vous/liste-attente?operateur=ARA&motif={other.id}&mode=phone" in links(
        empty.text
    )


def test_joining_through_the_form(client, session, place):
    token = anonymous_csrf(client, f"/rendez-vous/liste-attente?{flow(place)}")
    page = client.post("/rendez-vous/liste-attente", data=form(place, token))
    assert page.status_code == 200, page.text
    assert "Vous êtes sur la liste d'attente" in unescape(page.text)
    entry = session.exec(select(WaitingListEntry)).one()
    assert entry.weekdays == place.weekday and entry.half_days == "morning"
    assert entry.site_id == place.site.id


def test_a_form_without_a_day_nor_consent_is_shown_again_with_the_errors(client, session, place):
    token = anonymous_csrf(client, f"/rendez-vous/liste-attente?{flow(place)}")
    page = client.post("/rendez-vous/liste-attente", data=form(place, token, jours=[], consent=""))
    assert page.status_code == 422
    assert "Cochez au moins un jour" in page.text
    assert "Votre accord est nécessaire" in page.text
    assert 'value="Inès"' in page.text  # what was typed is kept
    assert session.exec(select(WaitingListEntry)).all() == []


def test_joining_counts_against_the_public_rate_limit(client, session, place, monkeypatch):
    monkeypatch.setattr(get_settings(), "public_rate_limit", "1/minute")
    token = anonymous_csrf(client, f"/rendez-vous/liste-attente?{flow(place)}")
    assert client.post("/rendez-vous/liste-attente", data=form(place, token)).status_code == 200
    again = client.post("/rendez-vous/liste-attente", data=form(place, token))
    assert again.status_code == 429


def test_a_robot_filling_the_hidden_field_joins_nothing(client, session, place):
    token = anonymous_csrf(client, f"/rendez-vous/liste-attente?{flow(place)}")
    page = client.post("/rendez-vous/liste-attente", data=form(place, token, site_web="x"))
    assert page.status_code == 200
    assert session.exec(select(WaitingListEntry)).all() == []


def offered(session, place) -> WaitingListOffer:
    join(session, place, 1, now=utcnow())
    assert offer_freed_slots(session=session) == 1
    return session.exec(select(WaitingListOffer)).one()


def test_the_offer_page_accepts_the_slot(client, session, place):
    offer = offered(session, place)
    path = f"/rendez-vous/place-liberee/{create_link_token(purpose=OFFER_PURPOSE, subject_id=offer.id)}"
    page = client.get(path)
    assert "Accepter ce rendez-vous" in page.text and "Je ne suis plus disponible" in page.text
    token = client.cookies.get("filrouge_csrf")
    confirmed = client.post(f"{path}/accepter", data={"csrf_token": token})
    assert confirmed.status_code == 200
    assert "Votre rendez-vous est confirmé" in confirmed.text
    appointment = session.exec(select(Appointment)).one()
    assert appointment.status == AppointmentStatus.BOOKED


def test_declining_says_the_person_stays_on_the_list(client, session, place):
    offer = offered(session, place)
    path = f"/rendez-vous/place-liberee/{create_link_token(purpose=OFFER_PURPOSE, subject_id=offer.id)}"
    token = anonymous_csrf(client, path)
    page = client.post(f"{path}/decliner", data={"csrf_token": token})
    assert page.status_code == 200
    assert "proposé à la personne suivante" in page.text
    assert session.exec(select(Appointment)).all() == []


def test_accepting_too_late_says_so_kindly_and_offers_to_stay(client, session, place):
    offer = offered(session, place)
    expire_offers(session=session, now=utcnow() + timedelta(hours=3))
    path = f"/rendez-vous/place-liberee/{create_link_token(purpose=OFFER_PURPOSE, subject_id=offer.id)}"
    token = anonymous_csrf(client, path)
    late = client.post(f"{path}/accepter", data={"csrf_token": token})
    assert late.status_code == 409
    assert "le délai pour l'accepter est passé" in unescape(late.text)
    assert "Rester sur la liste d'attente" in unescape(late.text)
    stay = client.post(f"{path}/rester", data={"csrf_token": token})
    assert "Vous restez sur la liste d'attente" in unescape(stay.text)
    assert session.get(WaitingListEntry, offer.entry_id).status == WaitingStatus.WAITING


def test_a_tampered_offer_link_is_not_found(client):
    assert client.get("/rendez-vous/place-liberee/pas-un-jeton").status_code == 404


def test_the_link_in_the_confirmation_leaves_the_list(client, session, place):
    entry = join(session, place, 1, now=utcnow())
    path = f"/rendez-vous/liste-attente/quitter/{create_link_token(purpose=LEAVE_PURPOSE, subject_id=entry.id)}"
    token = anonymous_csrf(client, path)
    assert entry.status == WaitingStatus.WAITING  # reading the page changes nothing
    page = client.post(path, data={"csrf_token": token})
    assert "Vous ne figurez plus sur la liste d'attente" in unescape(page.text)
    assert entry.status == WaitingStatus.LEFT


# ---------- Staff ----------


def test_counsellors_see_the_list_and_may_take_someone_off(client, session, place):
    entry = join(session, place, 1, now=utcnow())
    offer_freed_slots(session=session)
    user, token = log_in_as(client, session, place.operator)
    session.add(StaffSite(staff_id=user.id, site_id=place.site.id))
    page = client.get("/agenda/liste-attente")
    assert page.status_code == 200
    assert "Premier rendez-vous CEP — Lyon Part-Dieu" in page.text
    assert "Personne N1" in page.text and "réponse attendue avant le" in page.text
    removed = client.post(
        f"/agenda/liste-attente/{entry.id}/retirer",
        data={"csrf_token": token},
        follow_redirects=False,
    )
    assert removed.status_code == 303
    assert entry.status == WaitingStatus.REMOVED
    assert session.exec(select(Appointment)).all() == []  # the held slot is free again


def test_a_manager_sees_only_the_waiting_of_their_sites(client, session, place):
    join(session, place, 1, now=utcnow())
    elsewhere = make_site(session, place.operator, name="Grenoble")
    user, token = log_in_as(client, session, place.operator, Role.MANAGER)
    session.add(StaffSite(staff_id=user.id, site_id=elsewhere.id))
    page = client.get("/agenda/liste-attente")
    assert "Personne N1" not in page.text
    entry = session.exec(select(WaitingListEntry)).one()
    refused = client.post(f"/agenda/liste-attente/{entry.id}/retirer", data={"csrf_token": token})
    assert refused.status_code == 404
    assert entry.status == WaitingStatus.WAITING


def test_the_admin_sets_the_delay_to_accept(client, session, place):
    _admin, token = log_in_as(client, session, place.operator, Role.OPERATOR_ADMIN)
    page = client.get("/admin/motifs")
    assert "Délai pour accepter une place libérée" in page.text
    saved = client.post(
        "/admin/liste-attente/delai",
        data={"csrf_token": token, "waiting_offer_hours": "6"},
        follow_redirects=False,
    )
    assert saved.status_code == 303
    assert session.get(Operator, place.operator.id).waiting_offer_hours == 6
    bad = client.post(
        "/admin/liste-attente/delai",
        data={"csrf_token": token, "waiting_offer_hours": "0"},
        follow_redirects=False,
    )
    assert "invalide" in bad.headers["location"]
    assert "entre 1 et 72" in client.get(bad.headers["location"]).text


def test_a_counsellor_cannot_set_the_delay(client, session, place):
    _user, token = log_in_as(client, session, place.operator)
    refused = client.post(
        "/admin/liste-attente/delai", data={"csrf_token": token, "waiting_offer_hours": "6"}
    )
    assert refused.status_code == 403


def test_the_agenda_shows_a_held_slot_as_offered(client, session, place):
    offered(session, place)
    log_in(client, session, place.counsellor)
    page = client.get(f"/agenda?jour={place.start.date().isoformat()}")
    assert "Proposé (liste d'attente)" in unescape(page.text)
    assert "Personne N1" in page.text
    assert "/agenda/liste-attente" in links(page.text)
