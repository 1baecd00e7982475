"""The « État de service fait » page, its drill-down, its downloads and the API."""

import csv
import html
import io
from datetime import UTC, datetime

import pytest

from tests.downloads import workbook_rows, workbook_sheet
from tests.factories import EXPORT_PURPOSE, bearer, delivered, log_in, unit_id

PERIOD = "du=2026-11-01&au=2026-11-30"
WHEN = datetime(2026, 11, 10, 9, tzinfo=UTC)


@pytest.fixture
def episodes(session, counsellor):
    return [
        delivered(session, counsellor, "UO1", WHEN, proofs="acknowledged"),
        delivered(session, counsellor, "UO1", WHEN),
    ]


def csv_rows(response) -> list[list[str]]:
    text = response.content.decode("utf-8-sig")
    return list(csv.reader(io.StringIO(text), delimiter=";"))


def test_manager_reads_the_ledger_with_links_to_the_cases(client, session, manager, episodes):
    log_in(client, session, manager)
    page = client.get(f"/rapports/etat-de-service?{PERIOD}")
    assert page.status_code == 200
    text = html.unescape(page.text)
    assert "terminé" in text and "Du 1er novembre 2026 au 30 novembre 2026" in text
    uo1 = unit_id(session, "UO1")
    assert f"/rapports/etat-de-service/{uo1}?{PERIOD}&preuves=incompletes" in text
    assert f"/rapports/etat-de-service.csv?{PERIOD}" in text


def test_ledger_defaults_to_the_previous_month(client, session, manager):
    log_in(client, session, manager)
    page = client.get("/rapports/etat-de-service")
    assert page.status_code == 200 and 'name="du"' in page.text


def test_ledger_with_an_inverted_period_shows_the_error(client, session, manager):
    log_in(client, session, manager)
    page = client.get("/rapports/etat-de-service?du=2026-11-30&au=2026-11-01")
    assert "précède son début" in html.unescape(page.text)


def test_counsellor_gets_403(client, session, counsellor):
    log_in(client, session, counsellor)
    assert client.get(f"/rapports/etat-de-service?{PERIOD}").status_code == 403


def test_drill_down_lists_the_incomplete_cases(client, session, manager, episodes):
    log_in(client, session, manager)
    uo1 = unit_id(session, "UO1")
    page = client.get(f"/rapports/etat-de-service/{uo1}?{PERIOD}&preuves=incompletes")
    assert page.status_code == 200
    assert f"/cases/{episodes[1].case_id}?section=documents#livrables" in page.text
    assert f"/cases/{episodes[0].case_id}?section=documents#livrables" not in page.text


def test_ledger_csv_has_a_row_per_unit_and_the_totals(client, session, manager, episodes):
    log_in(client, session, manager)
    answer = client.get(f"/rapports/etat-de-service.csv?{PERIOD}")
    assert answer.status_code == 200 and answer.headers["content-type"].startswith("text/csv")
    rows = csv_rows(answer)
    assert rows[0][:4] == ["Unité", "Libellé", "Facturable", "Réalisées"]
    by_code = {row[0]: row for row in rows[1:]}
    assert by_code["UO1"][3:7] == ["2", "1", "1", "1"]
    assert by_code["Total"][3:7] == ["2", "1", "1", "1"]
    # No lot, no price: the billable unit is counted outside any market, without a price.
    # Then no réfaction: no official control was closed on these units.
    assert by_code["UO1"][7:] == ["Hors marché", "", "0,00", "1", "0", "0,00"]


def test_drill_down_csv_lists_every_episode(client, session, manager, episodes):
    log_in(client, session, manager)
    uo1 = unit_id(session, "UO1")
    rows = csv_rows(client.get(f"/rapports/etat-de-service/{uo1}.csv?{PERIOD}&{EXPORT_PURPOSE}"))
    assert len(rows) == 3 and sorted(row[7] for row in rows[1:]) == ["Complètes", "Incomplètes"]


def test_ledger_xlsx_opens_with_openpyxl(client, session, manager, episodes):
    log_in(client, session, manager)
    answer = client.get(f"/rapports/etat-de-service.xlsx?{PERIOD}")
    values = workbook_rows(answer.content)
    assert values[0][0] == "Unité" and values[-1][0] == "Total" and values[-1][3] == 2
    sheet = workbook_sheet(answer.content)
    assert sheet["A1"].value == (
        "État de service fait — Auvergne-Rhône-Alpes — du 1er novembre 2026 au 30 novembre 2026"
    )
    amount = sheet.cell(sheet.max_row, 10)  # the total, an exact number of euros and cents
    assert amount.value == 0 and amount.number_format == "#,##0.00"


def test_drill_down_xlsx_opens_with_openpyxl(client, session, manager, episodes):
    log_in(client, session, manager)
    uo1 = unit_id(session, "UO1")
    answer = client.get(
        f"/rapports/etat-de-service/{uo1}.xlsx?{PERIOD}&preuves=completes&{EXPORT_PURPOSE}"
    )
    values = workbook_rows(answer.content)
    assert len(values) == 2 and values[1][7] == "Complètes"
    sheet = workbook_sheet(answer.content)
    assert sheet["A1"].value.startswith(
        "État de service fait — Auvergne-Rhône-Alpes — preuves complètes — "
        "du 1er novembre 2026 au 30 novembre 2026 — UO1 "
    )
    assert sheet.title == "État de service fait UO1"
    assert sheet.cell(4, 6).number_format == "dd/mm/yyyy"  # the start, a date


# ---- API ------------------------------------------------------------------------------------

API = "/api/v1/ledger?from=2026-11-01&to=2026-11-30"


def test_api_answers_json(client, manager, episodes):
    answer = client.get(API, headers=bearer(manager))
    assert answer.status_code == 200
    body = answer.json()
    uo1 = next(unit for unit in body["units"] if unit["code"] == "UO1")
    assert (uo1["delivered"], uo1["proof_complete"], uo1["proof_incomplete"]) == (2, 1, 1)
    assert body["totals"]["billable_count"] == 1


def test_api_answers_csv_and_xlsx(client, manager, episodes):
    answer = client.get(API + "&format=csv", headers=bearer(manager))
    assert csv_rows(answer)[-1][0] == "Total"
    answer = client.get(API + "&format=xlsx", headers=bearer(manager))
    assert len(workbook_rows(answer.content)) == len(
        csv_rows(client.get(API + "&format=csv", headers=bearer(manager)))
    )


def test_api_refuses_a_counsellor(client, counsellor):
    assert client.get(API, headers=bearer(counsellor)).status_code == 403


def test_api_requires_the_period(client, manager):
    assert client.get("/api/v1/ledger", headers=bearer(manager)).status_code == 422


def test_api_is_in_the_openapi_document_under_rapports(app):
    operation = app.openapi()["paths"]["/api/v1/ledger"]["get"]
    assert operation["tags"] == ["rapports"] and "403" in operation["responses"]
