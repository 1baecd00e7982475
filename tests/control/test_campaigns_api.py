"""The control campaigns' API (issue 19, item 6): the controller opens an official campaign and
reads what it opened; the operator's managers and administrators read the campaigns on their
operator, the sampled units' proofs, record the proofs added and submit; everyone else is 404
(or 403 for a role that never may); the statuses are enums in the OpenAPI document."""

import hashlib
from datetime import timedelta

import pytest

from app.core.dates import local_today
from app.core.storage import sha256_of
from app.models.control import (
    CampaignEventKind,
    CampaignKind,
    CampaignPhase,
    ControlCampaign,
    OfficialCampaignCreate,
    PackStatus,
)
from app.models.nomenclatures import Role
from app.services.control.campaigns import seed_basis
from app.services.control.official import open_official_campaign
from app.services.control.proofs import ProofState
from tests.control.test_campaign_submission import hand_over_proof, require_a_proof_of_uo0
from tests.factories import bearer, ended_unit, make_case, make_operator, make_staff

API = "/api/v1/control-campaigns"
OPENING = {
    "from": "2026-11-01",
    "to": "2026-11-30",
    "sample_size": 3,
    "public_value": "Tirage du loto du 4 novembre 2026 : 7 12 25 33 41 — 6",
}
# Every address under one campaign, and what only the operator's side may do there.
BOTH_SIDES = [
    ("GET", ""),
    ("GET", "/drawn-units"),
    ("GET", "/population"),
    ("GET", "/history"),
    ("GET", "/proof-pack?purpose=controle_service_fait"),
]
OPERATOR_SIDE = [("GET", "/units"), ("POST", "/verify-proofs"), ("POST", "/submit")]


@pytest.fixture
def controller(session):
    return make_staff(session, None, Role.CONTROLLER, full_name="Claire Contrôle")


@pytest.fixture
def units(session, counsellor):
    # UO0 needs no proof: each is billable as the ledger counts it (billable_units).
    return [ended_unit(session, make_case(session, counsellor), "UO0") for _ in range(5)]


def opened(session, controller, operator) -> ControlCampaign:
    """An official campaign opened by the service, its pack not built yet."""
    request = OfficialCampaignCreate.model_validate({**OPENING, "operator_id": operator.id})
    return open_official_campaign(session=session, actor=controller, request=request)


def call(client, user, method: str, path: str):
    return client.request(method, path, headers=bearer(user))


# ---- the controller --------------------------------------------------------------------------


def test_the_controller_opens_a_campaign_and_reads_its_published_draw(
    client, session, controller, ara, units, storage_dir
):
    body = {**OPENING, "operator_id": ara.id}
    created = client.post(f"{API}/official/open", json=body, headers=bearer(controller))
    assert created.status_code == 201, created.text
    campaign = created.json()
    assert created.headers["location"] == f"{API}/{campaign['id']}"
    assert campaign["kind"] == "official" and campaign["phase"] == "open"
    assert campaign["operator_id"] == ara.id and campaign["public_value"] == OPENING["public_value"]
    assert campaign["population"] == 5 and campaign["drawn"] == 3
    stored = session.get(ControlCampaign, campaign["id"])
    assert campaign["seed_basis"] == seed_basis(stored.created_at, OPENING["public_value"])
    digest = hashlib.sha256(campaign["seed_basis"].encode()).hexdigest()
    assert campaign["seed"] == int(digest[:8], 16) % 2**31
    assert campaign["deadline"] == str(local_today("Europe/Paris") + timedelta(days=30))

    listed = call(client, controller, "GET", API).json()
    assert [found["id"] for found in listed] == [campaign["id"]]
    one = call(client, controller, "GET", f"{API}/{campaign['id']}").json()
    assert one["status"] == "ready" and one["progress"] == 1.0  # built after the answer
    population = call(client, controller, "GET", f"{API}/{campaign['id']}/population").json()
    assert population == {"population": 5, "unit_ids": sorted(unit.id for unit in units)}
    drawn = call(client, controller, "GET", f"{API}/{campaign['id']}/drawn-units").json()
    # The draw as the README tells a third party: ranked by SHA-256 of « seed:id ».
    by_rank = sorted(
        population["unit_ids"],
        key=lambda unit: hashlib.sha256(f"{campaign['seed']}:{unit}".encode()).hexdigest(),
    )
    assert drawn == {"seed": campaign["seed"], "unit_ids": by_rank[:3]}
    history = call(client, controller, "GET", f"{API}/{campaign['id']}/history").json()
    assert [step["kind"] for step in history] == ["opened", "drawn"]
    assert {step["author"] for step in history} == {"Claire Contrôle"}
    assert history[0]["label"] == "Contrôle ouvert"
    pack = call(
        client,
        controller,
        "GET",
        f"{API}/{campaign['id']}/proof-pack?purpose=controle_service_fait",
    )
    assert pack.status_code == 200 and sha256_of(pack.content) == one["pack_sha256"]


def test_opening_asks_for_a_size_or_a_rate_and_a_known_operator(
    client, session, controller, ara, units
):
    both = {**OPENING, "operator_id": ara.id, "sample_rate": 10}
    assert (
        client.post(f"{API}/official/open", json=both, headers=bearer(controller)).status_code
        == 422
    )
    unknown = {**OPENING, "operator_id": ara.id + 1000}
    refused = client.post(f"{API}/official/open", json=unknown, headers=bearer(controller))
    assert refused.status_code == 422 and "operator_id" in refused.json()["fields"]
    assert session.query(ControlCampaign).count() == 0


def test_the_pack_not_yet_built_is_409(client, session, controller, ara, units):
    campaign = opened(session, controller, ara)
    answer = call(
        client, controller, "GET", f"{API}/{campaign.id}/proof-pack?purpose=controle_service_fait"
    )
    assert answer.status_code == 409 and answer.json()["detail"]


def test_the_controller_never_lists_self_checks(client, session, controller, manager, ara, units):
    campaign = opened(session, controller, ara)
    draw = {"from": "2026-11-01", "to": "2026-11-30", "sample_size": 1}
    assert client.post(API, json=draw, headers=bearer(manager)).status_code == 202
    listed = call(client, controller, "GET", API).json()
    assert [found["id"] for found in listed] == [campaign.id]
    assert call(client, controller, "GET", f"{API}?kind=self_check").json() == []


@pytest.mark.parametrize(("method", "path"), BOTH_SIDES + OPERATOR_SIDE)
def test_another_controller_gets_404(client, session, controller, ara, units, method, path):
    campaign = opened(session, controller, ara)
    other = make_staff(session, None, Role.CONTROLLER)
    answer = call(client, other, method, f"{API}/{campaign.id}{path}")
    assert answer.status_code == 404 and answer.json() == {"detail": "Introuvable"}
    assert call(client, other, "GET", API).json() == []


@pytest.mark.parametrize(("method", "path"), OPERATOR_SIDE)
def test_the_operators_side_is_404_to_the_controller(
    client, session, controller, ara, units, method, path
):
    campaign = opened(session, controller, ara)
    assert call(client, controller, method, f"{API}/{campaign.id}{path}").status_code == 404
    assert session.get(ControlCampaign, campaign.id).phase == CampaignPhase.OPEN


def test_a_controller_draws_no_self_check(client, controller):
    draw = {"from": "2026-11-01", "to": "2026-11-30", "sample_size": 1}
    assert client.post(API, json=draw, headers=bearer(controller)).status_code == 403


# ---- the operator ----------------------------------------------------------------------------


def test_the_operator_lists_official_campaigns_and_self_checks_by_kind(
    client, session, controller, manager, ara, units
):
    official = opened(session, controller, ara)
    draw = {"from": "2026-11-01", "to": "2026-11-30", "sample_size": 1}
    own = client.post(API, json=draw, headers=bearer(manager)).json()
    listed = call(client, manager, "GET", API).json()
    assert [(found["id"], found["kind"]) for found in listed] == [
        (own["id"], "self_check"),
        (official.id, "official"),
    ]
    assert own["seed_basis"] is None and own["deadline"] is None
    only = call(client, manager, "GET", f"{API}?kind=official").json()
    assert [found["id"] for found in only] == [official.id]
    one = call(client, manager, "GET", f"{API}/{official.id}").json()
    assert one["seed_basis"] == listed[1]["seed_basis"] is not None


def test_the_operator_adds_a_missing_proof_and_submits(
    client, session, controller, admin, counsellor, ara, units, storage_dir
):
    campaign = opened(session, controller, ara)
    require_a_proof_of_uo0(session, ara)
    sampled = call(client, admin, "GET", f"{API}/{campaign.id}/units").json()
    assert len(sampled) == 3 and [unit["position"] for unit in sampled] == [1, 2, 3]
    assert all(not unit["complete"] for unit in sampled)
    assert {proof["state"] for unit in sampled for proof in unit["proofs"]} == {"missing"}
    first = next(unit for unit in units if unit.id == sampled[0]["unit_id"])
    hand_over_proof(session, first, counsellor)

    verified = call(client, admin, "POST", f"{API}/{campaign.id}/verify-proofs")
    assert verified.status_code == 200 and verified.json() == {"recorded": 1}
    assert call(client, admin, "POST", f"{API}/{campaign.id}/verify-proofs").json() == {
        "recorded": 0
    }
    page = call(client, admin, "GET", f"{API}/{campaign.id}/units?offset=0&limit=1").json()
    assert len(page) == 1 and page[0]["complete"] and page[0]["proofs"][0]["state"] == "complete"
    assert page[0]["proofs"][0]["deliverable_id"] is not None
    second = call(client, admin, "GET", f"{API}/{campaign.id}/units?offset=1&limit=5").json()
    assert [unit["position"] for unit in second] == [2, 3]

    submitted = call(client, admin, "POST", f"{API}/{campaign.id}/submit")
    assert submitted.status_code == 200 and submitted.json()["phase"] == "submitted"
    assert submitted.json()["submitted_at"] is not None
    history = call(client, admin, "GET", f"{API}/{campaign.id}/history").json()
    assert [step["kind"] for step in history] == ["opened", "drawn", "proof_added", "submitted"]
    assert history[2]["unit_id"] == first.id and history[2]["author"] == counsellor.full_name
    assert history[2]["case_reference"] is not None
    # Frozen: both again are refused, as the pages refuse them.
    for path in ("/submit", "/verify-proofs"):
        refused = call(client, admin, "POST", f"{API}/{campaign.id}{path}")
        assert refused.status_code == 409 and refused.json()["detail"]
    # The controller sees the submission.
    seen = call(client, controller, "GET", f"{API}/{campaign.id}").json()
    assert seen["phase"] == "submitted" and seen["status"] == "ready"


def test_past_the_deadline_the_operator_can_neither_verify_nor_submit(
    client, session, controller, manager, ara, units
):
    campaign = opened(session, controller, ara)
    campaign.deadline = local_today(ara.time_zone) - timedelta(days=1)
    session.add(campaign)
    session.flush()
    for path in ("/verify-proofs", "/submit"):
        answer = call(client, manager, "POST", f"{API}/{campaign.id}{path}")
        assert answer.status_code == 409 and "échéance" in answer.json()["detail"]
    assert session.get(ControlCampaign, campaign.id).phase == CampaignPhase.OPEN


def test_a_self_check_is_not_submitted_and_has_no_history(client, session, manager, units):
    draw = {"from": "2026-11-01", "to": "2026-11-30", "sample_size": 1}
    own = client.post(API, json=draw, headers=bearer(manager)).json()
    assert call(client, manager, "POST", f"{API}/{own['id']}/submit").status_code == 409
    assert call(client, manager, "GET", f"{API}/{own['id']}/history").status_code == 404
    assert len(call(client, manager, "GET", f"{API}/{own['id']}/units").json()) == 1


@pytest.mark.parametrize(("method", "path"), BOTH_SIDES + OPERATOR_SIDE)
def test_another_operators_manager_gets_404(client, session, controller, ara, units, method, path):
    campaign = opened(session, controller, ara)
    bre_manager = make_staff(session, make_operator(session, "BRE", "Bretagne"), Role.MANAGER)
    answer = call(client, bre_manager, method, f"{API}/{campaign.id}{path}")
    assert answer.status_code == 404 and answer.json() == {"detail": "Introuvable"}
    assert call(client, bre_manager, "GET", API).json() == []
    assert session.get(ControlCampaign, campaign.id).phase == CampaignPhase.OPEN


# ---- roles that never may --------------------------------------------------------------------


@pytest.mark.parametrize(("method", "path"), [("GET", "")] + BOTH_SIDES + OPERATOR_SIDE)
def test_a_counsellor_is_403_and_an_observer_404(
    client, session, controller, counsellor, observer, ara, units, method, path
):
    campaign = opened(session, controller, ara)
    address = f"{API}/{campaign.id}{path}" if path else API
    assert call(client, counsellor, method, address).status_code == 403
    assert call(client, observer, method, address).status_code == 404
    assert session.get(ControlCampaign, campaign.id).phase == CampaignPhase.OPEN


@pytest.mark.parametrize("role", ["manager", "admin", "counsellor", "observer"])
def test_only_a_controller_opens_an_official_campaign(client, session, ara, units, role, request):
    user = request.getfixturevalue(role)
    body = {**OPENING, "operator_id": ara.id}
    assert client.post(f"{API}/official/open", json=body, headers=bearer(user)).status_code == 403
    assert session.query(ControlCampaign).count() == 0


def test_without_a_token_it_is_401(client, session, controller, ara, units):
    campaign = opened(session, controller, ara)
    assert client.get(f"{API}/{campaign.id}").status_code == 401


# ---- the document ----------------------------------------------------------------------------


def _schema(document: dict, reference: dict) -> dict:
    name = (reference.get("$ref") or reference["anyOf"][0]["$ref"]).rsplit("/", 1)[-1]
    return document["components"]["schemas"][name]


@pytest.mark.parametrize(
    ("model", "field", "enum"),
    [
        ("CampaignPublic", "kind", CampaignKind),
        ("CampaignPublic", "status", PackStatus),
        ("CampaignPublic", "phase", CampaignPhase),
        ("CampaignEventPublic", "kind", CampaignEventKind),
        ("ProofPublic", "state", ProofState),
    ],
)
def test_the_openapi_lists_every_status(app, model, field, enum):
    document = app.openapi()
    properties = document["components"]["schemas"][model]["properties"]
    assert _schema(document, properties[field])["enum"] == [member.value for member in enum]


def test_every_campaign_operation_has_a_summary_and_a_description(app):
    paths = app.openapi()["paths"]
    operations = [
        operation
        for path, item in paths.items()
        if path.startswith(API)
        for operation in item.values()
    ]
    assert len(operations) == 16
    assert all(operation["summary"] and operation["description"] for operation in operations)
    assert paths[f"{API}/official/open"]["post"]["responses"]["201"]["headers"]["Location"]
    listing = paths[API]["get"]["parameters"]
    kind = next(parameter for parameter in listing if parameter["name"] == "kind")
    assert "CampaignKind" in str(kind["schema"])
