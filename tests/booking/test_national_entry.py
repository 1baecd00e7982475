"""The national booking entry: /rendez-vous without an operator's code finds the operator that
serves the person's postcode or commune, after the check that the CEP serves them at all."""

import pytest
from sqlmodel import select

from app.core.config import get_settings
from app.models.appointments import Appointment
from app.models.beneficiaries import Beneficiary
from app.services.admin.operators import create_operator
from app.services.booking.geography import communes_named
from app.services.booking.national_entry import REGION_OF_DEPARTEMENT
from app.services.reports.departements import DEPARTEMENT_NAMES, departement_of
from tests.factories import (
    anonymous_csrf,
    contact_page,
    first_slot_link,
    hidden,
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
    kind = make_appointment_type(session, operator, name="Premier rendez-vous CEP")
    return operator, site, kind


def find(client, query, situation="actif_prive"):
    token = anonymous_csrf(client, "/rendez-vous")
    data = {"csrf_token": token, "situation": situation, "recherche": query}
    return client.post("/rendez-vous/trouver", data=data)


# ---- the territory ---------------------------------------------------------------------------


def test_every_departement_of_a_region_has_its_operator_region():
    regions = {code for code in DEPARTEMENT_NAMES if len(code) == 2} | {
        "971",
        "972",
        "973",
        "974",
        "976",
    }
    assert set(REGION_OF_DEPARTEMENT) == regions


@pytest.mark.parametrize(
    ("postcode", "departement"),
    [("20000", "2A"), ("20167", "2A"), ("20200", "2B"), ("20600", "2B"), ("97600", "976")],
)
def test_corsican_and_overseas_postcodes_find_their_departement(postcode, departement):
    assert departement_of(postcode) == departement


def test_a_commune_is_found_without_accents_or_hyphens():
    assert [c.name for c in communes_named("st etienne")][:1] == ["Saint-Étienne"]


# ---- the pages -------------------------------------------------------------------------------


def test_the_entry_page_explains_the_cep_and_asks_the_situation(client, agenda):
    page = client.get("/rendez-vous")
    assert page.status_code == 200
    text = read(page)
    assert "Qu'est-ce que le CEP ?" in text and "Demandeur d'emploi" in text


def test_a_postcode_leads_to_its_operator_sites_and_remote_modes(client, agenda):
    operator, site, _kind = agenda
    page = find(client, "69007")
    text = read(page)
    assert page.status_code == 200
    assert operator.name in text and site.name in text and "par téléphone" in text
    assert f'href="/rendez-vous?operateur={operator.code}"' in page.text


def test_a_commune_name_leads_to_its_operator(client, agenda):
    operator, _site, _kind = agenda
    text = read(find(client, "Villeurbanne"))
    assert operator.name in text and "Villeurbanne (69100)" in text


def test_corsica_and_overseas_find_their_own_operator(client, session, agenda):
    create_operator(session=session, code="COR", name="CEP Corse", region_code="94")
    create_operator(session=session, code="LRE", name="CEP La Réunion", region_code="04")
    assert "CEP Corse" in read(find(client, "20600"))
    assert "CEP Corse" in read(find(client, "Ajaccio"))
    assert "CEP La Réunion" in read(find(client, "97490"))


def test_a_name_shared_by_several_communes_asks_which(client, session, agenda):
    create_operator(session=session, code="LRE", name="CEP La Réunion", region_code="04")
    page = find(client, "Saint-Denis")
    assert page.status_code == 200 and 'value="97400"' in page.text and 'value="93200"' in page.text
    assert "CEP La Réunion" in read(find(client, "97400"))


@pytest.mark.parametrize("postcode", ["00000", "69999"])
def test_an_unknown_postcode_is_explained(client, agenda, postcode):
    page = find(client, postcode)
    assert page.status_code == 422
    assert "Ce code postal n'existe pas" in read(page)


def test_an_unknown_commune_is_explained(client, agenda):
    page = find(client, "Zzyzx")
    assert page.status_code == 422 and "Aucune commune ne porte ce nom" in read(page)


def test_a_postcode_of_one_commune_is_named_after_it(client, agenda):
    assert "Pour Lyon (69007)" in read(find(client, "69007"))
    assert "Pour le code postal 01400" in read(find(client, "01400"))


def test_a_place_without_operator_gives_the_national_line(client, agenda, monkeypatch):
    monkeypatch.setattr(get_settings(), "national_phone", "09 70 00 00 00")
    text = read(find(client, "33000"))
    assert "Gironde (33)" in text and "09 70 00 00 00" in text and 'href="tel:0970000000"' in text


def test_a_place_without_operator_and_no_national_line_names_none(client, agenda, monkeypatch):
    monkeypatch.setattr(get_settings(), "national_phone", "")
    text = read(find(client, "97133"))  # Saint-Barthélemy: no operator of the market
    assert "Aucun conseiller" in text and "tel:" not in text


@pytest.mark.parametrize(
    ("situation", "network"),
    [
        ("demandeur_emploi", "France Travail"),
        ("jeune_neet", "Mission locale"),
        ("agent_public", "CEP de son employeur public"),
    ],
)
def test_people_out_of_scope_are_sent_to_their_network(client, agenda, situation, network):
    operator, _site, _kind = agenda
    text = read(find(client, "69003", situation=situation))
    assert network in text and operator.name not in text


def test_a_cadre_may_book_and_is_told_of_the_apec(client, agenda):
    operator, _site, _kind = agenda
    text = read(find(client, "69003", situation="cadre"))
    assert operator.name in text and "APEC" in text


def test_a_missing_situation_is_asked_again(client, agenda):
    page = find(client, "69003", situation="")
    assert page.status_code == 422 and "Choisissez votre situation" in read(page)


def test_the_entry_is_rate_limited(client, agenda, monkeypatch):
    monkeypatch.setattr(get_settings(), "public_rate_limit", "2/minute")
    assert [find(client, "69003").status_code for _ in range(3)] == [200, 200, 429]


def test_the_postcode_is_carried_through_the_booking_not_asked_again(client, session, agenda):
    operator, site, kind = agenda
    find(client, "69007")
    motif = client.get(f"/rendez-vous?operateur={operator.code}")
    assert hidden(motif.text, "postcode") == "69007"
    token = client.cookies.get("filrouge_csrf")
    data = {"csrf_token": token, "operateur": "ARA", "motif": kind.id, "mode": "on_site"}
    client.post("/rendez-vous/lieu", data=data | {"postcode": "69007"})
    slots = client.get(
        f"/rendez-vous/creneaux?operateur=ARA&motif={kind.id}&mode=on_site&lieu={site.id}"
    )
    page = client.get(first_slot_link(slots.text))
    assert hidden(page.text, "postcode") == "69007"
    assert 'id="postcode"' not in page.text  # no field to type it into again
    submit(client, page, token, postcode=hidden(page.text, "postcode"))
    appointment = session.exec(select(Appointment)).one()
    assert session.get(Beneficiary, appointment.beneficiary_id).postcode == "69007"


def test_the_callback_form_does_not_ask_the_postcode_again(client, agenda):
    _operator, _site, kind = agenda
    find(client, "69007")
    page = client.get(f"/rendez-vous/rappel?operateur=ARA&motif={kind.id}&mode=phone")
    assert hidden(page.text, "postcode") == "69007" and 'id="postcode"' not in page.text


def test_a_postcode_left_empty_where_it_was_asked_is_not_asked_again(client, agenda):
    page, _token = contact_page(client, agenda, postcode="")
    assert 'id="postcode"' not in page.text and 'name="postcode"' not in page.text


def test_a_callback_form_reached_without_the_earlier_steps_asks_the_postcode(client, agenda):
    _operator, _site, kind = agenda
    page = client.get(f"/rendez-vous/rappel?operateur=ARA&motif={kind.id}&mode=phone")
    assert 'id="postcode"' in page.text


def test_a_postcode_that_cannot_be_one_is_asked_again_at_the_first_step(client, agenda):
    _operator, _site, kind = agenda
    token = anonymous_csrf(client, "/rendez-vous?operateur=ARA")
    data = {"csrf_token": token, "operateur": "ARA", "motif": kind.id, "mode": "on_site"}
    page = client.post("/rendez-vous/lieu", data=data | {"postcode": "6900"})
    assert page.status_code == 422 and "code postal à 5 chiffres" in read(page)


def test_the_situation_is_not_chosen_for_the_person(client, agenda):
    assert "checked" not in client.get("/rendez-vous").text


@pytest.mark.parametrize("query", ["\x00", "9" * 30, "x" * 5000, "   "])
def test_odd_input_is_a_french_422_not_an_error(client, agenda, query):
    page = find(client, query)
    assert page.status_code == 422 and "Vérifiez" in read(page)
