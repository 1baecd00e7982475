"""The person's agreement to be asked for their opinion: recorded from the intake form, the
person's page, the online booking form and the API; an opt-out shows on the person's page."""

import re
from datetime import timedelta

import pytest
from sqlmodel import select

from app.models.base import utcnow
from app.models.beneficiaries import Beneficiary
from tests.cases.test_triage_routes import intake, setup_counsellor
from tests.factories import (
    contact_page,
    log_in,
    make_appointment_type,
    make_beneficiary,
    make_openings,
    make_operator,
    make_site,
    make_staff,
    submit,
)

LABEL = "La personne accepte d'être recontactée pour donner son avis sur le service"


def person(**overrides) -> dict:
    return {
        "first_name": "Hélène",
        "last_name": "Guérin",
        "email": "helene@exemple.fr",
        **overrides,
    }


def test_the_api_records_the_agreement_and_shows_it(api):
    created = api.post("/api/v1/beneficiaries", json=person(survey_consent=True)).json()
    assert created["survey_consent_at"] is not None and created["survey_opt_out_at"] is None
    again = api.put(f"/api/v1/beneficiaries/{created['id']}", json=person(survey_consent=True))
    assert again.json()["survey_consent_at"] == created["survey_consent_at"]  # kept, not renewed
    withdrawn = api.put(f"/api/v1/beneficiaries/{created['id']}", json=person())
    assert withdrawn.json()["survey_consent_at"] is None


def test_the_api_refuses_a_flag_that_is_not_a_boolean(api):
    answer = api.post("/api/v1/beneficiaries", json=person(survey_consent="peut-être"))
    assert answer.status_code == 422


def test_the_intake_form_asks_and_records_the_agreement(client, session):
    _, csrf = setup_counsellor(client, session)
    assert LABEL in client.get("/triage/new").text.replace("&#39;", "'")
    client.post(
        "/triage/new",
        data=intake(
            first_name="Loïc",
            last_name="Kerhervé",
            phone="0612345678",
            survey_consent="1",
            csrf_token=csrf,
        ),
    )
    assert session.exec(select(Beneficiary)).one().survey_consent_at is not None


def test_the_persons_page_ticks_and_unticks_the_agreement(client, session, counsellor):
    csrf = log_in(client, session, counsellor)
    beneficiary = make_beneficiary(session, counsellor)
    form = {
        "csrf_token": csrf,
        "first_name": "Zoé",
        "last_name": "Lefèvre",
    }
    client.post(f"/beneficiaries/{beneficiary.id}", data={**form, "survey_consent": "1"})
    session.refresh(beneficiary)
    assert beneficiary.survey_consent_at is not None
    page = client.get(f"/beneficiaries/{beneficiary.id}").text
    assert re.search(r'id="survey_consent"[^>]*checked', page)
    client.post(f"/beneficiaries/{beneficiary.id}", data=form)
    session.refresh(beneficiary)
    assert beneficiary.survey_consent_at is None


def test_an_opt_out_shows_and_only_a_new_tick_asks_again(client, session, counsellor):
    csrf = log_in(client, session, counsellor)
    beneficiary = make_beneficiary(session, counsellor, survey_consent=True)
    opted_out = utcnow() - timedelta(days=1)
    # What the opt-out link does (another page's work), told apart from a withdrawn tick.
    beneficiary.survey_consent_at, beneficiary.survey_opt_out_at = None, opted_out
    session.add(beneficiary)
    session.flush()
    page = client.get(f"/beneficiaries/{beneficiary.id}").text
    assert "s'est désinscrite des enquêtes de satisfaction" in page
    assert not re.search(r'id="survey_consent"[^>]*checked', page)
    form = {
        "csrf_token": csrf,
        "first_name": "Zoé",
        "last_name": "Lefèvre",
        "survey_consent": "1",
    }
    client.post(f"/beneficiaries/{beneficiary.id}", data=form)
    session.refresh(beneficiary)
    assert beneficiary.may_be_surveyed and beneficiary.survey_consent_at > opted_out
    assert "désinscrite" not in client.get(f"/beneficiaries/{beneficiary.id}").text


@pytest.fixture
def agenda(session):
    operator = make_operator(session)
    site = make_site(session, operator)
    make_openings(session, make_staff(session, operator), site)
    kind = make_appointment_type(session, operator, name="Premier rendez-vous CEP")
    return operator, site, kind


@pytest.mark.usefixtures("clock")
@pytest.mark.parametrize(("ticked", "recorded"), [("1", True), ("", False)])
def test_the_online_booking_form_asks_the_person_themself(
    client, session, agenda, ticked, recorded
):
    page, token = contact_page(client, agenda)
    assert "J&#39;accepte d&#39;être recontacté·e pour donner mon avis" in page.text
    assert submit(client, page, token, survey_consent=ticked).status_code == 200
    person = session.exec(select(Beneficiary)).one()
    assert (person.survey_consent_at is not None) is recorded
