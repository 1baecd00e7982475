"""« Ce qui vous amène » and « Votre situation » at booking: asked on the contact and callback
forms, pre-filled from the motif's usual motive and the situation said at the national entry,
stored on the triage request; a situation another network serves gets its orientation, not a
booking. The public API takes both as optional fields."""

import re

import pytest
from sqlmodel import select

from app.models.appointments import Appointment
from app.models.beneficiaries import Beneficiary
from app.models.nomenclatures import CepSituation, RequestMotive, Role
from app.models.triage import TriageRequest
from app.services.booking.reservations import first_free_start
from tests.factories import (
    anonymous_csrf,
    contact_page,
    log_in,
    make_appointment_type,
    make_openings,
    make_operator,
    make_site,
    make_staff,
    read,
    submit,
)

pytestmark = pytest.mark.usefixtures("clock")


@pytest.fixture
def agenda(session):
    operator = make_operator(session)
    site = make_site(session, operator)
    make_openings(session, make_staff(session, operator), site)
    kind = make_appointment_type(
        session, operator, name="Premier rendez-vous CEP", motive=RequestMotive.RETRAIN.value
    )
    return operator, site, kind


def selected(page_html: str, name: str) -> str:
    """The value of the option selected in the select `name` ("" when none is)."""
    select_html = re.search(rf'<select id="{name}".*?</select>', page_html, re.S).group(0)
    found = re.search(r'<option value="([^"]*)" selected', select_html)
    return found.group(1) if found else ""


def the_request(session) -> TriageRequest:
    return session.exec(select(TriageRequest)).one()


def find(client, situation: str, postcode="69003"):
    token = anonymous_csrf(client, "/rendez-vous")
    data = {"csrf_token": token, "situation": situation, "recherche": postcode}
    return client.post("/rendez-vous/trouver", data=data)


def test_the_contact_form_preselects_the_motifs_motive_and_asks_the_situation(client, agenda):
    page, _token = contact_page(client, agenda)
    assert "Ce qui vous amène" in read(page) and "Votre situation" in read(page)
    assert selected(page.text, "motive") == RequestMotive.RETRAIN.value
    assert selected(page.text, "situation") == ""  # nobody said it: not chosen for the person


def test_the_situation_said_at_the_national_entry_is_preselected(client, agenda):
    find(client, CepSituation.MANAGER.value)
    page, _token = contact_page(client, agenda)
    assert selected(page.text, "situation") == CepSituation.MANAGER.value


def test_the_motive_and_situation_chosen_land_on_the_triage_request(client, session, agenda):
    page, token = contact_page(client, agenda)
    answer = submit(
        client, page, token, motive=RequestMotive.VAE.value, situation=CepSituation.MANAGER.value
    )
    assert answer.status_code == 200
    request = the_request(session)
    assert request.motive == RequestMotive.VAE.value
    assert request.cep_situation == CepSituation.MANAGER.value
    assert session.exec(select(Appointment)).one().triage_request_id == request.id


def test_left_unchosen_the_motive_is_the_motifs_and_the_situation_a_private_worker(
    client, session, agenda
):
    page, token = contact_page(client, agenda)
    submit(client, page, token, motive="", situation="")
    request = the_request(session)
    assert request.motive == RequestMotive.RETRAIN.value
    assert request.cep_situation == CepSituation.PRIVATE_WORKER.value


@pytest.mark.parametrize(
    ("situation", "network"),
    [
        (CepSituation.JOB_SEEKER, "France Travail"),
        (CepSituation.PUBLIC_AGENT, "CEP de son employeur public"),
        (CepSituation.YOUNG_NEET, "Mission locale"),
    ],
)
def test_a_situation_another_network_serves_is_oriented_and_nothing_is_booked(
    client, session, agenda, situation, network
):
    page, token = contact_page(client, agenda)
    answer = submit(client, page, token, situation=situation.value)
    assert answer.status_code == 200
    text = read(answer)
    assert "Un autre réseau vous accompagne" in text and network in text
    assert session.exec(select(Appointment)).all() == []
    assert session.exec(select(TriageRequest)).all() == []
    assert session.exec(select(Beneficiary)).all() == []


def test_a_motive_that_is_none_of_the_list_is_refused_on_the_form(client, session, agenda):
    page, token = contact_page(client, agenda)
    answer = submit(client, page, token, motive="vacances")
    assert answer.status_code == 422
    assert session.exec(select(Appointment)).all() == []


def test_the_callback_form_asks_both_and_stores_them(client, session):
    operator = make_operator(session)
    kind = make_appointment_type(session, operator, motive=RequestMotive.BUSINESS.value)
    path = f"/rendez-vous/rappel?operateur=ARA&motif={kind.id}&mode=phone"
    page = client.get(path)
    assert selected(page.text, "motive") == RequestMotive.BUSINESS.value
    assert 'id="situation"' in page.text
    data = {
        "csrf_token": client.cookies.get("filrouge_csrf"),
        "operateur": "ARA",
        "motif": str(kind.id),
        "mode": "phone",
        "lieu": "",
        "first_name": "Inès",
        "last_name": "Moreau",
        "phone": "06 12 34 56 78",
        "postcode": "69003",
        "consent": "1",
        "motive": RequestMotive.BUSINESS.value,
        "situation": CepSituation.DISABILITY.value,
    }
    assert client.post("/rendez-vous/rappel", data=data).status_code == 200
    request = the_request(session)
    assert request.motive == RequestMotive.BUSINESS.value
    assert request.cep_situation == CepSituation.DISABILITY.value


def test_a_job_seeker_asking_a_callback_is_oriented_instead(client, session):
    make_operator(session)
    client.get("/rendez-vous/rappel?operateur=ARA")
    data = {
        "csrf_token": client.cookies.get("filrouge_csrf"),
        "operateur": "ARA",
        "first_name": "Inès",
        "last_name": "Moreau",
        "phone": "06 12 34 56 78",
        "consent": "1",
        "situation": CepSituation.JOB_SEEKER.value,
    }
    answer = client.post("/rendez-vous/rappel", data=data)
    assert "France Travail" in read(answer)
    assert session.exec(select(TriageRequest)).all() == []


def test_the_motive_is_chosen_where_admins_edit_motifs(client, session, agenda):
    operator, _site, kind = agenda
    csrf = log_in(client, session, make_staff(session, operator, Role.OPERATOR_ADMIN))
    form = {
        "csrf_token": csrf,
        "name": kind.name,
        "duration_minutes": "60",
        "modes": ["on_site", "phone"],
        "online_bookable": "1",
        "min_notice_hours": "2",
        "max_horizon_days": "30",
        "cancel_cutoff_hours": "24",
        "buffer_minutes": "0",
        "motive": RequestMotive.SKILLS_REVIEW.value,
        "active": "1",
    }
    answer = client.post(f"/admin/motifs/{kind.id}", data=form, follow_redirects=False)
    assert answer.status_code == 303
    session.refresh(kind)
    assert kind.motive == RequestMotive.SKILLS_REVIEW.value
    page = client.get("/admin/motifs").text
    assert "Faire un bilan de compétences" in page
    client.post(f"/admin/motifs/{kind.id}", data=form | {"motive": ""})
    session.refresh(kind)
    assert kind.motive is None


# ---- the public API -----------------------------------------------------------------------------


def api_booking(session, kind, site, **extra) -> dict:
    start = first_free_start(
        session=session, appointment_type=kind, mode="on_site", site_id=site.id
    )
    assert start is not None
    return {
        "appointment_type": kind.id,
        "site": site.id,
        "start": start.isoformat(),
        "mode": "on_site",
        "first_name": "Hélène",
        "last_name": "Guérin",
        "email": "helene.guerin@exemple.fr",
        "consent": True,
        "idempotency_key": "portail-motive-1",
        **extra,
    }


def test_the_api_stores_the_motive_and_situation_sent(client, session, agenda):
    _operator, site, kind = agenda
    body = api_booking(session, kind, site, motive="vae", situation="cadre")
    assert client.post("/api/v1/public/appointments", json=body).status_code == 201
    request = the_request(session)
    assert (request.motive, request.cep_situation) == ("vae", "cadre")


def test_the_api_without_them_takes_the_motifs_motive(client, session, agenda):
    _operator, site, kind = agenda
    assert client.post("/api/v1/public/appointments", json=api_booking(session, kind, site))
    request = the_request(session)
    assert (request.motive, request.cep_situation) == ("reconversion", "actif_prive")


def test_the_api_refuses_a_situation_another_network_serves(client, session, agenda):
    _operator, site, kind = agenda
    body = api_booking(session, kind, site, situation="demandeur_emploi")
    answer = client.post("/api/v1/public/appointments", json=body)
    assert answer.status_code == 422
    assert session.exec(select(Appointment)).all() == []
