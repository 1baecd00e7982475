"""The « Vue nationale » page, its CSV/XLSX tables and the API endpoint: observers only, and
never a name or a case."""

import html
import re
from io import BytesIO
from zoneinfo import ZoneInfo

import openpyxl
import pytest

from app.models.nomenclatures import Role, Sex
from tests.conftest import NOW
from tests.factories import (
    bearer,
    log_in,
    make_beneficiary,
    make_case,
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


@pytest.fixture
def ara(session):
    """Twelve cases with one act each, enough to show; two women among them, to stay hidden."""
    operator = make_operator(session)
    counsellor = make_staff(session, operator)
    for n in range(12):
        person = make_beneficiary(session, counsellor, sex=Sex.FEMALE if n < 2 else Sex.UNKNOWN)
        make_interaction(session, counsellor, make_case(session, counsellor, beneficiary=person))
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
    assert "<caption>Nouveaux dossiers par opérateur</caption>" in page
    assert '<th scope="row">Nouveaux dossiers</th><td class="num">12</td>' in page
    assert f'href="/rapports/national/operateurs.csv?{PERIOD}"' in page
    assert '<th scope="row">Femme</th><td class="num">secret</td>' in page
    # The chart keeps the hidden rows too, read as secret.
    assert "Sexe : 3 valeurs, dont 2 masquées (« secret »)" in page
    assert 'class="bar-value bar-hidden">secret</text>' in page


def test_the_page_says_when_its_figures_were_counted(client, session, ara, observer):
    log_in(client, session, observer)
    first = html.unescape(client.get(f"/rapports/national?{PERIOD}").text)
    counsellor = make_staff(session, ara)
    make_case(session, counsellor)

    again = html.unescape(client.get(f"/rapports/national?{PERIOD}").text)

    # The clock's day (tests/conftest.py): the first reading of the month took the snapshot.
    assert "Chiffres arrêtés au 2 décembre 2026 ; actualisés le 1er de chaque mois." in first
    # One more case, the same day: the same figures (12, not 13).
    assert '<th scope="row">Nouveaux dossiers</th><td class="num">12</td>' in re.sub(
        r' data-label="[^"]*"', "", again
    )


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
        make_case(session, brittany)
    log_in(client, session, observer)

    response = client.get(f"/rapports/national/operateurs.csv?{PERIOD}")

    assert response.status_code == 200
    assert "national-tous-" in response.headers["content-disposition"]
    text = response.content.decode("utf-8")
    assert text.startswith("\ufeffOpérateur;Nouveaux dossiers;Personnes accompagnées")
    assert "Bretagne;secret;secret" in text
    # 12 less the national total would give Brittany's 3 away: hidden too.
    assert "Auvergne-Rhône-Alpes;secret;secret" in text


def test_the_xlsx_opens_with_openpyxl(client, session, observer):
    log_in(client, session, observer)

    response = client.get(f"/rapports/national/profil-sexe.xlsx?{PERIOD}")

    rows = list(openpyxl.load_workbook(BytesIO(response.content)).active.values)
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
    assert ["Nouveaux dossiers", 12] in sections["synthese"]["rows"]
    assert sections["operateurs"]["rows"] == [["Auvergne-Rhône-Alpes", 12, 12]]
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
    rows = list(openpyxl.load_workbook(BytesIO(response.content)).active.values)
    assert rows[1] == ("Auvergne-Rhône-Alpes", 12, 12)


def test_the_api_refuses_a_manager(client, session, ara):
    manager = make_staff(session, ara, Role.MANAGER)
    response = client.get(
        f"/api/v1/reports/national?from={FIRST}&to={LAST}", headers=bearer(manager)
    )
    assert response.status_code == 403


def test_the_api_needs_a_token(client):
    assert client.get(f"/api/v1/reports/national?from={FIRST}&to={LAST}").status_code == 401
