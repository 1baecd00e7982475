"""Survey results: the figures per level, site, counsellor and month, the comments, who reads
them, and the page, the files and the API agreeing on the same period."""

import html
import re
from datetime import UTC, date, datetime, timedelta

import pytest

from app.core.errors import Forbidden
from app.models.base import utcnow
from app.models.surveys import SurveyStatus
from app.services.reports.national import (
    SMALLEST_SHOWN,
    national_report,
    take_national_snapshots,
)
from app.services.surveys.result_pages import pseudonymised, survey_figures, survey_results
from tests.downloads import workbook_rows, workbook_sheet
from tests.factories import bearer, log_in, make_beneficiary, make_site, make_staff, report_rows
from tests.surveys.survey_rows import invite

MARCH = datetime(2026, 3, 10, 9, tzinfo=UTC)
PERIOD = "du=2026-01-01&au=2026-06-30"
START, END = date(2026, 1, 1), date(2026, 6, 30)


def figures_of(session, actor, start=START, end=END) -> dict:
    return survey_figures(session=session, actor=actor, start=start, end=end).figures


def rows_of(session, manager, key, **filters) -> dict:
    report = survey_results(session=session, actor=manager, start=START, end=END, **filters)
    return report_rows(report.report, key)


# ---- the figures ------------------------------------------------------------------------------


def test_invited_answered_and_satisfied_are_counted_per_level(session, counsellor, manager):
    invite(session, counsellor, sent_at=MARCH, positive=True)
    invite(session, counsellor, sent_at=MARCH, positive=False)
    invite(session, counsellor, sent_at=MARCH)  # no answer
    invite(session, counsellor, sent_at=None)  # not sent yet: not invited
    invite(session, counsellor, sent_at=MARCH, status=SurveyStatus.CANCELLED)
    invite(session, counsellor, sent_at=MARCH, level=2, positive=True)
    invite(session, counsellor, sent_at=MARCH, level=2, utility=True, positive=True)
    invite(session, counsellor, sent_at=MARCH, level=2, utility=True, positive=False)

    figures = figures_of(session, manager)

    level_1 = {"invited": 3, "answered": 2, "satisfied": 1, "rate": 66.7, "share": 50.0}
    assert figures["satisfaction"]["level_1"] == level_1
    assert figures["satisfaction"]["level_2"]["invited"] == 1
    assert figures["utility"]["level_2"] == {
        "invited": 2,
        "answered": 2,
        "useful": 1,
        "rate": 100.0,
        "share": 50.0,
    }


def test_no_invitation_gives_no_rate_rather_than_a_division_by_zero(client, session, manager):
    figures = figures_of(session, manager)
    assert figures["utility"]["level_1"] == {
        "invited": 0,
        "answered": 0,
        "useful": 0,
        "rate": None,
        "share": None,
    }
    log_in(client, session, manager)

    page = html.unescape(client.get(f"/rapports/enquetes?{PERIOD}").text)

    row = re.search(r"<th scope=\"row\">Niveau 1</th>(.*?)</tr>", page).group(1)
    assert re.findall(r">([^<]*)</td>", row) == ["0", "0", "—", "0", "—"]


def test_an_answer_counts_in_the_period_of_its_sending(session, counsellor, manager):
    invite(session, counsellor, sent_at=MARCH, answered_at=datetime(2026, 8, 1, tzinfo=UTC))

    spring = figures_of(session, manager)["satisfaction"]["level_1"]
    summer = figures_of(session, manager, date(2026, 7, 1), date(2026, 9, 30))

    assert (spring["invited"], spring["answered"]) == (1, 1)
    assert summer["satisfaction"]["level_1"]["invited"] == 0


def test_the_period_and_its_months_are_the_operators_local_days(session, counsellor, manager):
    # 00:30 on 1 April in Paris (summer time) is still 31 March in UTC; 23:30 on 31 March in
    # Paris is 21:30 UTC.
    invite(session, counsellor, sent_at=datetime(2026, 3, 31, 22, 30, tzinfo=UTC))
    invite(session, counsellor, sent_at=datetime(2026, 3, 31, 21, 30, tzinfo=UTC))

    march = figures_of(session, manager, date(2026, 3, 1), date(2026, 3, 31))
    april = figures_of(session, manager, date(2026, 4, 1), date(2026, 4, 30))
    months = rows_of(session, manager, "satisfaction-mois")

    assert march["satisfaction"]["level_1"]["invited"] == 1
    assert april["satisfaction"]["level_1"]["invited"] == 1
    assert months["mars 2026"][0] == 1 and months["avril 2026"][0] == 1
    assert list(months) == [f"{m} 2026" for m in ("janvier", "février", "mars", "avril")] + [
        "mai 2026",
        "juin 2026",
    ]


def test_figures_are_broken_down_per_site_and_counsellor(session, ara, counsellor, manager):
    lyon, grenoble = make_site(session, ara, name="Lyon"), make_site(session, ara, name="Grenoble")
    other = make_staff(session, ara, full_name="Bastien Roux")
    invite(session, counsellor, sent_at=MARCH, site=lyon, positive=True)
    invite(session, counsellor, sent_at=MARCH, site=lyon, level=2, positive=False)
    invite(session, other, sent_at=MARCH, site=grenoble)
    invite(session, other, sent_at=MARCH, utility=True, positive=True)

    sites = rows_of(session, manager, "satisfaction-lieux")
    people = rows_of(session, manager, "satisfaction-conseillers")
    useful = rows_of(session, manager, "utility-conseillers")
    levels = rows_of(session, manager, "satisfaction-niveaux")

    assert list(sites) == ["Grenoble", "Lyon"]  # by name; none left out
    assert sites["Lyon"] == (2, 2, 100.0, 1, 50.0)
    assert sites["Grenoble"] == (1, 0, 0.0, 0, None)
    assert people["Camille Martin"][:2] == (2, 2) and people["Bastien Roux"][:2] == (1, 0)
    assert useful == {"Bastien Roux": (1, 1, 100.0, 1, 100.0)}
    assert levels["Ensemble"] == (3, 2, 66.7, 1, 50.0)
    only_lyon = rows_of(session, manager, "satisfaction-niveaux", site_id=lyon.id)
    assert only_lyon["Ensemble"][0] == 2


def test_a_site_or_counsellor_not_recorded_is_its_own_row(session, counsellor, manager):
    invite(session, counsellor, sent_at=MARCH)
    assert rows_of(session, manager, "satisfaction-lieux") == {
        "Non renseigné": (1, 0, 0.0, 0, None)
    }


def test_shares_are_written_the_french_way_on_the_page(client, session, counsellor, manager):
    for positive in (True, True, False):
        invite(session, counsellor, sent_at=MARCH, positive=positive)
    log_in(client, session, manager)

    page = html.unescape(client.get(f"/rapports/enquetes?{PERIOD}").text)

    assert ">66,7</td>" in page and ">100,0</td>" in page


SECTIONS = [
    f"{survey}-{breakdown}"
    for survey in ("satisfaction", "utility")
    for breakdown in ("niveaux", "lieux", "conseillers", "mois")
]


def test_every_table_of_the_page_downloads_as_csv_and_xlsx(client, session, counsellor, manager):
    invite(session, counsellor, sent_at=MARCH, positive=True)
    invite(session, counsellor, sent_at=MARCH, utility=True, positive=False)
    log_in(client, session, manager)
    page = client.get(f"/rapports/enquetes?{PERIOD}").text

    for key in SECTIONS:
        assert f'href="/rapports/enquetes/{key}.xlsx?{PERIOD.replace("&", "&amp;")}"' in page
        sheet = client.get(f"/rapports/enquetes/{key}.xlsx?{PERIOD}")
        rows = workbook_rows(sheet.content)
        assert rows[0][1:4] == ("Invitations", "Réponses", "Taux de réponse (%)"), key
        assert any(row[1] == 1 for row in rows[1:]), key
        text = client.get(f"/rapports/enquetes/{key}.csv?{PERIOD}").content.decode("utf-8")
        assert text.count("\n") == len(rows), key


# ---- the comments -----------------------------------------------------------------------------


def test_comments_show_the_newest_first_by_pages_without_the_persons_name(
    client, session, ara, counsellor, manager
):
    site = make_site(session, ara, name="Villeurbanne")
    person = make_beneficiary(session, counsellor, first_name="Héloïse", last_name="Quintard")
    invite(
        session,
        counsellor,
        sent_at=MARCH,
        site=site,
        level=2,
        positive=True,
        comment="Merci <b>beaucoup</b>",
        beneficiary=person,
    )
    for day in range(21):
        sent = MARCH - timedelta(days=30 + day)
        invite(session, counsellor, sent_at=sent, positive=True, comment=f"Commentaire {day}")
    log_in(client, session, manager)

    first = html.unescape(client.get(f"/rapports/enquetes?{PERIOD}").text)
    second = html.unescape(client.get(f"/rapports/enquetes?{PERIOD}&page=2").text)

    assert "Page 1 sur 2" in first and "22 au total" in first
    newest = first.index("Merci <b>beaucoup</b>")  # escaped, then unescaped here
    assert newest < first.index("Commentaire 0") < first.index("Commentaire 18")
    assert "Commentaire 19" not in first and "Commentaire 20" in second
    assert "<b>beaucoup" not in client.get(f"/rapports/enquetes?{PERIOD}").text
    row = first[first.rindex("<tr>", 0, newest) : newest]
    assert "10 mars 2026" in row and ">2</td>" in row and "Villeurbanne" in row
    assert "Quintard" not in first and "Héloïse" not in first


def test_exported_comments_are_pseudonymised(client, session, counsellor, manager):
    person = make_beneficiary(session, counsellor, first_name="Héloïse", last_name="Quintard")
    comment = (
        "Je suis Héloïse QUINTARD, écrivez à heloise.q@exemple.fr ou au 06 12 34 56 78 ; "
        "merci à Camille, très à l'écoute."
    )
    invite(session, counsellor, sent_at=MARCH, positive=True, comment=comment, beneficiary=person)
    log_in(client, session, manager)

    text = client.get(
        f"/rapports/enquetes/commentaires.csv?{PERIOD}&finalite=rapport_activite"
    ).content.decode("utf-8")
    workbook = client.get(
        f"/rapports/enquetes/commentaires.xlsx?{PERIOD}&finalite=rapport_activite"
    ).content
    rows = workbook_rows(workbook)
    title = workbook_sheet(workbook)["A1"].value

    expected = (
        "Je suis [nom] [nom], écrivez à [adresse e-mail] ou au [téléphone] ; "
        "merci à [nom], très à l'écoute."
    )
    assert text.startswith("\ufeffDate de réponse;Enquête;Niveau;Lieu d'accueil;Commentaire")
    assert expected in text
    assert rows[1][1:] == ("Fin de niveau 1", 1, "Non renseigné", expected)
    assert title == (
        "Résultats des enquêtes — Auvergne-Rhône-Alpes — du 1er janvier 2026 au 30 juin 2026"
        " — Commentaires des enquêtes"
    )
    for secret in ("Quintard", "QUINTARD", "exemple.fr", "56 78", "Camille", "zoe"):
        assert secret not in text and secret not in title


@pytest.mark.parametrize(
    "text, expected",
    [
        ("Appelez le 0612345678.", "Appelez le [téléphone]."),
        ("ou +33 6 12 34 56 78", "ou [téléphone]"),
        ("ou 01.23.45.67.89 !", "ou [téléphone] !"),
        ("ou +44 20 7946 0958", "ou [téléphone]"),
        ("mail: a.b-c+d@sous.domaine.fr", "mail: [adresse e-mail]"),
        ("le 12/03/2026 à 14 h, 3 rendez-vous", "le 12/03/2026 à 14 h, 3 rendez-vous"),
        ("Anne-Marie et Marie", "[nom] et [nom]"),
    ],
)
def test_pseudonymising_removes_contacts_and_names_but_not_dates(text, expected):
    assert pseudonymised(text, ["Anne-Marie", "Marie"]) == expected


# ---- who reads them ---------------------------------------------------------------------------


def test_a_counsellor_is_refused_the_managers_page_files_and_api(client, session, counsellor):
    log_in(client, session, counsellor)
    assert client.get("/rapports/enquetes").status_code == 403
    assert client.get("/rapports/enquetes/satisfaction-lieux.csv").status_code == 403
    assert client.get("/rapports/enquetes/commentaires.csv").status_code == 403
    api = client.get(
        "/api/v1/reports/surveys?from=2026-01-01&to=2026-06-30", headers=bearer(counsellor)
    )
    assert api.status_code == 403
    with pytest.raises(Forbidden):
        survey_results(session=session, actor=counsellor, start=START, end=END)


def test_an_operator_admin_reads_the_results(client, session, admin):
    log_in(client, session, admin)
    assert client.get(f"/rapports/enquetes?{PERIOD}").status_code == 200


def own_page(client, year=2026) -> str:
    return html.unescape(client.get(f"/rapports/enquetes/mes-resultats?annee={year}").text)


@pytest.mark.usefixtures("clock")
def test_a_counsellor_sees_her_own_figures_only_from_the_small_count_threshold(
    client, session, ara, counsellor
):
    other = make_staff(session, ara)
    for _ in range(SMALLEST_SHOWN - 1):
        invite(session, counsellor, sent_at=MARCH, positive=True)
    for _ in range(SMALLEST_SHOWN + 4):
        invite(session, other, sent_at=MARCH, positive=True)
    log_in(client, session, counsellor)

    below = own_page(client)
    invite(session, counsellor, sent_at=MARCH, positive=False)
    reached = own_page(client)

    assert "Moins de 11 réponses : résultats non affichés." in below
    assert ">10</td>" not in below and ">15</td>" not in below
    row = reached[reached.index("Satisfaction en fin de niveau</th>") :].split("</tr>")[0]
    assert re.findall(r">([^<]*)</td>", row) == ["11", "11", "100,0", "10", "90,9"]
    assert ">15</td>" not in reached  # never a colleague's


@pytest.mark.usefixtures("clock")
def test_a_counsellor_may_only_choose_a_recent_whole_year(client, session, counsellor):
    log_in(client, session, counsellor)
    page = own_page(client, 2015)
    assert "Choisissez une des cinq dernières années." in page
    assert 'aria-invalid="true"' in page and "Mes résultats, enquêtes envoyées en 2026" in page


# ---- the activity report and the national view --------------------------------------------------


def test_the_activity_report_has_the_survey_section(client, session, counsellor, manager):
    invite(session, counsellor, sent_at=MARCH, positive=True)
    log_in(client, session, manager)

    page = html.unescape(client.get(f"/rapports/activite?{PERIOD}&onglet=qualite").text)
    text = client.get(f"/rapports/activite/enquetes.csv?{PERIOD}").content.decode("utf-8")

    assert "<caption>Enquêtes de satisfaction et d'utilité, par niveau</caption>" in page
    assert f'href="/rapports/enquetes?{PERIOD}"' in page
    assert "Satisfaction en fin de niveau — niveau 1;1;1;100,0;1;100,0" in text


def test_the_national_view_sums_the_operators_and_hides_small_counts(session, ara, bre, observer):
    ara_counsellor, bre_counsellor = make_staff(session, ara), make_staff(session, bre)
    # 20 invited each, 12 answers each: 13 satisfied and 11 not in all.
    for counsellor, satisfied in ((ara_counsellor, 7), (bre_counsellor, 6)):
        for answer in [True] * satisfied + [False] * (12 - satisfied) + [None] * 8:
            invite(session, counsellor, sent_at=MARCH, positive=answer)

    def rows(now=None):
        year = date(2026, 1, 1), date(2026, 12, 31)
        report = national_report(
            session=session, actor=observer, start=year[0], end=year[1], now=now
        )
        return report_rows(report, "enquetes")

    assert rows()["Satisfaction en fin de niveau — niveau 1"] == (40, 24, 60.0, 13, 54.2)
    assert rows()["Utilité à six mois — niveau 1"] == (0, 0, None, 0, None)
    for _ in range(3):
        invite(session, bre_counsellor, sent_at=MARCH, level=2, positive=True)
    # The view changes with the month's snapshot: next month's, which the worker takes, counts them.
    next_month = utcnow() + timedelta(days=32)
    take_national_snapshots(session=session, now=next_month)
    assert rows(next_month)["Satisfaction en fin de niveau — niveau 2"] == (None,) * 5


# ---- one period, every surface ----------------------------------------------------------------


def test_the_pages_the_files_and_the_api_give_the_same_figures(
    client, session, ara, counsellor, manager
):
    site = make_site(session, ara)
    for i in range(7):
        invite(session, counsellor, sent_at=MARCH, site=site, positive=i % 3 > 0 if i < 5 else None)
    for i in range(4):
        invite(session, counsellor, sent_at=MARCH, level=2, positive=i != 1)
    for i in range(5):
        invite(session, counsellor, sent_at=MARCH, utility=True, positive=i < 2 if i < 3 else None)
    invite(session, counsellor, sent_at=datetime(2026, 7, 1, 8, tzinfo=UTC), positive=True)
    log_in(client, session, manager)
    headers = bearer(manager)
    query = "from=2026-01-01&to=2026-06-30"

    api = client.get(f"/api/v1/reports/surveys?{query}", headers=headers).json()
    api_csv = client.get(f"/api/v1/reports/surveys?{query}&format=csv", headers=headers)
    api_xlsx = client.get(f"/api/v1/reports/surveys?{query}&format=xlsx", headers=headers)
    activity_csv = client.get(f"/rapports/activite/enquetes.csv?{PERIOD}")
    activity_xlsx = client.get(f"/rapports/activite/enquetes.xlsx?{PERIOD}")
    activity_page = html.unescape(client.get(f"/rapports/activite?{PERIOD}&onglet=qualite").text)
    results_page = html.unescape(client.get(f"/rapports/enquetes?{PERIOD}").text)
    results_csv = {
        survey: client.get(f"/rapports/enquetes/{survey}-niveaux.csv?{PERIOD}")
        for survey in ("satisfaction", "utility")
    }

    # The API's JSON, as (invited, answered, rate, positive, share) per survey and level.
    expected = {}
    for survey, positive, title in (
        ("satisfaction", "satisfied", "Satisfaction en fin de niveau"),
        ("utility", "useful", "Utilité à six mois"),
    ):
        for level in (1, 2):
            f = api[survey][f"level_{level}"]
            expected[title, level] = (
                f["invited"],
                f["answered"],
                f["rate"],
                f[positive],
                f["share"],
            )
    assert expected["Satisfaction en fin de niveau", 1] == (7, 5, 71.4, 3, 60.0)
    assert expected["Satisfaction en fin de niveau", 2] == (4, 4, 100.0, 3, 75.0)
    assert expected["Utilité à six mois", 1] == (5, 3, 60.0, 2, 66.7)

    def from_csv(response) -> dict:
        lines = response.content.decode("utf-8").lstrip("\ufeff").splitlines()[1:]
        return {line.split(";")[0]: tuple(line.split(";")[1:]) for line in lines}

    def as_text(values) -> tuple:
        # As French spreadsheets read numbers: 71,4.
        return tuple("" if v is None else str(v).replace(".", ",") for v in values)

    def shown(cell):
        # A percentage cell holds 0.714 and shows 71,4 %: compared as the API's 71.4.
        if cell.value is not None and "%" in cell.number_format:
            return round(100 * cell.value, 1)
        return cell.value

    def from_xlsx(response) -> dict:
        sheet = workbook_sheet(response.content)
        rows = sheet.iter_rows(min_row=int(sheet.freeze_panes[1:]))  # below the header
        return {row[0].value: tuple(shown(c) for c in row[1:]) for row in rows}

    def from_page(page: str, label: str) -> tuple:
        row = page[page.index(f'<th scope="row">{label}</th>') :].split("</tr>")[0]
        return tuple(re.findall(r">([^<]*)</td>", row))

    def french(values) -> tuple:
        return tuple("—" if v is None else str(v).replace(".", ",") for v in values)

    for (title, level), values in expected.items():
        label = f"{title} — niveau {level}"
        for response in (api_csv, activity_csv):
            assert from_csv(response)[label] == as_text(values), label
        for response in (api_xlsx, activity_xlsx):
            assert from_xlsx(response)[label] == values, label
        assert from_page(activity_page, label) == french(values), label
        survey = "satisfaction" if title.startswith("Satisfaction") else "utility"
        section = results_page[results_page.index(f'id="section-{survey}-niveaux"') :]
        assert from_page(section, f"Niveau {level}") == french(values), label
        assert from_csv(results_csv[survey])[f"Niveau {level}"] == as_text(values), label
