"""The « Rapport d'activité » page, its CSV/XLSX tables and the API endpoint."""

import html
import re
from datetime import date, datetime, time
from zoneinfo import ZoneInfo

import pytest

from app.models.nomenclatures import Role
from tests.conftest import NOW
from tests.downloads import workbook_rows, workbook_sheet
from tests.factories import (
    bearer,
    log_in,
    make_case,
    make_episode,
    make_interaction,
    make_operator,
    make_site,
    make_staff,
)

# Today is the clock's (tests/conftest.py), in the app as here: read at import time, the real
# one would be yesterday's for a test that starts just after midnight.
pytestmark = pytest.mark.usefixtures("clock")

PARIS = ZoneInfo("Europe/Paris")
TODAY = NOW.astimezone(PARIS).date().isoformat()
PERIOD = f"du={TODAY}&au={TODAY}"


@pytest.fixture
def ara(session):
    operator = make_operator(session)
    counsellor = make_staff(session, operator)
    # Early today in Paris, past at any hour (an hour ago is still yesterday until 1 a.m.).
    early_today = datetime.combine(date.fromisoformat(TODAY), time(0, 1), tzinfo=PARIS)
    case = make_case(session, counsellor)
    episode = make_episode(session, counsellor, case, "UO1")
    make_interaction(session, counsellor, case, episode_id=episode.id, occurred_at=early_today)
    return operator


def test_the_page_shows_each_section_as_a_chart_and_a_table(client, session, manager):
    log_in(client, session, manager)

    response = client.get(f"/rapports/activite?{PERIOD}")

    assert response.status_code == 200
    page = html.unescape(response.text)
    assert page.count('role="img"') >= 3  # the first tab's charts
    assert "<caption>Entrées et réorientations par mois</caption>" in page
    assert f'href="/rapports/activite/entrees.csv?du={TODAY}&au={TODAY}"' in page
    for theme in ("Activité", "Personnes", "Territoire", "Qualité", "Partenaires"):
        assert f">{theme}</a>" in page


def test_each_tab_shows_its_sections_and_the_territory_its_map(client, session, manager):
    log_in(client, session, manager)

    page = html.unescape(client.get(f"/rapports/activite?{PERIOD}&onglet=territoire").text)

    assert "<caption>Couverture territoriale par département</caption>" in page
    assert 'class="departement-map"' in page
    assert "<caption>Entrées et réorientations par mois</caption>" not in page
    assert f'href="/rapports/activite/territoire.csv?du={TODAY}&au={TODAY}"' in page


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
    assert "Entrées;1" in text and "Actes;1" in text


def test_the_xlsx_opens_with_openpyxl(client, session, manager):
    log_in(client, session, manager)

    response = client.get(f"/rapports/activite/actes.xlsx?{PERIOD}")

    rows = workbook_rows(response.content)
    assert rows[0] == ("Canal", "Actes", "dont hors UO", "Part hors UO (%)")
    assert ("Total", 1, 0, 0) in rows  # 0 %, a percentage cell


def test_the_xlsx_names_the_operator_the_site_and_the_period(client, session, ara, manager):
    site = make_site(session, ara, name="Villeurbanne")
    log_in(client, session, manager)

    response = client.get(f"/rapports/activite/actes.xlsx?{PERIOD}&lieu={site.id}")

    title = workbook_sheet(response.content)["A1"].value
    assert title == (
        "Rapport d'activité — Auvergne-Rhône-Alpes — lieu d'accueil Villeurbanne — "
        "le 2 décembre 2026 — Actes par canal et part hors unité d'œuvre"
    )


def test_another_operators_site_is_not_named_in_the_title(client, session, manager):
    elsewhere = make_site(session, make_operator(session, "BRE", "Bretagne"), name="Rennes")
    log_in(client, session, manager)

    response = client.get(f"/rapports/activite/actes.xlsx?{PERIOD}&lieu={elsewhere.id}")

    title = workbook_sheet(response.content)["A1"].value
    assert "lieu d'accueil inconnu" in title and "Rennes" not in title


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
        rows = workbook_rows(response.content)
        assert rows[0] == ("Mois", "Entrées", "Réorientations") and rows[1][1] == 1
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


def test_the_page_and_the_csv_write_decimals_with_a_comma(client, session, ara):
    counsellor = make_staff(session, ara)
    case = make_case(session, counsellor)
    episode = make_episode(session, counsellor, case)
    early_today = datetime.combine(date.fromisoformat(TODAY), time(0, 2), tzinfo=PARIS)
    make_interaction(session, counsellor, case, occurred_at=early_today, episode_id=episode.id)
    make_interaction(session, counsellor, case, occurred_at=early_today)  # hors UO
    log_in(client, session, make_staff(session, ara, Role.MANAGER))

    page = html.unescape(client.get(f"/rapports/activite?{PERIOD}").text)
    page = re.sub(r' data-label="[^"]*"', "", page)  # the column names of the phone's cards
    csv_text = client.get(f"/rapports/activite/actes.csv?{PERIOD}").content.decode("utf-8")

    # One act of three outside a unit: 33,3 % on the page, 33,3 in the file (French Excel
    # would read 33.3 as a date).
    assert '<th scope="row">Total</th><td class="num">3</td><td class="num">1</td>' in page
    assert '<td class="num">33,3</td>' in page
    assert "Total;3;1;33,3" in csv_text
