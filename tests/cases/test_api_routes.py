"""The JSON API under /api/v1, called with a Bearer token like any client would."""

import re
from datetime import timedelta

import pytest
from fastapi.routing import APIRoute
from sqlmodel import select

from app.models.base import utcnow
from app.models.cases import Case, Episode, Interaction
from app.models.nomenclatures import Role
from app.models.triage import TriageRequest
from app.routes.cases import api as api_routes
from tests.factories import (
    PASSWORD,
    bearer,
    log_in,
    make_beneficiary,
    make_case,
    make_operator,
    make_staff,
    unit_id,
)


def an_hour_ago() -> str:
    return (utcnow() - timedelta(hours=1)).isoformat()


def person(**overrides) -> dict:
    return {
        "first_name": "Hélène",
        "last_name": "Guérin",
        "email": "helene@exemple.fr",
        **overrides,
    }


def start(api, session, case_id: int, code: str):
    return api.post(f"/api/v1/cases/{case_id}/episodes", json={"unit_id": unit_id(session, code)})


def new_triage(api, beneficiary_id: int, **overrides):
    body = {
        "beneficiary_id": beneficiary_id,
        "channel": "telephone",
        "motive": "reconversion",
        "cep_situation": "actif_prive",
        "request_text": "Souhaite quitter la restauration",
        **overrides,
    }
    return api.post("/api/v1/triage", json=body)


# ---- authentication ------------------------------------------------------------------------


def test_password_flow_gives_a_bearer_token_that_opens_the_api(client, counsellor):
    answer = client.post(
        "/api/v1/auth/token", data={"username": counsellor.email, "password": PASSWORD}
    )
    assert answer.status_code == 200 and answer.json()["token_type"] == "bearer"
    token = answer.json()["access_token"]
    listed = client.get("/api/v1/units", headers={"Authorization": f"Bearer {token}"})
    assert listed.status_code == 200


def test_wrong_password_gets_401_in_french(client, counsellor):
    answer = client.post("/api/v1/auth/token", data={"username": counsellor.email, "password": "x"})
    assert answer.status_code == 401
    assert answer.json()["detail"] == "Adresse e-mail ou mot de passe incorrect"


def test_a_forged_token_gets_401(client):
    answer = client.get("/api/v1/cases", headers={"Authorization": "Bearer pas.un.jeton"})
    assert answer.status_code == 401


def test_a_browser_session_cookie_alone_does_not_open_the_api(client, session, counsellor):
    """The API skips the CSRF check because it never reads cookies: keep it that way."""
    log_in(client, session, counsellor)
    assert client.get("/", follow_redirects=False).status_code == 200
    assert client.get("/api/v1/cases").status_code == 401


def test_a_token_of_a_deactivated_account_gets_401(client, session, counsellor):
    headers = bearer(counsellor)
    counsellor.active = False
    session.add(counsellor)
    assert client.get("/api/v1/cases", headers=headers).status_code == 401


# Every operation of the dossier API, path parameters set to 1.
API_OPERATIONS = [
    (method, re.sub(r"\{\w+\}", "1", route.path))
    for route in api_routes.router.routes
    if isinstance(route, APIRoute)
    for method in sorted(route.methods)
]


def test_the_auth_checks_cover_every_dossier_operation():
    assert len(API_OPERATIONS) >= 20
    assert ("POST", "/api/v1/cases/1/episodes") in API_OPERATIONS


@pytest.mark.parametrize(("method", "path"), API_OPERATIONS)
def test_no_token_gets_401_with_a_bearer_challenge(client, method, path):
    answer = client.request(method, path, json={})
    assert answer.status_code == 401
    assert answer.headers["www-authenticate"] == "Bearer"
    assert answer.json() == {"detail": "Authentification requise"}


@pytest.mark.parametrize("role", [Role.NATIONAL_OBSERVER, Role.SYSADMIN])
@pytest.mark.parametrize(("method", "path"), API_OPERATIONS)
def test_roles_without_cases_get_403_on_every_operation(client, session, method, path, role):
    observer = make_staff(session, None, role)
    answer = client.request(method, path, json={}, headers=bearer(observer))
    assert answer.status_code == 403
    assert answer.json() == {"detail": "Votre rôle ne donne pas accès aux dossiers."}


# ---- beneficiaries -------------------------------------------------------------------------


def test_creating_a_person_answers_201_with_normalised_contact(api):
    answer = api.post(
        "/api/v1/beneficiaries",
        json=person(email="Helene@Exemple.FR", phone="06 12 34 56 78", postcode="69003"),
    )
    assert answer.status_code == 201
    body = answer.json()
    assert (body["email"], body["phone"], body["postcode"]) == (
        "helene@exemple.fr",
        "+33612345678",
        "69003",
    )


def test_search_ignores_accents_and_case(api):
    api.post("/api/v1/beneficiaries", json=person())
    found = api.get("/api/v1/beneficiaries", params={"q": "HELENE guerin"}).json()
    assert [p["last_name"] for p in found] == ["Guérin"]


def test_search_without_a_match_is_an_empty_list(api):
    api.post("/api/v1/beneficiaries", json=person())
    assert api.get("/api/v1/beneficiaries", params={"q": "Kerhervé"}).json() == []


def test_listing_without_a_query_pages_through_the_operators_people(api, session, counsellor):
    for _ in range(3):
        make_beneficiary(session, counsellor)
    page = api.get("/api/v1/beneficiaries", params={"offset": 1, "limit": 1}).json()
    assert len(page) == 1


def test_get_returns_the_person(api):
    created = api.post("/api/v1/beneficiaries", json=person()).json()
    answer = api.get(f"/api/v1/beneficiaries/{created['id']}")
    assert answer.status_code == 200 and answer.json() == created


def test_unknown_person_gets_404_in_french(api):
    answer = api.get("/api/v1/beneficiaries/999999")
    assert answer.status_code == 404 and answer.json() == {"detail": "Introuvable"}


def test_update_replaces_the_profile(api):
    created = api.post("/api/v1/beneficiaries", json=person()).json()
    answer = api.put(
        f"/api/v1/beneficiaries/{created['id']}",
        json=person(last_name="Guérin-Morel", birth_year=1980, rqth="oui"),
    )
    assert answer.status_code == 200
    assert (answer.json()["last_name"], answer.json()["birth_year"]) == ("Guérin-Morel", 1980)
    assert api.get(f"/api/v1/beneficiaries/{created['id']}").json()["rqth"] == "oui"


def test_duplicate_email_gets_409_with_french_detail(api):
    api.post("/api/v1/beneficiaries", json=person())
    answer = api.post(
        "/api/v1/beneficiaries", json=person(first_name="Autre", email="HELENE@exemple.fr")
    )
    assert answer.status_code == 409
    assert "semble déjà connue" in answer.json()["detail"]


def test_update_to_another_persons_email_gets_409(api):
    api.post("/api/v1/beneficiaries", json=person())
    other = api.post("/api/v1/beneficiaries", json=person(email="autre@exemple.fr")).json()
    answer = api.put(f"/api/v1/beneficiaries/{other['id']}", json=person())
    assert answer.status_code == 409
    assert "déjà utilisé" in answer.json()["detail"]


def test_invalid_phone_and_postcode_get_422_with_french_fields(api):
    answer = api.post("/api/v1/beneficiaries", json=person(phone="123", postcode="6900"))
    assert answer.status_code == 422
    body = answer.json()
    assert body["detail"] == "Certaines informations sont à corriger"
    assert body["fields"]["phone"].startswith("Numéro de téléphone français invalide")
    assert body["fields"]["postcode"].startswith("Code postal invalide")


def test_missing_name_and_bad_choice_get_422_with_french_fields(api):
    answer = api.post(
        "/api/v1/beneficiaries", json={"last_name": "Guérin", "sex": "X", "email": "pas-un-mail"}
    )
    fields = answer.json()["fields"]
    assert answer.status_code == 422
    assert fields["first_name"] == "Ce champ est obligatoire"
    assert fields["sex"] == "Choix invalide"
    assert fields["email"] == "Adresse e-mail invalide"


# ---- cases and episodes --------------------------------------------------------------------


@pytest.mark.usefixtures("clock")  # the year read here is the app's, even on New Year's Eve
def test_opening_a_case_answers_201_with_its_reference(api, session, counsellor):
    beneficiary = make_beneficiary(session, counsellor)
    answer = api.post(
        "/api/v1/cases",
        json={"beneficiary_id": beneficiary.id, "channel": "email", "motive": "vae"},
    )
    assert answer.status_code == 201
    body = answer.json()
    assert body["reference"] == f"ARA-{utcnow().year}-{body['id']:06d}"
    assert (body["status"], body["referent_id"]) == ("open", counsellor.id)


def test_cases_can_be_listed_by_status(api, session, counsellor):
    open_case = make_case(session, counsellor)
    closed = make_case(session, counsellor)
    api.post(f"/api/v1/cases/{closed.id}/close", json={"reason": "termine"})
    listed = api.get("/api/v1/cases", params={"status": "open"}).json()
    assert [c["id"] for c in listed] == [open_case.id]


def test_level_two_first_answers_201_with_the_order_warning(api, session, case):
    answer = start(api, session, case.id, "UO2.2")
    assert answer.status_code == 201
    assert answer.json()["episode"]["unit_code"] == "UO2.2"
    assert answer.json()["warnings"] == ["UO2.2 sans UO2.1 préalable."]


def test_units_start_in_any_order_each_with_201(api, session, case):
    codes = ("UO2.1", "UO1", "UO2.2", "UO1")
    statuses = [start(api, session, case.id, code).status_code for code in codes]
    assert statuses == [201, 201, 201, 201]
    listed = api.get(f"/api/v1/cases/{case.id}/episodes").json()
    assert sorted(e["unit_code"] for e in listed) == sorted(codes)


def test_unknown_unit_gets_422_in_french(api, case):
    answer = api.post(f"/api/v1/cases/{case.id}/episodes", json={"unit_id": 999999})
    assert answer.status_code == 422
    assert answer.json()["fields"] == {"unit_id": "Unité d'œuvre inconnue"}


def test_ending_an_episode_records_end_and_outcome(api, session, case):
    episode = start(api, session, case.id, "UO1").json()["episode"]
    answer = api.post(f"/api/v1/episodes/{episode['id']}/end", json={"outcome": "Projet clarifié"})
    assert answer.status_code == 200
    assert answer.json()["outcome"] == "Projet clarifié" and answer.json()["ended_at"]


def test_ending_an_episode_twice_gets_409(api, session, case):
    episode = start(api, session, case.id, "UO1").json()["episode"]
    api.post(f"/api/v1/episodes/{episode['id']}/end", json={})
    answer = api.post(f"/api/v1/episodes/{episode['id']}/end", json={})
    assert answer.status_code == 409
    assert answer.json()["detail"] == "Cet épisode est déjà terminé."


def test_an_episode_cannot_start_in_the_future(api, session, case):
    tomorrow = (utcnow() + timedelta(days=1)).isoformat()
    answer = api.post(
        f"/api/v1/cases/{case.id}/episodes",
        json={"unit_id": unit_id(session, "UO1"), "started_at": tomorrow},
    )
    assert answer.status_code == 422 and "futur" in answer.json()["fields"]["started_at"]
    assert session.exec(select(Episode)).all() == []


# ---- interactions --------------------------------------------------------------------------


def interaction(**overrides) -> dict:
    return {
        "occurred_at": an_hour_ago(),
        "duration_minutes": 30,
        "channel": "telephone",
        "summary": "Point sur le projet",
        **overrides,
    }


def test_an_interaction_outside_any_unit_is_recorded(api, case):
    answer = api.post(f"/api/v1/cases/{case.id}/interactions", json=interaction())
    assert answer.status_code == 201
    assert answer.json()["episode_id"] is None
    assert len(api.get(f"/api/v1/cases/{case.id}/interactions").json()) == 1


def test_an_interaction_can_belong_to_an_episode_of_the_case(api, session, case):
    episode = start(api, session, case.id, "UO1").json()["episode"]
    answer = api.post(
        f"/api/v1/cases/{case.id}/interactions", json=interaction(episode_id=episode["id"])
    )
    assert answer.status_code == 201 and answer.json()["episode_id"] == episode["id"]


def test_an_episode_of_another_case_gets_422_and_nothing_is_written(api, session, counsellor, case):
    other_case = make_case(session, counsellor)
    episode = start(api, session, other_case.id, "UO1").json()["episode"]
    answer = api.post(
        f"/api/v1/cases/{case.id}/interactions", json=interaction(episode_id=episode["id"])
    )
    assert answer.status_code == 422
    assert answer.json()["fields"] == {"episode_id": "Cet épisode n'appartient pas au dossier"}
    assert session.exec(select(Interaction)).all() == []


def test_an_interaction_in_the_future_gets_422(api, case):
    tomorrow = (utcnow() + timedelta(days=1)).isoformat()
    answer = api.post(
        f"/api/v1/cases/{case.id}/interactions", json=interaction(occurred_at=tomorrow)
    )
    assert answer.status_code == 422
    assert "futur" in " ".join(answer.json()["fields"].values())


def test_an_interaction_without_time_zone_gets_422(api, case):
    answer = api.post(
        f"/api/v1/cases/{case.id}/interactions",
        json=interaction(occurred_at="2026-01-05T10:00:00"),
    )
    assert answer.status_code == 422
    assert answer.json()["fields"]["occurred_at"] == "Date invalide : fuseau horaire manquant"


# ---- closing and reopening -----------------------------------------------------------------


def test_closing_then_reopening_a_case(api, case):
    closed = api.post(f"/api/v1/cases/{case.id}/close", json={"reason": "termine", "note": "Fin"})
    assert (closed.status_code, closed.json()["status"]) == (200, "closed")
    assert closed.json()["close_reason"] == "termine"
    reopened = api.post(f"/api/v1/cases/{case.id}/reopen")
    assert (reopened.status_code, reopened.json()["status"]) == (200, "open")
    assert reopened.json()["closed_at"] is None


def test_closing_twice_gets_409_in_french(api, case):
    api.post(f"/api/v1/cases/{case.id}/close", json={"reason": "termine"})
    answer = api.post(f"/api/v1/cases/{case.id}/close", json={"reason": "abandon"})
    assert answer.status_code == 409
    assert answer.json() == {"detail": "Ce dossier est déjà clos."}


def test_reopening_an_open_case_gets_409(api, case):
    answer = api.post(f"/api/v1/cases/{case.id}/reopen")
    assert answer.status_code == 409 and answer.json() == {"detail": "Ce dossier est déjà ouvert."}


def test_a_closed_case_refuses_new_episodes_with_409(api, session, case):
    api.post(f"/api/v1/cases/{case.id}/close", json={"reason": "termine"})
    assert start(api, session, case.id, "UO1").status_code == 409


def test_the_referent_can_be_handed_to_a_colleague(api, session, counsellor, case):
    colleague = make_staff(session, make_operator(session))
    answer = api.put(f"/api/v1/cases/{case.id}/referent", json={"referent_id": colleague.id})
    assert answer.status_code == 200 and answer.json()["referent_id"] == colleague.id


# ---- triage --------------------------------------------------------------------------------


def test_a_triage_request_answers_201_and_joins_the_queue(api, session, counsellor):
    beneficiary = make_beneficiary(session, counsellor)
    answer = new_triage(api, beneficiary.id)
    assert answer.status_code == 201 and answer.json()["status"] == "pending"
    assert [t["id"] for t in api.get("/api/v1/triage").json()] == [answer.json()["id"]]


def test_a_triage_request_without_a_person_gets_422(api):
    answer = api.post("/api/v1/triage", json={"channel": "telephone", "motive": "vae"})
    assert answer.status_code == 422
    assert answer.json()["fields"] == {"beneficiary_id": "Choisissez une personne ou saisissez-la"}


def test_opening_a_case_from_triage_records_the_uo0_episode(api, session, counsellor):
    beneficiary = make_beneficiary(session, counsellor)
    request = new_triage(api, beneficiary.id).json()
    answer = api.post(
        f"/api/v1/triage/{request['id']}/open-case", json={"referent_id": counsellor.id}
    )
    assert answer.status_code == 200 and answer.json()["status"] == "open"
    episodes = api.get(f"/api/v1/cases/{answer.json()['id']}/episodes").json()
    assert [(e["unit_code"], e["outcome"]) for e in episodes] == [("UO0", "Dossier ouvert")]
    assert api.get("/api/v1/triage").json() == []


def test_redirecting_from_triage_closes_the_case_at_once(api, session, counsellor):
    beneficiary = make_beneficiary(session, counsellor)
    request = new_triage(api, beneficiary.id, cep_situation="demandeur_emploi").json()
    answer = api.post(
        f"/api/v1/triage/{request['id']}/redirect",
        json={"redirection": "france_travail", "reason": "Inscrit depuis mars"},
    )
    assert answer.status_code == 200
    assert (answer.json()["status"], answer.json()["close_reason"]) == ("closed", "reoriente")
    handled = session.get(TriageRequest, request["id"])
    assert (handled.status, handled.redirection) == ("redirected", "france_travail")


def test_a_handled_triage_request_gets_409(api, session, counsellor):
    beneficiary = make_beneficiary(session, counsellor)
    request = new_triage(api, beneficiary.id).json()
    api.post(f"/api/v1/triage/{request['id']}/open-case", json={"referent_id": counsellor.id})
    answer = api.post(f"/api/v1/triage/{request['id']}/redirect", json={"redirection": "apec"})
    assert answer.status_code == 409
    assert answer.json() == {"detail": "Cette demande a déjà été traitée."}
    assert len(session.exec(select(Case)).all()) == 1


def test_a_redirection_reason_longer_than_the_close_note_gets_422(api, session, counsellor):
    beneficiary = make_beneficiary(session, counsellor)
    request = new_triage(api, beneficiary.id).json()
    answer = api.post(
        f"/api/v1/triage/{request['id']}/redirect",
        json={"redirection": "apec", "reason": "x" * 1001},
    )
    assert answer.status_code == 422
    assert answer.json()["fields"] == {"reason": "Trop long : 1000 caractères au plus"}


def test_a_name_that_grows_when_accents_are_stripped_is_still_stored(api):
    answer = api.post(
        "/api/v1/beneficiaries", json=person(first_name="\ufdfa" * 80, last_name="\ufdfa" * 80)
    )
    assert answer.status_code == 201


# ---- garbage at the edges of what the database can hold -------------------------------------


def test_an_id_beyond_the_database_range_gets_422_in_french(api):
    answer = api.get(f"/api/v1/cases/{2**63}")
    assert answer.status_code == 422
    assert answer.json()["fields"] == {"case_id": "Doit être au plus 2147483647"}


def test_a_nul_character_in_a_name_gets_422(api):
    answer = api.post("/api/v1/beneficiaries", json=person(last_name="Gu\x00érin"))
    assert answer.status_code == 422


def test_a_date_that_cannot_be_stored_in_utc_gets_422(api, case):
    answer = api.post(
        f"/api/v1/cases/{case.id}/interactions",
        json=interaction(occurred_at="0001-01-01T00:00:00+01:00"),
    )
    assert answer.status_code == 422


def test_a_request_received_in_the_future_gets_422(api, session, counsellor):
    someone = make_beneficiary(session, counsellor)
    tomorrow = (utcnow() + timedelta(days=1)).isoformat()
    answer = api.post(
        "/api/v1/triage",
        json={
            "beneficiary_id": someone.id,
            "channel": "web",
            "motive": "vae",
            "received_at": tomorrow,
        },
    )
    assert answer.status_code == 422
    assert "futur" in answer.json()["fields"]["received_at"]


@pytest.mark.parametrize("ended_at", ["0001-01-01T00:00:00+00:01", "9999-12-31T23:59:00-00:01"])
def test_an_episode_end_outside_any_plausible_date_gets_422(api, session, case, ended_at):
    started = api.post(
        f"/api/v1/cases/{case.id}/episodes", json={"unit_id": unit_id(session, "UO1")}
    ).json()
    answer = api.post(
        f"/api/v1/episodes/{started['episode']['id']}/end",
        json={"ended_at": ended_at},
    )
    assert answer.status_code == 422


def test_a_nul_character_in_a_search_finds_nothing_and_breaks_nothing(api):
    assert api.get("/api/v1/beneficiaries", params={"q": "Gu\x00érin"}).json() == []
