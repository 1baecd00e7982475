"""Official control campaigns (issue 19, item 1): France compétences' controller opens them on
an operator with a published, derived seed; the operator sees them labelled, apart from its
self-checks, and can neither draw one nor redraw it; other operators and controllers get 404."""

import hashlib
import io
import json
import re
import zipfile
from datetime import UTC, datetime

import pytest

from app.core.errors import Forbidden, Invalid, NotFound
from app.models.control import CampaignCreate, CampaignKind, ControlCampaign, OfficialCampaignCreate
from app.models.nomenclatures import Role
from app.services.control.campaigns import create_campaign, official_seed, seed_basis
from app.services.control.official import controller_campaign, open_official_campaign
from tests.factories import ended_unit, log_in, make_case, make_operator, make_staff, read

PAGE = "/controle/campagnes"
FORM = {
    "du": "2026-11-01",
    "au": "2026-11-30",
    "sample_size": "3",
    "sample_rate": "",
    "public_value": "Tirage du loto du 4 novembre 2026 : 7 12 25 33 41 — 6",
}


@pytest.fixture
def controller(session):
    return make_staff(session, None, Role.CONTROLLER)


@pytest.fixture
def units(session, counsellor):
    # UO0 needs no proof: each is billable as the ledger counts it (billable_units).
    return [ended_unit(session, make_case(session, counsellor), "UO0") for _ in range(8)]


def opened(session, controller, ara, **changes) -> ControlCampaign:
    request = OfficialCampaignCreate.model_validate({**FORM, "operator_id": ara.id, **changes})
    return open_official_campaign(session=session, actor=controller, request=request)


def test_the_controller_opens_an_official_campaign_on_ara(client, session, controller, ara, units):
    csrf = log_in(client, session, controller)
    assert client.get("/", follow_redirects=False).headers["location"] == PAGE  # home
    page = client.get(PAGE)
    assert page.status_code == 200 and "Ouvrir un contrôle" in read(page)
    answer = client.post(PAGE, data={**FORM, "operator_id": str(ara.id), "csrf_token": csrf})
    campaign = session.query(ControlCampaign).one()
    assert answer.status_code == 200 and answer.url.path == f"{PAGE}/{campaign.id}"
    assert campaign.kind == CampaignKind.OFFICIAL and campaign.created_by_id == controller.id
    assert campaign.operator_id == ara.id and campaign.drawn == 3 and campaign.population == 8
    text = read(answer)
    assert "Contrôle France compétences" in text and FORM["public_value"] in text
    assert seed_basis(campaign.created_at, FORM["public_value"]) in text
    assert str(campaign.seed) in text
    population = client.get(f"{PAGE}/{campaign.id}/population.txt")
    assert population.text.split() == [str(unit.id) for unit in sorted(units, key=lambda u: u.id)]
    assert f"n° {campaign.id}" in read(client.get(PAGE))


def test_the_seed_is_sha256_of_the_opening_time_and_the_public_value(
    session, controller, ara, units
):
    campaign = opened(session, controller, ara)
    session.expire_all()  # the time as stored, read back from the database
    stored = session.get(ControlCampaign, campaign.id)
    basis = stored.created_at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    basis += "|" + FORM["public_value"]
    digest = hashlib.sha256(basis.encode("utf-8")).hexdigest()
    assert stored.seed == int(digest[:8], 16) % 2**31
    assert stored.public_value == FORM["public_value"]
    # Every microsecond and every character counts: a third party gets nothing else.
    later = stored.created_at.replace(microsecond=(stored.created_at.microsecond + 1) % 10**6)
    assert official_seed(later, FORM["public_value"]) != stored.seed
    assert seed_basis(datetime(2026, 12, 1, 9, 0, tzinfo=UTC), "x") == (
        "2026-12-01T09:00:00.000000Z|x"
    )


def test_a_third_party_draws_the_same_sample_from_the_published_pack(
    client, session, controller, ara, units, storage_dir
):
    """The README's « Refaire un tirage », with hashlib alone: no function of the app's."""
    csrf = log_in(client, session, controller)
    client.post(PAGE, data={**FORM, "operator_id": str(ara.id), "csrf_token": csrf})
    campaign = session.query(ControlCampaign).one()
    pack = client.get(f"{PAGE}/{campaign.id}/dossier-de-preuves.zip?finalite=controle_service_fait")
    assert pack.status_code == 200
    published = json.loads(zipfile.ZipFile(io.BytesIO(pack.content)).read("manifeste.json"))
    record = published["campagne"]
    basis = record["base_de_la_graine"]
    assert basis.endswith("|" + record["valeur_publique"])
    seed = int(hashlib.sha256(basis.encode("utf-8")).hexdigest()[:8], 16) % 2**31
    assert seed == record["graine"]

    def rank(unit_id: int) -> str:
        return hashlib.sha256(f"{seed}:{unit_id}".encode()).hexdigest()

    redrawn = sorted(record["population_ids"], key=rank)[: record["unites_tirees"]]
    assert redrawn == record["echantillon_ids"] and len(redrawn) == 3
    assert sorted(unit["unite_id"] for unit in published["unites"]) == sorted(redrawn)
    # The same ids, in the same order, as the campaign's own page lists them.
    listed = read(client.get(f"{PAGE}/{campaign.id}"))
    assert re.findall(r"Identifiant de l'unité\">([0-9]+)</td>", listed) == [
        str(i) for i in redrawn
    ]


def test_the_operator_manager_sees_it_labelled_apart_from_its_self_checks(
    client, session, controller, ara, manager, units
):
    official = opened(session, controller, ara)
    own = create_campaign(
        session=session,
        actor=manager,
        request=CampaignCreate.model_validate(
            {"from": "2026-11-01", "to": "2026-11-30", "sample_size": 2}
        ),
    )
    assert own.kind == CampaignKind.SELF_CHECK
    log_in(client, session, manager)
    text = read(client.get("/rapports/controles"))
    official_part, self_checks = text.split("<h2>Auto-contrôles</h2>")
    assert f"/rapports/controles/{official.id}" in official_part
    assert f"/rapports/controles/{own.id}" not in official_part
    assert f"/rapports/controles/{own.id}" in self_checks
    assert f'/rapports/controles/{official.id}"' not in self_checks
    page = read(client.get(f"/rapports/controles/{official.id}"))
    assert "Contrôle France compétences" in page and FORM["public_value"] in page
    assert "Auto-contrôle" in read(client.get(f"/rapports/controles/{own.id}"))


def test_the_operator_can_neither_open_an_official_campaign_nor_redraw_one(
    client, session, controller, ara, manager, admin, units
):
    official = opened(session, controller, ara)
    seed, drawn = official.seed, official.drawn
    for member in (manager, admin):
        csrf = log_in(client, session, member)
        assert client.get(PAGE).status_code == 403
        assert client.get(f"{PAGE}/{official.id}/population.txt").status_code == 403
        posted = {**FORM, "operator_id": str(ara.id), "csrf_token": csrf}
        assert client.post(PAGE, data=posted).status_code == 403
        assert client.get(f"{PAGE}/{official.id}").status_code == 403
        with pytest.raises(Forbidden):
            opened(session, member, ara)
    # Its own draw with the official seed is a new self-check, never the official campaign.
    csrf = log_in(client, session, manager)
    form = {"du": "2026-11-01", "au": "2026-11-30", "sample_size": "2", "seed": str(seed)}
    client.post("/rapports/controles", data={**form, "kind": "official", "csrf_token": csrf})
    session.expire_all()
    assert session.get(ControlCampaign, official.id).seed == seed
    assert session.get(ControlCampaign, official.id).drawn == drawn
    kinds = [c.kind for c in session.query(ControlCampaign).order_by(ControlCampaign.id)]
    assert kinds == [CampaignKind.OFFICIAL, CampaignKind.SELF_CHECK]


def test_another_operator_and_another_controller_get_404(client, session, controller, ara, units):
    official = opened(session, controller, ara)
    bre_manager = make_staff(session, make_operator(session, "BRE", "Bretagne"), Role.MANAGER)
    log_in(client, session, bre_manager)
    assert client.get(f"/rapports/controles/{official.id}").status_code == 404
    assert client.get(f"/rapports/controles/{official.id}/progression").status_code == 404
    assert f"/rapports/controles/{official.id}" not in client.get("/rapports/controles").text
    colleague = make_staff(session, None, Role.CONTROLLER)
    log_in(client, session, colleague)
    assert client.get(f"{PAGE}/{official.id}").status_code == 404
    assert client.get(f"{PAGE}/{official.id}/population.txt").status_code == 404
    assert client.get(f"{PAGE}/{official.id}/dossier-de-preuves.zip").status_code == 404
    assert f"n° {official.id}" not in read(client.get(PAGE))
    with pytest.raises(NotFound):
        controller_campaign(session=session, actor=colleague, campaign_id=official.id)


def test_a_controller_sees_no_self_check_and_no_case(client, session, controller, manager, units):
    own = create_campaign(
        session=session,
        actor=manager,
        request=CampaignCreate.model_validate(
            {"from": "2026-11-01", "to": "2026-11-30", "sample_size": 2}
        ),
    )
    log_in(client, session, controller)
    assert client.get(f"{PAGE}/{own.id}").status_code == 404
    assert client.get(f"/rapports/controles/{own.id}").status_code == 403
    assert client.get(f"/cases/{units[0].case_id}").status_code == 403


def test_an_official_campaign_needs_a_public_value_and_a_known_operator(
    client, session, controller, ara, units
):
    csrf = log_in(client, session, controller)
    blank = {**FORM, "operator_id": str(ara.id), "public_value": "  ", "csrf_token": csrf}
    answer = client.post(PAGE, data=blank)
    assert answer.status_code == 422 and 'aria-invalid="true"' in answer.text
    with pytest.raises(Invalid):
        opened(session, controller, ara, operator_id=999_999)
    assert session.query(ControlCampaign).count() == 0
