"""Control campaign pages and API: draw, progress, download, retry; refused for others."""

import base64
import hashlib
import html
import io
import json
import zipfile
from datetime import date

import pytest

from app.core.storage import sha256_of
from app.models.control import ControlCampaign, PackStatus
from app.models.nomenclatures import Role
from tests.factories import bearer, ended_unit, log_in, make_case, make_operator, make_staff

FORM = {"du": "2026-11-01", "au": "2026-11-30", "sample_size": "2", "sample_rate": ""}


@pytest.fixture
def units(session, counsellor):
    """Three UO0 ended in November: billable, as UO0 requires no proof."""
    return [ended_unit(session, make_case(session, counsellor), "UO0") for _ in range(3)]


def test_a_manager_draws_a_sample_and_downloads_its_pack(client, session, manager, units):
    csrf = log_in(client, session, manager)
    page = client.get("/rapports/controles")
    assert page.status_code == 200 and "Tirer un échantillon" in html.unescape(page.text)
    drawn = client.post("/rapports/controles", data={**FORM, "csrf_token": csrf})
    assert drawn.status_code == 200  # followed to the campaign's page
    campaign = session.query(ControlCampaign).one()
    text = html.unescape(drawn.text)
    assert f"Campagne de contrôle n° {campaign.id}" in text
    assert "2 unités sur 3 unités facturables terminées" in text
    # The test client runs the background build before it returns: the pack is ready.
    assert campaign.status == PackStatus.READY and "Télécharger le dossier de preuves" in text
    download = client.get(
        f"/rapports/controles/{campaign.id}/dossier-de-preuves.zip?finalite=controle_service_fait"
    )
    assert download.status_code == 200 and download.headers["content-type"] == "application/zip"
    assert sha256_of(download.content) == campaign.pack_sha256
    raw = hashlib.sha256(download.content).digest()  # RFC 3230: base64, not hex
    assert download.headers["Digest"] == "sha-256=" + base64.b64encode(raw).decode()
    assert "manifeste.json" in zipfile.ZipFile(io.BytesIO(download.content)).namelist()
    listed = client.get("/rapports/controles")
    assert f"/rapports/controles/{campaign.id}#pack-progress" in listed.text


def test_the_progress_panel_polls_until_the_pack_is_ready(client, session, manager, units):
    log_in(client, session, manager)
    campaign = ControlCampaign(
        operator_id=manager.operator_id,
        period_start=date(2026, 11, 1),
        period_end=date(2026, 11, 30),
        sample_size=2,
        seed=1,
        status=PackStatus.BUILDING.value,
        cases_total=4,
        cases_done=1,
    )
    session.add(campaign)
    session.flush()
    panel = client.get(
        f"/rapports/controles/{campaign.id}/progression", headers={"HX-Request": "true"}
    )
    assert 'hx-trigger="every 1s"' in panel.text and 'value="1"' in panel.text
    assert "1 dossier sur 4" in html.unescape(panel.text)
    refused = client.get(
        f"/rapports/controles/{campaign.id}/dossier-de-preuves.zip?finalite=controle_service_fait"
    )
    assert refused.status_code == 409


def test_a_form_error_is_shown_next_to_the_field(client, session, manager, units):
    csrf = log_in(client, session, manager)
    bad = {**FORM, "sample_rate": "10", "csrf_token": csrf}
    answer = client.post("/rapports/controles", data=bad)
    assert answer.status_code == 422
    assert "soit un nombre d'unités, soit un taux" in html.unescape(answer.text)
    assert session.query(ControlCampaign).count() == 0


def test_a_failed_pack_can_be_built_again(client, session, manager, units):
    csrf = log_in(client, session, manager)
    client.post("/rapports/controles", data={**FORM, "csrf_token": csrf})
    campaign = session.query(ControlCampaign).one()
    campaign.status = PackStatus.FAILED
    session.add(campaign)
    session.commit()
    retried = client.post(f"/rapports/controles/{campaign.id}/relancer", data={"csrf_token": csrf})
    assert retried.status_code == 200
    session.refresh(campaign)
    assert campaign.status == PackStatus.READY


def test_counsellors_and_other_operators_are_refused(client, session, counsellor, manager, units):
    csrf = log_in(client, session, counsellor)
    assert client.post("/rapports/controles", data={**FORM, "csrf_token": csrf}).status_code == 403
    csrf = log_in(client, session, manager)
    client.post("/rapports/controles", data={**FORM, "csrf_token": csrf})
    campaign = session.query(ControlCampaign).one()
    other = make_staff(session, make_operator(session, "BRE", "Bretagne"), Role.MANAGER)
    log_in(client, session, other)
    assert client.get(f"/rapports/controles/{campaign.id}").status_code == 404
    assert (
        client.get(
            f"/rapports/controles/{campaign.id}/dossier-de-preuves.zip?finalite=controle_service_fait"
        ).status_code
        == 404
    )
    api = client.get(f"/api/v1/control-campaigns/{campaign.id}", headers=bearer(other))
    assert api.status_code == 404


# ---- API -------------------------------------------------------------------------------------


def test_the_api_answers_202_then_the_status_then_the_zip(client, session, manager, units):
    body = {"from": "2026-11-01", "to": "2026-11-30", "sample_rate": 50, "seed": 7}
    created = client.post("/api/v1/control-campaigns", json=body, headers=bearer(manager))
    assert created.status_code == 202, created.text
    campaign_id = created.json()["id"]
    assert created.headers["location"] == f"/api/v1/control-campaigns/{campaign_id}"
    assert created.json()["seed"] == 7 and created.json()["drawn"] == 2
    status = client.get(f"/api/v1/control-campaigns/{campaign_id}", headers=bearer(manager))
    assert status.json()["status"] == "ready" and status.json()["progress"] == 1.0
    pack = client.get(
        f"/api/v1/control-campaigns/{campaign_id}/proof-pack?purpose=controle_service_fait",
        headers=bearer(manager),
    )
    assert pack.status_code == 200 and sha256_of(pack.content) == status.json()["pack_sha256"]
    manifest = json.loads(zipfile.ZipFile(io.BytesIO(pack.content)).read("manifeste.json"))
    assert manifest["campagne"]["graine"] == 7 and len(manifest["unites"]) == 2


def test_the_api_refuses_a_size_and_a_rate_together(client, session, manager, units):
    body = {"from": "2026-11-01", "to": "2026-11-30", "sample_rate": 50, "sample_size": 2}
    refused = client.post("/api/v1/control-campaigns", json=body, headers=bearer(manager))
    assert refused.status_code == 422


def test_the_same_seed_draws_the_same_units_through_the_api(client, session, manager, units):
    body = {"from": "2026-11-01", "to": "2026-11-30", "sample_size": 2, "seed": 99}
    ids = []
    for _ in range(2):
        created = client.post("/api/v1/control-campaigns", json=body, headers=bearer(manager))
        pack = client.get(
            f"/api/v1/control-campaigns/{created.json()['id']}/proof-pack?purpose=controle_service_fait",
            headers=bearer(manager),
        )
        manifest = json.loads(zipfile.ZipFile(io.BytesIO(pack.content)).read("manifeste.json"))
        ids.append(sorted(unit["dossier"] for unit in manifest["unites"]))
    assert ids[0] == ids[1]
