"""The « Vue nationale » page, its CSV/XLSX tables and the API endpoint: observers only, and
never a name or a case."""

import html
import re
from zoneinfo import ZoneInfo

import pytest

from app.models.nomenclatures import Role, Sex
from tests.conftest import NOW
from tests.downloads import workbook_rows, workbook_sheet
from tests.factories import (
    bearer,
    log_in,
    make_beneficiary,
    make_case,
    make_episode,
    make_interaction,
    make_operator,
    make_staff,
)

# This year is the clock's (tests/conftest.py), in the app as here: the acts are recorded an
# hour ago, last year's for a test that starts just after New Year.
pytestmark = pytest.mark.usefixtures("clock")

YEAR = NOW.astimezone(ZoneInfo("Europe/Paris")).year
PERIOD = f"annee={YEAR}"
FIRST, LAST = f"{YEAR}-01-01", f"{YEAR}-12-31"
SECRECY = "Secret statistique : les effectifs inférieurs à 11 sont masqués."


def entered(session, counsellor, person=None):
    """A case entering level 1 now, with its first interview an hour ago, within the UO1."""
    case = make_case(session, counsellor, beneficiary=person)
    uo1 = make_episode(session, counsellor, case)
    make_interaction(session, counsellor, case, episode_id=uo1.id)
    return case


@pytest.fixture
def ara(session):
    """Twelve entries seen once each, enough to show; two women among them, to stay hidden."""
    operator = make_operator(session)
    counsellor = make_staff(session, operator)
    for n in range(12):
        person = make_beneficiary(session, counsellor, sex=Sex.FEMALE if n < 2 else Sex.UNKNOWN)
        entered(session, counsellor, person)
    return operator


@pytest.fixture
def observer(session, ara):
    return make_staff(session, None, Role.NATIONAL_OBSERVER)


def test_the_page_shows_the_figures_and_the_secrecy_rule(client, session, observer):
    log_in(client, session, observer)

    response = client.get(f"/rapports/national?{PERIOD}")

    assert response.status_code == 200
    page = html.unescape(response.text)
    page = re.sub(r' data-label="[^"]*"', "", page)  # the column names of the phone's cards
    assert SECRECY in page
    assert "<caption>Chiffres clés par opérateur</caption>" in page
    for label in ("Entrées", "Personnes accompagnées"):
        figure = rf'<span class="key-label">{label}</span>\s*<strong class="key-value">12</strong>'
        assert re.search(figure, page), label
    assert f'href="/rapports/national/operateurs.csv?{PERIOD}"' in page
    people = html.unescape(client.get(f"/rapports/national?{PERIOD}&onglet=personnes").text)
    people = re.sub(r' data-label="[^"]*"', "", people)
    assert '<th scope="row">Femme</th><td class="num">secret</td>' in people
    # The chart keeps the hidden rows too, read as secret.
    assert "Sexe : 3 valeurs, dont 2 masquées (« secret »)" in people
    assert '<span class="bar-count bar-hidden">secret</span>' in people


def test_the_page_says_when_its_figures_were_counted(client, session, ara, observer):
    log_in(client, session, observer)
    first = html.unescape(client.get(f"/rapports/national?{PERIOD}").text)
    counsellor = make_staff(session, ara)
    case = make_case(session, counsellor)
    episode = make_episode(session, counsellor, case, "UO1")
    make_interaction(session, counsellor, case, episode_id=episode.id)

    again = html.unescape(client.get(f"/rapports/national?{PERIOD}").text)

    # The clock's day (tests/conftest.py): the first reading of the month took the snapshot.
    assert "Chiffres arrêtés au 2 décembre 2026 ; actualisés le 1er de chaque mois." in first
    # One more entry, the same day: the same figures (12, not 13).
    figure = r'<span class="key-label">Entrées</span>\s*<strong class="key-value">12</strong>'
    assert re.search(figure, again)


def test_the_observer_never_sees_a_name_or_a_case(client, session, ara, observer):
    counsellor = make_staff(session, ara, full_name="Bérénice Conseillère")
    person = make_beneficiary(session, counsellor, first_name="Eulalie", last_name="Quintavalle")
    case = make_case(session, counsellor, person)
    log_in(client, session, observer)

    page = html.unescape(client.get(f"/rapports/national?{PERIOD}").text)

    assert "Quintavalle" not in page and "Eulalie" not in page
    assert "Bérénice" not in page
    assert case.reference not in page and "/cases/" not in page


def test_the_home_page_leads_the_observer_to_the_national_view(client, session, observer):
    log_in(client, session, observer)

    response = client.get("/", follow_redirects=False)

    assert response.status_code == 303
    assert response.headers["location"] == "/rapports/national"
    page = html.unescape(client.get("/rapports/national").text)
    assert 'href="/rapports/national" aria-current="page">Vue nationale</a>' in page


def test_the_page_offers_the_calendar_years(client, session, ara, observer):
    log_in(client, session, observer)

    page = html.unescape(client.get(f"/rapports/national?{PERIOD}").text)

    assert f'<option value="{YEAR}" selected>{YEAR}</option>' in page


def test_the_api_refuses_a_period_that_is_not_a_calendar_year(client, observer):
    response = client.get(
        f"/api/v1/reports/national?from={FIRST}&to={YEAR}-06-30", headers=bearer(observer)
    )
    assert response.status_code == 422


@pytest.mark.parametrize("role", [Role.COUNSELLOR, Role.MANAGER, Role.OPERATOR_ADMIN])
def test_staff_of_an_operator_is_refused_the_page_and_its_tables(client, session, ara, role):
    log_in(client, session, make_staff(session, ara, role))

    assert client.get("/rapports/national").status_code == 403
    assert client.get(f"/rapports/national/synthese.csv?{PERIOD}").status_code == 403


def test_the_csv_reads_hidden_cells_as_under_eleven(client, session, observer):
    brittany = make_staff(session, make_operator(session, "BRE", "Bretagne"))
    for _ in range(3):
        entered(session, brittany)
    log_in(client, session, observer)

    response = client.get(f"/rapports/national/operateurs.csv?{PERIOD}")

    assert response.status_code == 200
    assert "national-tous-" in response.headers["content-disposition"]
    text = response.content.decode("utf-8")
    assert text.startswith("\ufeffOpérateur;Entrées;Personnes accompagnées;Réorientations")
    assert "Bretagne;secret;secret;" in text
    # The national total less 12 would give Brittany's 3 away: hidden too.
    assert "Auvergne-Rhône-Alpes;secret;secret;" in text


def test_the_xlsx_opens_with_openpyxl(client, session, observer):
    log_in(client, session, observer)

    response = client.get(f"/rapports/national/profil-sexe.xlsx?{PERIOD}")

    sheet = workbook_sheet(response.content)
    assert sheet["A1"].value == (
        f"Rapport d'activité — Tous opérateurs — du 1er janvier {YEAR} au 31 décembre {YEAR} — Sexe"
    )
    rows = workbook_rows(response.content)
    assert rows[0] == ("Caractéristique", "Personnes")
    # Two women: hidden; the ten others too, or the total of people would give the two back.
    assert rows[1:] == [("Femme", "secret"), ("Homme", 0), ("Non renseigné", "secret")]


def test_the_api_gives_every_section_with_null_for_hidden_cells(client, observer):
    response = client.get(
        f"/api/v1/reports/national?from={FIRST}&to={LAST}", headers=bearer(observer)
    )

    assert response.status_code == 200
    body = response.json()
    sections = {section["key"]: section for section in body["sections"]}
    assert ["Entrées", 12] in sections["synthese"]["rows"]
    assert ["Personnes accompagnées", 12] in sections["synthese"]["rows"]
    # No redirection, and none of the 12 entries reaching level 2: 0 %.
    row = sections["operateurs"]["rows"][0]
    assert row[:5] == ["Auvergne-Rhône-Alpes", 12, 12, 0, 0]
    assert sections["delai"]["rows"] == [["Délai médian (jours)", None, 0]]
    assert body["counted_at"].startswith(NOW.date().isoformat())  # the month's snapshot
    cells = [v for s in body["sections"] for row in s["rows"] for v in row[1:]]
    assert not [v for v in cells if isinstance(v, int) and 0 < v < 11]


def test_the_api_gives_one_section_as_a_file(client, observer):
    response = client.get(
        f"/api/v1/reports/national?from={FIRST}&to={LAST}&format=xlsx&section=operateurs",
        headers=bearer(observer),
    )

    assert response.status_code == 200
    assert workbook_rows(response.content)[1][:5] == ("Auvergne-Rhône-Alpes", 12, 12, 0, 0)


def test_the_api_refuses_a_manager(client, session, ara):
    manager = make_staff(session, ara, Role.MANAGER)
    response = client.get(
        f"/api/v1/reports/national?from={FIRST}&to={LAST}", headers=bearer(manager)
    )
    assert response.status_code == 403


def test_the_api_needs_a_token(client):
    assert client.get(f"/api/v1/reports/national?from={FIRST}&to={LAST}").status_code == 401
