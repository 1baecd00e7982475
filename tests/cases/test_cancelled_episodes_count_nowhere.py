"""A cancelled episode counts nowhere: not in « Preuves manquantes », the ledger, the activity
report nor a control campaign's draw. Each test puts one cancelled episode beside one in force."""

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlmodel import select

from app.models.cases import Case, Episode
from app.models.control import CampaignCreate, ControlSampleUnit
from app.services.control.campaigns import create_campaign
from app.services.control.proofs import missing_proofs
from app.services.reports.activity import activity_report
from app.services.reports.ledger import ledger_cases, unit_ledger
from tests.factories import make_case, make_deliverable, report_rows, unit_id

IN_NOVEMBER = datetime(2026, 11, 10, 9, tzinfo=UTC)
NOVEMBER = (date(2026, 11, 1), date(2026, 11, 30))


@pytest.fixture
def pair(session, counsellor) -> tuple[Episode, Episode]:
    """Two UO1 ended in November, no proof either: the first in force, the second cancelled."""
    made = []
    for cancelled in (False, True):
        case = make_case(session, counsellor)
        episode = Episode(
            operator_id=case.operator_id,
            case_id=case.id,
            unit_id=unit_id(session, "UO1"),
            started_at=IN_NOVEMBER - timedelta(days=2),
            ended_at=IN_NOVEMBER,
            started_by_id=counsellor.id,
            cancelled_at=IN_NOVEMBER + timedelta(hours=1) if cancelled else None,
            cancelled_by_id=counsellor.id if cancelled else None,
        )
        session.add(episode)
        made.append(episode)
    session.flush()
    return made[0], made[1]


def test_missing_proofs_leave_out_a_cancelled_episode(session, counsellor, pair):
    in_force, _cancelled = pair
    rows, total = missing_proofs(session=session, actor=counsellor)
    assert [row.episode.id for row in rows] == [in_force.id] and total == 1


def test_the_ledger_leaves_out_a_cancelled_episode(session, manager, pair):
    in_force, _cancelled = pair
    start, end = NOVEMBER
    ledger = unit_ledger(session=session, actor=manager, start=start, end=end)
    assert ledger.totals.delivered == 1
    _unit, rows, total = ledger_cases(
        session=session, actor=manager, unit_id=unit_id(session, "UO1"), start=start, end=end
    )
    assert [row.episode.id for row in rows] == [in_force.id] and total == 1


def test_the_activity_report_leaves_out_a_cancelled_episode(session, manager, pair):
    start, end = NOVEMBER
    found = activity_report(session=session, actor=manager, start=start, end=end)
    assert report_rows(found, "unites")["UO1"][1:3] == (1, 1)  # started, ended


def test_a_control_campaign_never_draws_a_cancelled_episode(session, manager, pair):
    in_force, _cancelled = pair
    for episode in pair:  # proven, as the units a campaign draws from are
        case = session.get(Case, episode.case_id)
        make_deliverable(session, case, "synthese_entretien", episode=episode, shared=True)
    request = CampaignCreate.model_validate(
        {"from": "2026-11-01", "to": "2026-11-30", "sample_size": 10}
    )
    campaign = create_campaign(session=session, actor=manager, request=request)
    drawn = session.exec(
        select(ControlSampleUnit.episode_id).where(ControlSampleUnit.campaign_id == campaign.id)
    ).all()
    assert drawn == [in_force.id]
