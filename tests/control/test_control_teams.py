"""Control teams (issue 19: « the controller sees only the campaigns it opened, or its
team's »): a controller reads every campaign opened within its team, a teammate who left
included, and nothing of another team's."""

import pytest
from sqlmodel import select

from app.core.errors import NotFound
from app.models.control import ControlCampaign
from app.models.nomenclatures import Role
from app.services.control.official import controller_campaign
from tests.factories import ended_unit, log_in, make_case, make_staff, read

PAGE = "/controle/campagnes"
TEAM = "Contrôle de service fait — national"
FORM = {
    "du": "2026-11-01",
    "au": "2026-11-30",
    "sample_size": "2",
    "sample_rate": "",
    "public_value": "Tirage du loto du 4 novembre 2026 : 7 12 25 33 41 — 6",
}
DOWNLOADS = (
    "population.txt",
    "dossier-de-preuves.zip?finalite=controle_service_fait",
    "historique.csv?finalite=controle_service_fait",
)


@pytest.fixture
def units(session, counsellor):
    return [ended_unit(session, make_case(session, counsellor), "UO0") for _ in range(4)]


def controller_of(session, team: str):
    return make_staff(session, None, Role.CONTROLLER, control_team=team)


def opened_by(client, session, controller, ara) -> ControlCampaign:
    """A campaign opened through the form (its pack built as a controller's would be)."""
    csrf = log_in(client, session, controller)
    client.post(PAGE, data={**FORM, "operator_id": str(ara.id), "csrf_token": csrf})
    return session.exec(
        select(ControlCampaign).where(ControlCampaign.created_by_id == controller.id)
    ).one()


def test_a_controller_reads_the_campaign_of_a_teammate_who_left(
    client, session, ara, units, storage_dir
):
    teammate, controller = controller_of(session, TEAM), controller_of(session, TEAM)
    campaign = opened_by(client, session, teammate, ara)
    teammate.active = False  # the team keeps the campaigns its former members opened
    session.add(teammate)
    session.flush()
    log_in(client, session, controller)
    assert f"n° {campaign.id}" in read(client.get(PAGE))
    assert client.get(f"{PAGE}/{campaign.id}").status_code == 200
    for download in DOWNLOADS:
        assert client.get(f"{PAGE}/{campaign.id}/{download}").status_code == 200, download
    assert controller_campaign(session=session, actor=controller, campaign_id=campaign.id)


def test_a_controller_of_another_team_gets_404(client, session, ara, units, storage_dir):
    campaign = opened_by(client, session, controller_of(session, TEAM), ara)
    stranger = controller_of(session, "Contrôle de service fait — outre-mer")
    log_in(client, session, stranger)
    assert f"n° {campaign.id}" not in read(client.get(PAGE))
    assert client.get(f"{PAGE}/{campaign.id}").status_code == 404
    for download in DOWNLOADS:
        assert client.get(f"{PAGE}/{campaign.id}/{download}").status_code == 404, download
    with pytest.raises(NotFound):
        controller_campaign(session=session, actor=stranger, campaign_id=campaign.id)


def test_a_controller_moved_to_another_team_reads_that_teams_campaigns_only(
    client, session, ara, units, storage_dir
):
    campaign = opened_by(client, session, controller_of(session, TEAM), ara)
    mover = controller_of(session, "Contrôle régional")
    log_in(client, session, mover)
    assert f"n° {campaign.id}" not in read(client.get(PAGE))
    mover.control_team = TEAM
    session.add(mover)
    session.flush()
    assert f"n° {campaign.id}" in read(client.get(PAGE))
    assert client.get(f"{PAGE}/{campaign.id}").status_code == 200
