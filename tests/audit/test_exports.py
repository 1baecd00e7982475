"""Sending out a file of several people's data leaves an export entry with its stated purpose:
a list of cases, a control's proof pack and history, survey comments, the units feed. Without
a purpose the file is not sent: the page asks it again (422), the API answers 422."""

import html

import pytest
from sqlmodel import select

from app.models.audit import AuditEvent
from app.models.control import ControlCampaign
from app.models.nomenclatures import Role
from tests.control.test_campaign_submission import opened
from tests.control.test_campaigns_routes import FORM
from tests.control.test_campaigns_routes import units as units  # noqa: F401 (a fixture)
from tests.factories import API_PURPOSE, EXPORT_PURPOSE, bearer, log_in, make_staff, unit_id
from tests.reports.test_ledger_routes import PERIOD
from tests.reports.test_ledger_routes import episodes as episodes  # noqa: F401 (a fixture)

pytestmark = pytest.mark.usefixtures("storage_dir")


def _exports(session) -> list[tuple]:
    entries = session.exec(select(AuditEvent).where(AuditEvent.action == "export")).all()
    return [(e.actor_id, e.record_type, e.record_id, e.operator_id, e.reason) for e in entries]


def _campaign(client, session, manager) -> ControlCampaign:
    csrf = log_in(client, session, manager)
    client.post("/rapports/controles", data={**FORM, "csrf_token": csrf})
    return session.exec(select(ControlCampaign)).one()


def test_a_list_of_cases_downloaded_is_recorded_with_its_purpose(
    client,
    session,
    manager,
    episodes,  # noqa: F811
):
    log_in(client, session, manager)
    uo1 = unit_id(session, "UO1")
    url = f"/rapports/etat-de-service/{uo1}.csv?{PERIOD}&{EXPORT_PURPOSE}"
    assert client.get(url).status_code == 200
    entry = (manager.id, "ledger_cases", uo1, manager.operator_id, "Contrôle de service fait")
    assert _exports(session) == [entry]


def test_a_list_of_cases_without_purpose_asks_it_and_sends_nothing(
    client,
    session,
    manager,
    episodes,  # noqa: F811
):
    log_in(client, session, manager)
    uo1 = unit_id(session, "UO1")
    answer = client.get(f"/rapports/etat-de-service/{uo1}.csv?{PERIOD}&preuves=completes")
    assert answer.status_code == 422 and answer.headers["content-type"].startswith("text/html")
    assert "Indiquez la finalité de l'export" in html.unescape(answer.text)
    # The form comes back with the filters kept, to the same address.
    assert f'action="/rapports/etat-de-service/{uo1}.csv"' in answer.text
    assert 'name="preuves" value="completes"' in answer.text
    assert _exports(session) == []


def test_other_purpose_needs_its_detail_which_the_entry_keeps(
    client,
    session,
    manager,
    episodes,  # noqa: F811
):
    log_in(client, session, manager)
    url = f"/rapports/etat-de-service/{unit_id(session, 'UO1')}.xlsx?{PERIOD}&finalite=autre"
    unexplained = client.get(url)
    assert unexplained.status_code == 422 and "Précisez la finalité" in unexplained.text
    assert client.get(url + "&finalite_precision=Audit  interne").status_code == 200
    assert [entry[-1] for entry in _exports(session)] == ["Autre : Audit interne"]


def test_the_page_offers_the_purpose_before_the_download(
    client,
    session,
    manager,
    episodes,  # noqa: F811
):
    log_in(client, session, manager)
    page = html.unescape(
        client.get(f"/rapports/etat-de-service/{unit_id(session, 'UO1')}?{PERIOD}").text
    )
    assert "Finalité de l'export" in page and 'name="finalite" required' in page
    assert "Transmission à un partenaire" in page


def test_a_proof_pack_downloaded_is_recorded(client, session, manager, units):  # noqa: F811
    campaign = _campaign(client, session, manager)
    zip_url = f"/rapports/controles/{campaign.id}/dossier-de-preuves.zip"
    assert client.get(zip_url).status_code == 422
    assert client.get(f"{zip_url}?finalite=demande_personne").status_code == 200
    entry = (manager.id, "proof_pack", campaign.id, manager.operator_id, "Demande de la personne")
    assert _exports(session) == [entry]


def test_a_control_history_downloaded_by_the_controller_is_recorded(
    client,
    session,
    ara,
    units,  # noqa: F811
):
    controller = make_staff(session, None, Role.CONTROLLER)
    campaign = opened(session, controller, ara)
    log_in(client, session, controller)
    history = f"/controle/campagnes/{campaign.id}/historique.csv"
    assert client.get(history).status_code == 422
    assert client.get(f"{history}?{EXPORT_PURPOSE}").status_code == 200
    entry = (controller.id, "control_history", campaign.id, ara.id, "Contrôle de service fait")
    assert _exports(session) == [entry]


def test_another_operators_pack_is_404_not_the_purpose_form(
    client,
    session,
    manager,
    bre,
    units,  # noqa: F811
):
    campaign = _campaign(client, session, manager)
    log_in(client, session, make_staff(session, bre))
    assert client.get(f"/rapports/controles/{campaign.id}/dossier-de-preuves.zip").status_code in (
        403,
        404,
    )
    assert _exports(session) == []


def test_the_api_proof_pack_needs_a_purpose_and_is_recorded(
    client,
    session,
    manager,
    units,  # noqa: F811
):
    campaign = _campaign(client, session, manager)
    url = f"/api/v1/control-campaigns/{campaign.id}/proof-pack"
    refused = client.get(url, headers=bearer(manager))
    assert refused.status_code == 422 and "purpose" in refused.json()["fields"]
    assert client.get(f"{url}?{API_PURPOSE}", headers=bearer(manager)).status_code == 200
    entry = (manager.id, "proof_pack", campaign.id, manager.operator_id, "Contrôle de service fait")
    assert _exports(session) == [entry]


def test_the_units_feed_needs_a_purpose_and_is_recorded(client, session, manager):
    period = {"from": "2026-11-01", "to": "2026-11-30"}
    feed = "/api/v1/exports/units"
    refused = client.get(feed, params=period, headers=bearer(manager))
    assert refused.status_code == 422 and "purpose" in refused.json()["fields"]
    # No « autre » here: a published schema could not require its precision.
    other = period | {"purpose": "autre"}
    unknown = client.get(feed, params=other, headers=bearer(manager))
    assert unknown.status_code == 422 and "purpose" in unknown.json()["fields"]
    detailed = period | {"purpose": "rapport_activite", "purpose_detail": "Tableau régional"}
    assert client.get(feed, params=detailed, headers=bearer(manager)).status_code == 200
    reason = "Rapport d'activité : Tableau régional"
    assert _exports(session) == [(manager.id, "units_feed", None, manager.operator_id, reason)]


def test_aggregate_reports_need_no_purpose_and_record_no_export(
    client,
    session,
    manager,
    episodes,  # noqa: F811
):
    log_in(client, session, manager)
    assert client.get(f"/rapports/etat-de-service.csv?{PERIOD}").status_code == 200
    assert _exports(session) == []
