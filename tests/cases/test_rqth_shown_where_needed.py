"""A person's disability recognition (RQTH) is shown on their own record, and counted in the
aggregated reports; never in a list of people (caseload, search, triage, API lists) nor in an
export of cases."""

import csv
import io

from app.models.nomenclatures import Rqth
from tests.factories import EXPORT_PURPOSE, bearer, log_in, make_beneficiary, make_case, unit_id
from tests.reports.test_ledger_routes import PERIOD
from tests.reports.test_ledger_routes import episodes as episodes  # noqa: F401 (a fixture)

RQTH_WORDS = ("RQTH", "handicap")


def _recognised(session, counsellor):
    person = make_beneficiary(session, counsellor, last_name="Zephyrin")
    person.rqth = Rqth.YES
    session.add(person)
    session.flush()
    return make_case(session, counsellor, beneficiary=person)


def test_the_persons_own_page_shows_it(client, session, counsellor, csrf):
    case = _recognised(session, counsellor)
    page = client.get(f"/beneficiaries/{case.beneficiary_id}").text
    assert "(RQTH)" in page


def test_lists_of_people_never_show_it(client, session, counsellor, csrf):
    _recognised(session, counsellor)
    for url in (
        "/",
        "/mes-dossiers",
        "/mes-dossiers/sans-activite",
        "/search?q=Zephyrin",
        "/triage",
    ):
        answer = client.get(url)
        assert answer.status_code == 200, url
        assert not any(word in answer.text for word in RQTH_WORDS), url
    assert "Zephyrin".upper() in client.get("/search?q=Zephyrin").text.upper()


def test_the_api_lists_people_without_it_and_the_record_has_it(client, session, counsellor):
    case = _recognised(session, counsellor)
    headers = bearer(counsellor)
    for params in ({}, {"q": "Zephyrin"}):
        listed = client.get("/api/v1/beneficiaries", params=params, headers=headers).json()
        assert listed and all("rqth" not in person for person in listed)
    one = client.get(f"/api/v1/beneficiaries/{case.beneficiary_id}", headers=headers).json()
    assert one["rqth"] == "oui"


def test_the_export_of_cases_has_no_rqth_column(
    client,
    session,
    manager,
    episodes,  # noqa: F811
):
    log_in(client, session, manager)
    url = f"/rapports/etat-de-service/{unit_id(session, 'UO1')}.csv?{PERIOD}&{EXPORT_PURPOSE}"
    text = client.get(url).content.decode("utf-8-sig")
    header = next(row for row in csv.reader(io.StringIO(text), delimiter=";") if "Dossier" in row)
    assert not any(word in cell for cell in header for word in RQTH_WORDS)
