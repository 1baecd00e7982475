"""The review of an official campaign through the API (issue 19, items 3 and 6): the controller
judges each sampled unit and closes, the operator answers a non-conform finding once, both read
the findings and the summary; the same refusals as the pages (404 not yours, 409 at the wrong
moment, 422 bad input, 403 a role that never may), and the enums in the OpenAPI document."""

import pytest
from sqlmodel import select

from app.models.control import (
    CampaignEventKind,
    CampaignKind,
    CampaignPhase,
    ControlCampaign,
    ControlFinding,
    FindingReason,
    Verdict,
)
from app.models.nomenclatures import Role
from app.services.control.campaigns import drawn_ids
from app.services.control.submission import submit_campaign
from tests.control.test_campaign_review import open_on
from tests.factories import bearer, ended_unit, make_case, make_lot, make_operator, make_staff

API = "/api/v1/control-campaigns"
CONFORM = {"verdict": "conform"}
MISSING = {"verdict": "non_conform", "reason": "missing_proof", "comment": "Aucune synthèse"}
ANSWER = {"answer": "La synthèse a été remise le 9 novembre."}


@pytest.fixture
def controller(session):
    return make_staff(session, None, Role.CONTROLLER, full_name="Claire Contrôle")


@pytest.fixture
def units(session, ara, counsellor):
    """Four UO0 units at 120,50 € in ARA's lot (UO0 needs no proof: all billable)."""
    make_lot(session, ara, UO0="120.50")
    return [ended_unit(session, make_case(session, counsellor), "UO0") for _ in range(4)]


@pytest.fixture
def campaign(session, controller, ara, manager, units) -> ControlCampaign:
    """Opened on ARA, three units drawn of four, submitted by ARA's manager."""
    opened = open_on(session, controller, ara)
    return submit_campaign(session=session, actor=manager, campaign_id=opened.id)


def judge(client, controller, campaign, unit: int, verdict: dict):
    url = f"{API}/{campaign.id}/units/{unit}/finding"
    return client.put(url, json=verdict, headers=bearer(controller))


def answer(client, user, campaign, unit: int, body: dict = ANSWER):
    url = f"{API}/{campaign.id}/units/{unit}/answer"
    return client.post(url, json=body, headers=bearer(user))


def close(client, controller, campaign):
    return client.post(f"{API}/{campaign.id}/close", headers=bearer(controller))


def read(client, user, campaign, what: str):
    return client.get(f"{API}/{campaign.id}/{what}", headers=bearer(user))


def test_the_whole_review_through_the_api(
    client, session, controller, manager, admin, campaign, storage_dir
):
    first, second, third = drawn_ids(session, campaign.id)
    judged = judge(client, controller, campaign, first, CONFORM)
    assert judged.status_code == 200, judged.text
    assert judged.json()["verdict"] == "conform" and judged.json()["reason"] is None
    assert judged.json()["amount"] == "120.50" and judged.json()["answer"] is None
    assert judge(client, controller, campaign, second, CONFORM).status_code == 200
    revised = judge(client, controller, campaign, second, MISSING).json()
    assert (revised["unit_id"], revised["verdict"], revised["reason"]) == (
        second,
        "non_conform",
        "missing_proof",
    )
    assert revised["reason_label"] == "Preuve manquante" and revised["comment"] == "Aucune synthèse"
    assert close(client, controller, campaign).status_code == 409  # a unit left to judge
    other = {"verdict": "non_conform", "reason": "other", "reason_text": "Facturée deux fois"}
    assert judge(client, controller, campaign, third, other).json()["reason_label"] == (
        "Facturée deux fois"
    )

    # Both parties read the same findings, in the order of the draw, and the same summary.
    for reader in (controller, manager):
        findings = read(client, reader, campaign, "findings").json()
        assert [f["unit_id"] for f in findings] == [first, second, third]
        summary = read(client, reader, campaign, "summary").json()
        assert summary == {
            "phase": "submitted",
            "drawn": 3,
            "reviewed": 3,
            "conform": 1,
            "non_conform": 2,
            "conformity_rate": pytest.approx(1 / 3),
            "non_conform_amount": "241.00",
            "sample_amount": "361.50",
            "unpriced": 0,
        }

    answered = answer(client, admin, campaign, second)
    assert answered.status_code == 200, answered.text
    assert answered.json()["answer"] == ANSWER["answer"] and answered.json()["answered_at"]
    refused = answer(client, manager, campaign, second, {"answer": "Encore"})
    assert refused.status_code == 409 and "une fois" in refused.json()["detail"]
    assert answer(client, manager, campaign, first).status_code == 409  # conform: no answer
    assert judge(client, controller, campaign, second, CONFORM).status_code == 409  # answered

    closed = close(client, controller, campaign)
    assert closed.status_code == 200, closed.text
    assert closed.json()["phase"] == "closed" and closed.json()["id"] == campaign.id
    assert read(client, manager, campaign, "summary").json()["phase"] == "closed"
    for refused in (
        judge(client, controller, campaign, first, MISSING),
        answer(client, manager, campaign, third),
        close(client, controller, campaign),
    ):
        assert refused.status_code == 409 and "clos" in refused.json()["detail"]

    history = read(client, manager, campaign, "history").json()
    steps = [(step["kind"], step["unit_id"]) for step in history]
    assert steps[-6:] == [
        ("reviewed", first),
        ("reviewed", second),
        ("reviewed", second),
        ("reviewed", third),
        ("answered", second),
        ("closed", None),
    ]
    assert history[-1]["author"] == "Claire Contrôle"
    assert history[-2]["author"] == admin.full_name


def test_the_review_waits_for_the_submission(client, session, controller, ara, units):
    opened = open_on(session, controller, ara)
    first = drawn_ids(session, opened.id)[0]
    refused = judge(client, controller, opened, first, CONFORM)
    assert refused.status_code == 409 and "soumis" in refused.json()["detail"]
    assert close(client, controller, opened).status_code == 409
    assert read(client, controller, opened, "findings").json() == []
    summary = read(client, controller, opened, "summary").json()
    assert (summary["phase"], summary["reviewed"], summary["conformity_rate"]) == ("open", 0, None)


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"verdict": "non_conform"}, "reason"),
        ({"verdict": "non_conform", "reason": "other", "reason_text": " "}, "reason_text"),
        ({"verdict": "peut-être"}, "verdict"),
        ({"verdict": "non_conform", "reason": "oubli"}, "reason"),
        ({"verdict": "conform", "comment": "x" * 1001}, "comment"),
    ],
)
def test_a_bad_verdict_is_422_by_its_field(client, session, controller, campaign, body, field):
    first = drawn_ids(session, campaign.id)[0]
    refused = judge(client, controller, campaign, first, body)
    assert refused.status_code == 422 and field in refused.json()["fields"]
    assert session.exec(select(ControlFinding)).all() == []


def test_a_blank_answer_is_422(client, session, controller, manager, campaign):
    second = drawn_ids(session, campaign.id)[1]
    judge(client, controller, campaign, second, MISSING)
    refused = answer(client, manager, campaign, second, {"answer": "  "})
    assert refused.status_code == 422 and "answer" in refused.json()["fields"]
    assert read(client, manager, campaign, "findings").json()[0]["answer"] is None


def test_a_unit_not_drawn_is_404_and_an_unjudged_one_has_no_answer(
    client, session, controller, manager, campaign, units
):
    drawn = drawn_ids(session, campaign.id)
    (left_out,) = {unit.id for unit in units} - set(drawn)
    assert judge(client, controller, campaign, left_out, CONFORM).status_code == 404
    assert answer(client, manager, campaign, drawn[0]).status_code == 409


# ---- who may --------------------------------------------------------------------------------


def _attempts(campaign, unit: int) -> dict[str, tuple[str, str, dict | None]]:
    """Every review address by step, with a valid body: refused for who sends it, never for
    what."""
    one = f"{API}/{campaign.id}"
    return {
        "judge": ("PUT", f"{one}/units/{unit}/finding", CONFORM),
        "answer": ("POST", f"{one}/units/{unit}/answer", ANSWER),
        "close": ("POST", f"{one}/close", None),
        "findings": ("GET", f"{one}/findings", None),
        "summary": ("GET", f"{one}/summary", None),
    }


def _reviewed(client, session, controller, campaign) -> int:
    """The second unit judged non-conform: answerable, were it the caller's."""
    second = drawn_ids(session, campaign.id)[1]
    assert judge(client, controller, campaign, second, MISSING).status_code == 200
    return second


def _untouched(session, campaign) -> None:
    session.expire_all()
    assert session.get(ControlCampaign, campaign.id).phase == CampaignPhase.SUBMITTED
    (finding,) = session.exec(select(ControlFinding)).all()
    assert (finding.verdict, finding.answer) == (Verdict.NON_CONFORM, None)


def test_another_controller_gets_404_everywhere(client, session, controller, campaign):
    unit = _reviewed(client, session, controller, campaign)
    other = make_staff(session, None, Role.CONTROLLER, email="autre@fc.example")
    for method, url, body in _attempts(campaign, unit).values():
        refused = client.request(method, url, json=body, headers=bearer(other))
        assert (refused.status_code, refused.json()) == (404, {"detail": "Introuvable"}), url
    _untouched(session, campaign)


def test_another_operators_manager_gets_404_on_the_operators_side(
    client, session, controller, campaign
):
    unit = _reviewed(client, session, controller, campaign)
    bre_manager = make_staff(session, make_operator(session, "BRE", "Bretagne"), Role.MANAGER)
    attempts = _attempts(campaign, unit)
    # Judging and closing are the controller's: any operator's staff is 403 there (below).
    for step in ("answer", "findings", "summary"):
        method, url, body = attempts[step]
        refused = client.request(method, url, json=body, headers=bearer(bre_manager))
        assert (refused.status_code, refused.json()) == (404, {"detail": "Introuvable"}), url
    _untouched(session, campaign)


def test_each_party_is_refused_the_others_step(client, session, controller, manager, campaign):
    unit = _reviewed(client, session, controller, campaign)
    # The controller belongs to no operator: the answer is not its to give.
    assert answer(client, controller, campaign, unit).status_code == 404
    # The operator never judges nor closes.
    assert judge(client, manager, campaign, unit, CONFORM).status_code == 403
    assert close(client, manager, campaign).status_code == 403
    _untouched(session, campaign)


def test_a_counsellor_is_403_everywhere(client, session, controller, counsellor, campaign):
    unit = _reviewed(client, session, controller, campaign)
    for method, url, body in _attempts(campaign, unit).values():
        refused = client.request(method, url, json=body, headers=bearer(counsellor))
        assert refused.status_code == 403, url
    _untouched(session, campaign)


def test_a_self_check_has_no_review(client, session, manager, units):
    draw = {"from": "2026-11-01", "to": "2026-11-30", "sample_size": 1}
    own = client.post(API, json=draw, headers=bearer(manager)).json()
    assert own["kind"] == CampaignKind.SELF_CHECK
    for what in ("findings", "summary"):
        assert client.get(f"{API}/{own['id']}/{what}", headers=bearer(manager)).status_code == 404
    unit = drawn_ids(session, own["id"])[0]
    url = f"{API}/{own['id']}/units/{unit}/answer"
    assert client.post(url, json=ANSWER, headers=bearer(manager)).status_code == 404


# ---- the document ----------------------------------------------------------------------------


def _enum_of(document: dict, model: str, field: str) -> list[str]:
    schema = document["components"]["schemas"][model]["properties"][field]
    reference = schema.get("$ref") or next(
        option["$ref"] for option in schema["anyOf"] if "$ref" in option
    )
    return document["components"]["schemas"][reference.rsplit("/", 1)[-1]]["enum"]


@pytest.mark.parametrize(
    ("model", "field", "enum"),
    [
        ("FindingPublic", "verdict", Verdict),
        ("FindingPublic", "reason", FindingReason),
        ("ReviewSummaryPublic", "phase", CampaignPhase),
        ("UnitReview", "verdict", Verdict),
        ("UnitReview", "reason", FindingReason),
        ("CampaignEventPublic", "kind", CampaignEventKind),
    ],
)
def test_the_openapi_lists_verdicts_reasons_and_phases(app, model, field, enum):
    assert _enum_of(app.openapi(), model, field) == [member.value for member in enum]


def test_the_review_operations_document_their_refusals(app):
    paths = app.openapi()["paths"]
    one = API + "/{campaign_id}"
    operations = [
        paths[f"{one}/units/{{unit_id}}/finding"]["put"],
        paths[f"{one}/units/{{unit_id}}/answer"]["post"],
        paths[f"{one}/close"]["post"],
    ]
    for operation in operations:
        assert {"403", "404", "409"} <= set(operation["responses"])
        assert operation["summary"] and operation["description"]
    assert "422" in operations[0]["responses"] and "422" in operations[1]["responses"]
    for reading in ("findings", "summary"):
        assert {"403", "404"} <= set(paths[f"{one}/{reading}"]["get"]["responses"])
