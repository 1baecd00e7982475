"""A manager's home shows their team: for each counsellor of their sites, their figures, each
a link to the list that shows exactly the rows it counts; nobody else's, on any list."""

import re
from datetime import UTC, date, datetime, time, timedelta
from html import unescape
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import event
from sqlmodel import select

from app.models.cases import CaseStatus
from app.models.nomenclatures import Role
from app.models.staff import StaffSite
from tests.factories import (
    delivered,
    log_in,
    make_appointment,
    make_case,
    make_site,
    make_staff,
    paris_today,
)

PARIS = ZoneInfo("Europe/Paris")

# The clock of tests/conftest.py: Wednesday 2 December 2026, 10:00 in Paris.
pytestmark = pytest.mark.usefixtures("clock")


def at_paris(day: date, hour: int) -> datetime:
    return datetime.combine(day, time(hour), tzinfo=PARIS).astimezone(UTC)


def attach(session, staff, *sites) -> None:
    session.add_all(StaffSite(staff_id=staff.id, site_id=site.id) for site in sites)
    session.flush()


@pytest.fixture
def team(session, ara, bre, manager):
    """Lyon and Grenoble; the manager works in Lyon. Anaïs (Lyon) has figures of every kind,
    Bruno (Lyon and Grenoble) one case, Chloé works only in Grenoble, Denis (Lyon) has left,
    and Erwan is a counsellor of another operator."""
    lyon, grenoble = make_site(session, ara), make_site(session, ara, name="Grenoble")
    attach(session, manager, lyon)
    anais = make_staff(session, ara, full_name="Anaïs Roux")
    bruno = make_staff(session, ara, full_name="Bruno Petit")
    chloe = make_staff(session, ara, full_name="Chloé Grenier")
    denis = make_staff(session, ara, full_name="Denis Parti")
    erwan = make_staff(session, bre, full_name="Erwan Le Goff")
    attach(session, anais, lyon)
    attach(session, bruno, lyon, grenoble)
    attach(session, chloe, grenoble)
    attach(session, denis, lyon)
    attach(session, erwan, make_site(session, bre, name="Rennes", postcode="35000"))
    for person in (bruno, chloe, denis):
        make_case(session, person)
    make_case(session, erwan)
    denis.active = False  # left, his case still open
    session.add(denis)

    today = paris_today()
    monday = today - timedelta(days=today.weekday())
    # Open cases: one idle, three whose first appointment came 2, 4 and 9 days after they
    # were opened a month ago (median 4), and two with a unit to prove; one more is closed.
    idle = make_case(session, anais)
    idle.last_activity_at = datetime.now(UTC) - timedelta(days=40)
    opened = datetime.now(UTC) - timedelta(days=30)
    for days in (2, 4, 9):
        case = make_case(session, anais)
        case.opened_at = opened
        session.add(case)
        session.flush()
        # Held by the manager, so that they count in none of Anaïs's appointment figures.
        make_appointment(
            session,
            counsellor=manager,
            site=lyon,
            starts_at=opened + timedelta(days=days),
            status="honoured",
            case_id=case.id,
        )
    delivered(session, anais, "UO1", datetime.now(UTC) - timedelta(days=5), proofs="none")
    delivered(session, anais, "UO1", datetime.now(UTC) - timedelta(days=5), proofs="acknowledged")
    closed = make_case(session, anais)
    closed.status, closed.closed_at = CaseStatus.CLOSED, datetime.now(UTC)
    session.add_all([idle, closed])
    # This week: two appointments, one cancelled; next week's does not count.
    week = [(monday, 9, "booked"), (monday + timedelta(days=4), 14, "booked")]
    week += [
        (monday + timedelta(days=4), 16, "cancelled"),
        (monday + timedelta(days=8), 9, "booked"),
    ]
    # Three weeks ago: three honoured, one no-show, one excused: 25 % of absence.
    past = today - timedelta(days=21)
    marks = ["honoured", "honoured", "honoured", "no_show", "excused"]
    week += [(past, 8 + n, status) for n, status in enumerate(marks)]
    for day, hour, status in week:
        make_appointment(
            session, counsellor=anais, site=lyon, starts_at=at_paris(day, hour), status=status
        )
    session.flush()
    return {"anais": anais, "bruno": bruno, "chloe": chloe, "denis": denis, "erwan": erwan}


def team_table(page: str) -> str:
    start = page.index('aria-labelledby="team-title"')
    return unescape(page[start : page.index("</section>", start)])


def figures(table: str, name: str) -> dict[str, tuple[str, str]]:
    """The row of `name`: each figure's column, its text as shown and the list it links to."""
    row = re.search(rf"<th scope=\"row\">{name}</th>(.*?)</tr>", table, re.S).group(1)
    cells = re.findall(
        r'<td class="num" data-label="([^"]+)"><a href="([^"]+)">(.*?)<span', row, re.S
    )
    return {label: (shown, href) for label, href, shown in cells}


def test_the_manager_sees_the_figures_of_each_counsellor_of_their_sites(
    client, session, manager, team
):
    log_in(client, session, manager)

    table = team_table(client.get("/").text)

    assert 'Mon équipe <span class="muted">(2)</span>' in table
    assert [name for name in re.findall(r'<th scope="row">([^<]+)</th>', table)] == [
        "Anaïs Roux",
        "Bruno Petit",
    ]
    anais = {label: shown for label, (shown, _href) in figures(table, "Anaïs Roux").items()}
    assert anais == {
        "Dossiers ouverts": "6",
        "Sans activité depuis 30 jours ou plus": "1",
        "Preuves manquantes": "1",
        "Rendez-vous cette semaine": "2",
        "Taux d'absence": "25\u202f%",
        "Délai médian jusqu'au 1er rendez-vous (jours)": "4,0",
    }
    bruno = {label: shown for label, (shown, _href) in figures(table, "Bruno Petit").items()}
    assert bruno["Dossiers ouverts"] == "1" and bruno["Taux d'absence"] == "—"
    for name in ("Chloé Grenier", "Denis Parti", "Erwan Le Goff"):
        assert name not in table


def test_an_operator_admin_sees_every_active_counsellor_of_the_operator(
    client, session, admin, team
):
    log_in(client, session, admin)

    table = team_table(client.get("/").text)

    assert re.findall(r'<th scope="row">([^<]+)</th>', table) == [
        "Anaïs Roux",
        "Bruno Petit",
        "Chloé Grenier",
    ]


def test_each_figure_links_to_a_list_of_exactly_the_rows_it_counts(client, session, manager, team):
    log_in(client, session, manager)
    links = figures(team_table(client.get("/").text), "Anaïs Roux")

    def page(label: str) -> str:
        response = client.get(links[label][1])
        assert response.status_code == 200, links[label][1]
        return unescape(response.text)

    def case_rows(html: str) -> int:
        return len(re.findall(r'<td data-label="Dossier"><a href="/cases/\d+">', html))

    opened = page("Dossiers ouverts")
    assert "Dossiers ouverts d'Anaïs Roux" in opened and case_rows(opened) == 6
    idle = page("Sans activité depuis 30 jours ou plus")
    assert "Dossiers d'Anaïs Roux sans activité" in idle and case_rows(idle) == 1
    proofs = page("Preuves manquantes")
    assert len(re.findall(r"\?section=documents#livrables", proofs)) == 1
    agenda = page("Rendez-vous cette semaine")
    counted = re.findall(r'<li id="agenda-rdv-\d+" class="agenda-item">', agenda)
    cancelled = re.findall(r'<li id="agenda-rdv-\d+" class="agenda-item muted">', agenda)
    assert (len(counted), len(cancelled)) == (2, 1)  # the cancelled one shown as such
    absences = page("Taux d'absence")
    assert "Taux d'absence aux rendez-vous d'Anaïs Roux" in absences
    assert "Bruno Petit" not in absences and "<strong>25 %</strong>" in absences
    report = page("Délai médian jusqu'au 1er rendez-vous (jours)")
    delay = report[report.index('id="section-delai"') :]
    assert re.search(r"Délai médian \(jours\)</t[hd]>\s*<td[^>]*>4,0</td>\s*<td[^>]*>3<", delay)


def test_the_pages_of_a_counsellors_list_keep_the_counsellor(client, session, manager, team):
    from app.routes.desk.home import PAGE_ROWS

    for _ in range(PAGE_ROWS):
        make_case(session, team["anais"])
    log_in(client, session, manager)

    page = client.get(f"/mes-dossiers?conseiller={team['anais'].id}").text

    assert f'href="/mes-dossiers?conseiller={team["anais"].id}&amp;page=2"' in page


@pytest.mark.parametrize("who", ["chloe", "denis", "erwan"])
@pytest.mark.parametrize(
    "url", ["/mes-dossiers", "/mes-dossiers/sans-activite", "/agenda/absenteisme"]
)
def test_a_manager_opens_no_list_of_a_counsellor_outside_their_team(
    client, session, manager, team, who, url
):
    log_in(client, session, manager)
    assert client.get(url, params={"conseiller": team[who].id}).status_code == 404


def test_a_counsellor_has_no_team_and_opens_no_colleagues_list(client, session, team):
    anais, bruno = team["anais"], team["bruno"]
    log_in(client, session, anais)

    assert 'aria-labelledby="team-title"' not in client.get("/").text
    assert client.get(f"/mes-dossiers?conseiller={bruno.id}").status_code == 404
    own = client.get(f"/mes-dossiers?conseiller={anais.id}")
    assert own.status_code == 200 and "Dossiers ouverts d'Anaïs Roux" in unescape(own.text)


def test_a_manager_of_no_site_is_told_so(client, session, ara):
    log_in(client, session, make_staff(session, ara, Role.MANAGER))
    table = team_table(client.get("/").text)
    assert "Aucun conseiller ni aucune conseillère ne travaille dans vos lieux d'accueil." in table


def test_the_team_view_costs_the_same_queries_however_large_the_team(
    client, session, ara, manager, team, engine
):
    statements = []

    def count(*_args):
        statements.append(1)

    def queries() -> int:
        statements.clear()
        event.listen(engine, "before_cursor_execute", count)
        try:
            assert client.get("/").status_code == 200
        finally:
            event.remove(engine, "before_cursor_execute", count)
        return len(statements)

    log_in(client, session, manager)
    client.get("/")  # the first request also releases the savepoint the setup left open
    few = queries()
    lyon = session.exec(
        select(StaffSite.site_id).where(StaffSite.staff_id == team["anais"].id)
    ).one()
    for n in range(5):
        newcomer = make_staff(session, ara, full_name=f"Nouvelle {n}")
        session.add(StaffSite(staff_id=newcomer.id, site_id=lyon))
        make_case(session, newcomer)
    session.flush()
    assert "Nouvelle 4" in client.get("/").text
    assert queries() == few
