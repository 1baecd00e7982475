"""Tenant isolation: a counsellor of BRE never reads nor changes a row of ARA, on any surface.

Every refusal is a 404 (never a 403, which would confirm the row exists) and shows no data.
Episodes and interactions are read on their case page (whole or as the htmx fragment) and
listed by the case endpoints of the API; those are their read surfaces.
"""

from dataclasses import dataclass

import pytest
from sqlmodel import func, select

from app.models.beneficiaries import Beneficiary
from app.models.cases import Case, Episode, Interaction
from app.models.catalogue import ServiceUnit
from app.models.nomenclatures import Channel, RequestMotive
from app.models.triage import TriageCreate, TriageRequest
from app.security import create_api_token
from app.services.triage import create_request
from tests.factories import (
    log_in,
    make_beneficiary,
    make_case,
    make_episode,
    make_interaction,
    make_operator,
    make_site,
    make_staff,
)

HTMX = {"HX-Request": "true"}
# What ARA holds about its beneficiary: none of it may ever reach BRE.
SECRETS = (
    "Sidonie",
    "VAUTRIN",
    "Vautrin",
    "sidonie.vautrin@exemple.fr",
    "Note confidentielle",
    "Demande confidentielle",
    "+33698765432",
    "06 98 76 54 32",
)


@dataclass
class Tenant:
    counsellor: object
    beneficiary: Beneficiary
    case: Case
    episode: Episode
    interaction: Interaction
    triage: TriageRequest

    @property
    def ids(self) -> dict[str, int]:
        return {
            "beneficiary": self.beneficiary.id,
            "case": self.case.id,
            "episode": self.episode.id,
            "interaction": self.interaction.id,
            "triage": self.triage.id,
        }


def populate(session, code: str, name: str, **person) -> Tenant:
    """An operator's counsellor with one of everything: person, case, episode, contact, request."""
    counsellor = make_staff(session, make_operator(session, code, name))
    beneficiary = make_beneficiary(session, counsellor, **person)
    case = make_case(session, counsellor, beneficiary)
    episode = make_episode(session, counsellor, case)
    interaction = make_interaction(
        session, counsellor, case, episode_id=episode.id, summary=f"Note confidentielle {code}"
    )
    triage = create_request(
        session=session,
        actor=counsellor,
        data=TriageCreate(
            beneficiary_id=beneficiary.id,
            channel=Channel.PHONE,
            motive=RequestMotive.RETRAIN,
            request_text=f"Demande confidentielle {code}",
        ),
    )
    return Tenant(counsellor, beneficiary, case, episode, interaction, triage)


@pytest.fixture
def ara(session) -> Tenant:
    return populate(
        session,
        "ARA",
        "Auvergne-Rhône-Alpes",
        first_name="Sidonie",
        last_name="Vautrin",
        email="sidonie.vautrin@exemple.fr",
        phone="06 98 76 54 32",
    )


@pytest.fixture
def bre(session) -> Tenant:
    return populate(session, "BRE", "Bretagne", first_name="Yann", last_name="Le Goff")


@pytest.fixture
def as_bre(client, session, bre):
    """The client logged in as BRE's counsellor (browser session) and its CSRF token."""
    csrf = log_in(client, session, bre.counsellor)
    client.headers["Authorization"] = f"Bearer {create_api_token(bre.counsellor.id)}"
    return client, csrf


def snapshot(session) -> tuple:
    """Everything a refused write could have touched."""
    session.expire_all()
    counts = tuple(
        session.exec(select(func.count()).select_from(model)).one()
        for model in (Beneficiary, Case, Episode, Interaction, TriageRequest)
    )
    rows = (
        tuple(session.exec(select(Beneficiary.last_name, Beneficiary.email)).all()),
        tuple(session.exec(select(Case.status, Case.referent_id, Case.last_activity_at)).all()),
        tuple(session.exec(select(Episode.ended_at, Episode.outcome)).all()),
        tuple(session.exec(select(TriageRequest.status)).all()),
    )
    return counts, rows


def assert_no_secret(text: str) -> None:
    assert [s for s in SECRETS if s in text] == []


PERSON_FORM = {"first_name": "Pirate", "last_name": "Pirate", "email": "pirate@exemple.fr"}
INTERACTION = {"duration_minutes": 20, "channel": "telephone", "summary": "Pirate"}


def surface(resource, name, method, url, *, htmx=False, form=None, json=None):
    """One way to reach one of ARA's rows; `form` bodies get BRE's CSRF token."""
    headers = HTMX if htmx else {}
    return pytest.param(method, url, headers, form, json, id=f"{resource}-{name}")


OPEN_CASE = {"beneficiary_id": "{beneficiary}", "channel": "telephone", "motive": "vae"}
HAND_OVER = {"referent_id": "{bre_counsellor}"}
SURFACES = [
    surface("beneficiary", "page", "GET", "/beneficiaries/{beneficiary}"),
    surface(
        "beneficiary", "fragment", "GET", "/triage/new?beneficiary_id={beneficiary}", htmx=True
    ),
    surface("beneficiary", "form", "POST", "/beneficiaries/{beneficiary}", form=PERSON_FORM),
    surface("beneficiary", "api_get", "GET", "/api/v1/beneficiaries/{beneficiary}"),
    surface(
        "beneficiary", "api_write", "PUT", "/api/v1/beneficiaries/{beneficiary}", json=PERSON_FORM
    ),
    surface("case", "page", "GET", "/cases/{case}"),
    surface("case", "fragment", "GET", "/cases/{case}", htmx=True),
    surface("case", "form", "POST", "/cases/{case}/close", htmx=True, form={"reason": "termine"}),
    surface("case", "form_reopen", "POST", "/cases/{case}/reopen", form={}),
    surface("case", "form_referent", "POST", "/cases/{case}/referent", htmx=True, form=HAND_OVER),
    surface("case", "api_get", "GET", "/api/v1/cases/{case}"),
    surface("case", "api_write", "POST", "/api/v1/cases/{case}/close", json={"reason": "termine"}),
    surface("case", "api_reopen", "POST", "/api/v1/cases/{case}/reopen", json={}),
    surface("case", "api_referent", "PUT", "/api/v1/cases/{case}/referent", json=HAND_OVER),
    surface("episode", "page", "GET", "/cases/{case}"),
    surface("episode", "fragment", "GET", "/cases/{case}", htmx=True),
    surface(
        "episode",
        "form",
        "POST",
        "/cases/{case}/episodes/{episode}/end",
        htmx=True,
        form={"outcome": "Pirate"},
    ),
    surface("episode", "form_start", "POST", "/cases/{case}/episodes", form={"unit_id": "{uo1}"}),
    surface("episode", "api_get", "GET", "/api/v1/cases/{case}/episodes"),
    surface(
        "episode", "api_write", "POST", "/api/v1/episodes/{episode}/end", json={"outcome": "x"}
    ),
    surface(
        "episode", "api_start", "POST", "/api/v1/cases/{case}/episodes", json={"unit_id": "{uo1}"}
    ),
    surface("interaction", "page", "GET", "/cases/{case}"),
    surface("interaction", "fragment", "GET", "/cases/{case}", htmx=True),
    surface(
        "interaction",
        "form",
        "POST",
        "/cases/{case}/interactions",
        htmx=True,
        form={**INTERACTION, "occurred_at": "2026-01-05T10:00"},
    ),
    surface("interaction", "api_get", "GET", "/api/v1/cases/{case}/interactions"),
    surface(
        "interaction",
        "api_write",
        "POST",
        "/api/v1/cases/{case}/interactions",
        json={**INTERACTION, "occurred_at": "2026-01-05T10:00:00+01:00"},
    ),
    surface("triage", "page", "GET", "/triage/{triage}"),
    surface("triage", "fragment", "GET", "/triage/{triage}", htmx=True),
    surface("triage", "form", "POST", "/triage/{triage}/open-case", form=HAND_OVER),
    surface(
        "triage",
        "form_redirect",
        "POST",
        "/triage/{triage}/redirect",
        htmx=True,
        form={"redirection": "apec"},
    ),
    surface("triage", "api_write", "POST", "/api/v1/triage/{triage}/open-case", json=HAND_OVER),
    surface(
        "triage",
        "api_redirect",
        "POST",
        "/api/v1/triage/{triage}/redirect",
        json={"redirection": "apec"},
    ),
    # BRE's own forms and endpoints, naming one of ARA's rows.
    surface("beneficiary", "form_intake", "POST", "/triage/new", form=OPEN_CASE),
    surface("beneficiary", "api_open_case", "POST", "/api/v1/cases", json=OPEN_CASE),
    surface("beneficiary", "api_triage", "POST", "/api/v1/triage", json=OPEN_CASE),
    surface(
        "episode",
        "form_own_case",
        "POST",
        "/cases/{bre_case}/episodes/{episode}/end",
        form={"outcome": "Pirate"},
    ),
]


def fill(value, ids: dict):
    """Put the ids into a URL or into every string of a body."""
    if isinstance(value, str):
        return value.format(**ids)
    if isinstance(value, dict):
        return {key: fill(item, ids) for key, item in value.items()}
    return value


def all_ids(session, ara: Tenant, bre: Tenant) -> dict:
    uo1 = session.exec(select(ServiceUnit.id).where(ServiceUnit.code == "UO1")).one()
    return {**ara.ids, "bre_case": bre.case.id, "bre_counsellor": bre.counsellor.id, "uo1": uo1}


def test_every_resource_is_tried_on_every_surface():
    tried = {param.id for param in SURFACES}
    for resource in ("beneficiary", "case", "episode", "interaction", "triage"):
        for name in ("page", "fragment", "form", "api_get", "api_write"):
            if (resource, name) != ("triage", "api_get"):  # no such endpoint: see the queue test
                assert f"{resource}-{name}" in tried


@pytest.mark.parametrize(("method", "url", "headers", "form", "json"), SURFACES)
def test_counsellor_of_another_operator_gets_404_and_no_data(
    as_bre, session, ara, bre, method, url, headers, form, json
):
    client, csrf = as_bre
    ids = all_ids(session, ara, bre)
    body = {"json": fill(json, ids)} if json is not None else {}
    if form is not None:
        body = {"data": {**fill(form, ids), "csrf_token": csrf}}
    before = snapshot(session)
    response = client.request(
        method, fill(url, ids), headers=headers, follow_redirects=False, **body
    )
    assert response.status_code == 404
    assert_no_secret(response.text)
    assert snapshot(session) == before


def test_linking_an_interaction_to_another_operators_episode_is_refused(as_bre, session, ara, bre):
    client, _ = as_bre
    before = snapshot(session)
    response = client.post(
        f"/api/v1/cases/{bre.case.id}/interactions",
        json={
            **INTERACTION,
            "occurred_at": "2026-01-05T10:00:00+01:00",
            "episode_id": ara.episode.id,
        },
    )
    assert response.status_code == 422
    assert response.json()["fields"] == {"episode_id": "Cet épisode n'appartient pas au dossier"}
    assert snapshot(session) == before


# ---- lists and search ----------------------------------------------------------------------

SEARCHES = ["Vautrin", "sidonie", "sidonie.vautrin@exemple.fr", "06 98 76 54 32", "+33698765432"]


@pytest.mark.parametrize("query", SEARCHES)
@pytest.mark.parametrize(
    ("url", "headers"),
    [("/search", {}), ("/search", HTMX), ("/triage/new", {}), ("/triage/new", HTMX)],
    ids=["search-page", "search-fragment", "intake-page", "intake-fragment"],
)
def test_search_pages_never_show_another_operators_people(as_bre, ara, url, headers, query):
    client, _ = as_bre
    response = client.get(url, params={"q": query}, headers=headers)
    assert response.status_code == 200
    assert_no_secret(response.text.replace(query, ""))  # the query itself is echoed back
    assert f'/beneficiaries/{ara.beneficiary.id}"' not in response.text


@pytest.mark.parametrize("query", SEARCHES)
def test_api_search_never_returns_another_operators_people(as_bre, ara, query):
    client, _ = as_bre
    assert client.get("/api/v1/beneficiaries", params={"q": query}).json() == []


def test_search_finds_the_same_person_for_her_own_operator(client, session, ara):
    """The searches above would find her: they return nothing only because of the operator."""
    client.headers["Authorization"] = f"Bearer {create_api_token(ara.counsellor.id)}"
    for query in SEARCHES:
        found = client.get("/api/v1/beneficiaries", params={"q": query}).json()
        assert [p["id"] for p in found] == [ara.beneficiary.id]


def test_search_by_case_reference_never_shows_another_operators_case(as_bre, ara):
    client, _ = as_bre
    page = client.get("/search", params={"q": ara.case.reference})
    assert f'/cases/{ara.case.id}"' not in page.text
    assert_no_secret(page.text)


@pytest.mark.parametrize("url", ["/api/v1/beneficiaries", "/api/v1/cases", "/api/v1/triage"])
def test_api_lists_hold_only_the_operators_own_rows(as_bre, ara, bre, url):
    client, _ = as_bre
    listed = client.get(url).json()
    own = {
        "/api/v1/beneficiaries": bre.beneficiary,
        "/api/v1/cases": bre.case,
        "/api/v1/triage": bre.triage,
    }[url]
    assert [row["id"] for row in listed] == [own.id]


@pytest.mark.parametrize("url", ["/", "/triage", "/triage?mine=true"])
def test_home_and_queue_never_list_another_operators_rows(as_bre, ara, bre, url):
    client, _ = as_bre
    page = client.get(url)
    assert page.status_code == 200
    assert "Le Goff".upper() in page.text  # BRE's own request is there…
    assert_no_secret(page.text)  # …ARA's unassigned one is not
    assert ara.case.reference not in page.text


# ---- handing a case over -------------------------------------------------------------------


def test_api_refuses_a_referent_of_another_operator_and_writes_nothing(as_bre, session, ara, bre):
    client, _ = as_bre
    before = snapshot(session)
    response = client.put(
        f"/api/v1/cases/{bre.case.id}/referent", json={"referent_id": ara.counsellor.id}
    )
    assert response.status_code == 422
    assert response.json()["fields"] == {"referent_id": "Conseiller·ère inconnu·e"}
    assert snapshot(session) == before


def test_form_refuses_a_referent_of_another_operator_and_writes_nothing(as_bre, session, ara, bre):
    client, csrf = as_bre
    before = snapshot(session)
    response = client.post(
        f"/cases/{bre.case.id}/referent",
        data={"referent_id": ara.counsellor.id, "csrf_token": csrf},
        headers=HTMX,
    )
    assert "Conseiller·ère inconnu·e" in response.text
    assert ara.counsellor.full_name not in response.text
    assert snapshot(session) == before


def test_opening_a_case_for_a_referent_of_another_operator_is_refused(as_bre, session, ara, bre):
    client, _ = as_bre
    before = snapshot(session)
    response = client.post(
        "/api/v1/cases",
        json={
            "beneficiary_id": bre.beneficiary.id,
            "channel": "email",
            "motive": "vae",
            "referent_id": ara.counsellor.id,
        },
    )
    assert response.status_code == 422
    assert snapshot(session) == before


def test_triage_refuses_a_referent_of_another_operator(as_bre, session, ara, bre):
    client, _ = as_bre
    before = snapshot(session)
    response = client.post(
        f"/api/v1/triage/{bre.triage.id}/open-case", json={"referent_id": ara.counsellor.id}
    )
    assert response.status_code == 422
    assert snapshot(session) == before


def test_triage_refuses_a_site_of_another_operator(as_bre, session, ara, bre):
    client, _ = as_bre
    lyon = make_site(session, make_operator(session, "ARA"))
    before = snapshot(session)
    response = client.post(
        f"/api/v1/triage/{bre.triage.id}/open-case",
        json={"referent_id": bre.counsellor.id, "site_id": lyon.id},
    )
    assert response.status_code == 422
    assert response.json()["fields"] == {"site_id": "Lieu d'accueil inconnu"}
    assert snapshot(session) == before
