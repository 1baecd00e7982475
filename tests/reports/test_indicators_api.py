"""`GET /api/v1/reports/indicators`: the figures by name, for an operator's managers and, every
operator's, for national observers (whole calendar years, small counts null)."""

import csv
import io
from datetime import date, datetime, time
from zoneinfo import ZoneInfo

import pytest

from app.models.nomenclatures import Role
from tests.conftest import NOW
from tests.factories import (
    bearer,
    make_beneficiary,
    make_case,
    make_episode,
    make_interaction,
    make_operator,
    make_staff,
)

pytestmark = pytest.mark.usefixtures("clock")

PARIS = ZoneInfo("Europe/Paris")
TODAY = NOW.astimezone(PARIS).date()
YEAR = TODAY.year
KEYS = {
    "entries",
    "people_served",
    "redirections",
    "units_started",
    "reaching_level_2",
    "delay_to_level_1_days",
    "coverage_30km",
    "hors_uo_share",
    "by_motive",
    "by_channel",
    "by_month",
}


@pytest.fixture
def ara(session):
    """Twelve people entering level 1 today, one interview each, in Lyon."""
    operator = make_operator(session)
    counsellor = make_staff(session, operator)
    early_today = datetime.combine(TODAY, time(0, 1), tzinfo=PARIS)
    for _ in range(12):
        person = make_beneficiary(session, counsellor, postcode="69003")
        case = make_case(session, counsellor, person)
        episode = make_episode(session, counsellor, case, "UO1")
        make_interaction(session, counsellor, case, episode_id=episode.id, occurred_at=early_today)
    return operator


def indicators(client, user, start: date, end: date, fmt: str = "json"):
    query = f"from={start}&to={end}&format={fmt}"
    return client.get(f"/api/v1/reports/indicators?{query}", headers=bearer(user))


def test_a_manager_reads_the_operators_figures_by_name(client, session, ara):
    manager = make_staff(session, ara, Role.MANAGER)

    response = indicators(client, manager, TODAY, TODAY)

    assert response.status_code == 200
    body = response.json()
    assert KEYS <= set(body)
    assert body["entries"] == 12
    assert body["people_served"] == 12
    assert body["units_started"]["UO1"] == 12
    assert body["reaching_level_2"] == {"base": 12, "count": 0, "share": 0.0}
    assert body["by_channel"]["telephone"] == 12
    assert body["by_month"] == [{"month": TODAY.isoformat()[:7], "entries": 12, "redirections": 0}]
    assert "by_operator" not in body


def test_the_same_figures_come_as_a_csv_file(client, session, ara):
    manager = make_staff(session, ara, Role.MANAGER)

    response = indicators(client, manager, TODAY, TODAY, "csv")

    assert response.status_code == 200
    rows = dict(csv.reader(io.StringIO(response.content.decode("utf-8-sig")), delimiter=";"))
    assert rows["entries"] == "12"
    assert rows["reaching_level_2.base"] == "12"


def test_the_observer_reads_every_operator_with_small_counts_hidden(client, session, ara):
    observer = make_staff(session, None, Role.NATIONAL_OBSERVER)
    other = make_operator(session, "BRE", "Bretagne")
    stranger = make_staff(session, other)
    case = make_case(session, stranger)
    episode = make_episode(session, stranger, case, "UO1")
    make_interaction(session, stranger, case, episode_id=episode.id)

    response = indicators(client, observer, date(YEAR, 1, 1), date(YEAR, 12, 31))

    assert response.status_code == 200
    body = response.json()
    assert KEYS <= set(body)
    assert body["entries"] == 13
    by_operator = {row["operator"]: row for row in body["by_operator"]}
    assert by_operator[ara.name]["entries"] is None  # 12, but Bretagne's 1 would follow
    assert by_operator["Bretagne"]["entries"] is None


def test_the_observer_reads_whole_calendar_years_only(client, session, ara):
    observer = make_staff(session, None, Role.NATIONAL_OBSERVER)

    response = indicators(client, observer, date(YEAR, 1, 1), date(YEAR, 6, 30))

    assert response.status_code == 422


def test_a_counsellor_is_refused(client, session, ara):
    counsellor = make_staff(session, ara, Role.COUNSELLOR)

    assert indicators(client, counsellor, TODAY, TODAY).status_code == 403
