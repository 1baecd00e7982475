"""The « Rapport d'activité » page, its CSV/XLSX tables and the API endpoint."""

import html
import re
from datetime import date, datetime, time
from io import BytesIO
from zoneinfo import ZoneInfo

import openpyxl
import pytest

from app.models.cases import CaseOpen, EpisodeStart
from app.models.nomenclatures import Channel, Role
from app.services.cases.episodes import start_episode
from app.services.cases.lifecycle import open_case
from tests.conftest import NOW
from tests.factories import (
    bearer,
    log_in,
    make_beneficiary,
    make_case,
    make_episode,
    make_interaction,
    make_operator,
    make_staff,
    unit_id,
)

# Today is the clock's (tests/conftest.py), in the app as here: read at import time, the real
# one would be yesterday's for a test that starts just after midnight.
pytestmark = pytest.mark.usefixtures("clock")

PARIS = ZoneInfo("Europe/Paris")
TODAY = NOW.astimezone(PARIS).date().isoformat()
PERIOD = f"du={TODAY}&au={TODAY}"
# Early today in Paris, past at any hour (an hour ago is still yesterday until 1 a.m.).
EARLY_TODAY = datetime.combine(date.fromisoformat(TODAY), time(0, 1), tzinfo=PARIS)


@pytest.fixture
def ara(session):
    """One entry today: a case opened, its UO1 started and its first interview held, early on."""
    operator = make_operator(session)
    counsellor = make_staff(session, operator)
    data = CaseOpen(
        beneficiary_id=make_beneficiary(session, counsellor).id,
        channel=Channel.PHONE,
        motive="reconversion",
    )
    case = open_case(session=session, actor=counsellor, data=data, opened_at=EARLY_TODAY)
    episode, _ = start_episode(
        session=session,
        actor=counsellor,
        case_id=case.id,
        data=EpisodeStart(unit_id=unit_id(session, "UO1"), started_at=EARLY_TODAY),
    )
    make_interaction(session, counsellor, case, occurred_at=EARLY_TODAY, episode_id=episode.id)
    return operator


def test_the_page_shows_the_first_tabs_sections_each_as_a_chart_and_a_table(
    client, session, manager
):
    log_in(client, session, manager)

    response = client.get(f"/rapports/activite?{PERIOD}")

    assert response.status_code == 200
    page = html.unescape(response.text)
    assert page.count('role="img"') >= 3
    assert "<caption>Entrées et réorientations par mois</caption>" in page
    assert "<caption>Unités d'œuvre commencées et terminées</caption>" in page
    assert f'href="/rapports/activite/entrees.csv?du={TODAY}&au={TODAY}"' in page
    assert "<caption>Accès au niveau 2</caption>" not in page  # another tab's


def test_another_tab_shows_its_own_sections(client, session, manager):
    log_in(client, session, manager)

    page = html.unescape(client.get(f"/rapports/activite?{PERIOD}&onglet=qualite").text)

    assert "<caption>Accès au niveau 2</caption>" in page
    title = "Délai entre le premier contact et le premier entretien de niveau 1"
    assert f"<caption>{title}</caption>" in page
    assert "<caption>Entrées et réorientations par mois</caption>" not in page


def test_the_page_defaults_to_the_current_year(client, session, manager):
    log_in(client, session, manager)

    page = html.unescape(client.get("/rapports/activite").text)

    assert f'value="{TODAY[:4]}-01-01"' in page
    assert "Chiffres clés" in page


def test_a_period_ending_before_it_starts_shows_the_error(client, session, manager):
    log_in(client, session, manager)

    response = client.get("/rapports/activite?du=2026-03-01&au=2026-02-01")

    assert response.status_code == 200
    assert "précède son début" in html.unescape(response.text)


def test_a_counsellor_is_refused_the_page(client, session, ara):
    log_in(client, session, make_staff(session, ara))
    assert client.get("/rapports/activite").status_code == 403


def test_the_csv_has_the_rows_of_the_section(client, session, manager):
    log_in(client, session, manager)

    response = client.get(f"/rapports/activite/synthese.csv?{PERIOD}")

    assert response.status_code == 200
    text = response.content.decode("utf-8")
    assert text.startswith("\ufeffIndicateur;Valeur")
    assert "Entrées;1" in text and "Personnes accompagnées;1" in text and "Actes;1" in text


def test_the_xlsx_opens_with_openpyxl(client, session, manager):
    log_in(client, session, manager)

    response = client.get(f"/rapports/activite/actes.xlsx?{PERIOD}")

    rows = list(openpyxl.load_workbook(BytesIO(response.content)).active.values)
    assert rows[0] == ("Canal", "Actes", "dont hors UO", "Part hors UO (%)")
    assert ("Total", 1, 0, 0) in rows  # the interview, held within the UO1


def test_an_unknown_section_is_not_found(client, session, manager):
    log_in(client, session, manager)
    assert client.get(f"/rapports/activite/inconnu.csv?{PERIOD}").status_code == 404


def test_the_api_gives_every_section_as_json(client, manager):
    response = client.get(
        f"/api/v1/reports/activity?from={TODAY}&to={TODAY}", headers=bearer(manager)
    )

    assert response.status_code == 200
    body = response.json()
    sections = {section["key"]: section for section in body["sections"]}
    assert ["Entrées", 1] in sections["synthese"]["rows"]
    assert ["Personnes accompagnées", 1] in sections["synthese"]["rows"]
    assert sections["profil-sexe"]["columns"] == ["Caractéristique", "Personnes"]


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_the_api_gives_one_section_as_a_file(client, manager, fmt):
    response = client.get(
        f"/api/v1/reports/activity?from={TODAY}&to={TODAY}&format={fmt}&section=entrees",
        headers=bearer(manager),
    )

    assert response.status_code == 200
    assert f"-entrees.{fmt}" in response.headers["content-disposition"]
    if fmt == "xlsx":
        rows = list(openpyxl.load_workbook(BytesIO(response.content)).active.values)
        assert rows[0] == ("Mois", "Entrées", "Réorientations") and rows[1][1:] == (1, 0)
    else:
        assert ";1;0\r\n" in response.content.decode("utf-8")


def test_the_api_refuses_a_counsellor(client, session, ara):
    counsellor = make_staff(session, ara)
    response = client.get(
        f"/api/v1/reports/activity?from={TODAY}&to={TODAY}", headers=bearer(counsellor)
    )
    assert response.status_code == 403


def test_the_api_needs_the_period(client, manager):
    response = client.get("/api/v1/reports/activity", headers=bearer(manager))
    assert response.status_code == 422


def test_the_page_writes_decimals_with_a_comma_and_the_csv_with_a_point(client, session, ara):
    counsellor = make_staff(session, ara)
    case = make_case(session, counsellor)
    episode = make_episode(session, counsellor, case)
    make_interaction(session, counsellor, case, occurred_at=EARLY_TODAY, episode_id=episode.id)
    make_interaction(session, counsellor, case, occurred_at=EARLY_TODAY)  # hors UO
    log_in(client, session, make_staff(session, ara, Role.MANAGER))

    page = html.unescape(client.get(f"/rapports/activite?{PERIOD}").text)
    page = re.sub(r' data-label="[^"]*"', "", page)  # the column names of the phone's cards
    csv_text = client.get(f"/rapports/activite/actes.csv?{PERIOD}").content.decode("utf-8")

    # One act of three outside a unit (beside the fixture's UO1 interview and this case's):
    # 33,3 % on the page, 33.3 in the file.
    assert '<th scope="row">Total</th><td class="num">3</td><td class="num">1</td>' in page
    assert '<td class="num">33,3</td>' in page
    assert "Total;3;1;33.3" in csv_text
