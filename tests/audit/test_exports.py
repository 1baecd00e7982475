"""Sending out a file of several people's data leaves an export entry: a list of cases, a
control's proof pack, the units feed."""

import pytest
from sqlmodel import select

from app.models.audit import AuditEvent
from app.models.control import ControlCampaign
from tests.control.test_campaigns_routes import FORM
from tests.control.test_campaigns_routes import units as units  # noqa: F401 (a fixture)
from tests.factories import bearer, log_in, unit_id
from tests.reports.test_ledger_routes import PERIOD
from tests.reports.test_ledger_routes import episodes as episodes  # noqa: F401 (a fixture)

pytestmark = pytest.mark.usefixtures("storage_dir")


def _exports(session) -> list[tuple]:
    entries = session.exec(select(AuditEvent).where(AuditEvent.action == "export")).all()
    return [(e.actor_id, e.record_type, e.record_id, e.operator_id) for e in entries]


def test_a_list_of_cases_downloaded_is_recorded(client, session, manager, episodes):  # noqa: F811
    log_in(client, session, manager)
    uo1 = unit_id(session, "UO1")
    assert client.get(f"/rapports/etat-de-service/{uo1}.csv?{PERIOD}").status_code == 200
    assert _exports(session) == [(manager.id, "ledger_cases", uo1, manager.operator_id)]


def test_a_proof_pack_downloaded_is_recorded(client, session, manager, units):  # noqa: F811
    csrf = log_in(client, session, manager)
    client.post("/rapports/controles", data={**FORM, "csrf_token": csrf})
    campaign = session.exec(select(ControlCampaign)).one()
    download = client.get(f"/rapports/controles/{campaign.id}/dossier-de-preuves.zip")
    assert download.status_code == 200
    assert _exports(session) == [(manager.id, "proof_pack", campaign.id, manager.operator_id)]


def test_the_units_feed_is_recorded(client, session, manager):
    answer = client.get(
        "/api/v1/exports/units",
        params={"from": "2026-11-01", "to": "2026-11-30"},
        headers=bearer(manager),
    )
    assert answer.status_code == 200
    assert _exports(session) == [(manager.id, "units_feed", None, manager.operator_id)]
