"""An anonymised person is found by name, e-mail or phone nowhere: the staff search, the
API's search and list, the ledger's download with names."""

from datetime import UTC, datetime

import pytest

from app.core.errors import NotFound
from app.models.beneficiaries import Beneficiary
from app.models.deliverables import DeliverableVersion
from app.services.deliverables.documents import DELETED_WITH_THE_PERSON, version_pdf
from app.services.privacy.anonymise import anonymise
from tests.downloads import workbook_rows
from tests.factories import (
    EXPORT_PURPOSE,
    delivered,
    kept_file,
    log_in,
    make_beneficiary,
    make_case,
    unit_id,
)

WHEN = datetime(2026, 11, 10, 9, tzinfo=UTC)
NAME, EMAIL, PHONE = "Garnier", "ines.garnier@exemple.fr", "0623456789"
ASKED = ["Garnier", "Inès", EMAIL, PHONE, "+33623456789"]


@pytest.fixture
def anonymised(session, counsellor, clock, storage_dir) -> Beneficiary:
    """Inès Garnier, followed in November, then anonymised; a namesake stays to be found."""
    person = make_beneficiary(
        session, counsellor, first_name="Inès", last_name=NAME, email=EMAIL, phone=PHONE
    )
    delivered(session, counsellor, "UO1", WHEN, case=make_case(session, counsellor, person))
    anonymise(session=session, person=person, now=clock)
    make_beneficiary(session, counsellor, first_name="Paul", last_name=NAME)
    return person


def visible(text: str) -> bool:
    """Whether the anonymised person's name, e-mail or phone appears."""
    return "Inès" in text or EMAIL in text or "06 23 45 67 89" in text or PHONE in text


@pytest.mark.parametrize("query", ASKED)
def test_the_staff_search_no_longer_finds_them(client, session, counsellor, anonymised, query):
    log_in(client, session, counsellor)
    page = client.get("/search", params={"q": query}, headers={"HX-Request": "true"})
    assert page.status_code == 200
    assert f'href="/beneficiaries/{anonymised.id}"' not in page.text
    # The search works: the namesake is found, and only them.
    expected = 'Personnes <span class="muted">(1)' if query == NAME else "Aucune personne"
    assert expected in page.text


@pytest.mark.parametrize("query", ASKED)
def test_the_api_search_no_longer_finds_them(api, anonymised, query):
    found = api.get("/api/v1/beneficiaries", params={"q": query}).json()
    assert anonymised.id not in [person["id"] for person in found]
    assert [person["first_name"] for person in found] == (["Paul"] if query == NAME else [])


def test_the_api_list_shows_them_without_identity(api, anonymised):
    listed = {person["id"]: person for person in api.get("/api/v1/beneficiaries").json()}
    shown = listed[anonymised.id]
    assert (shown["last_name"], shown["email"], shown["phone"]) == ("anonymisée", None, None)
    assert not visible(str(shown))


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_the_ledger_download_no_longer_names_them(client, session, manager, anonymised, fmt):
    log_in(client, session, manager)
    uo1 = unit_id(session, "UO1")
    answer = client.get(
        f"/rapports/etat-de-service/{uo1}.{fmt}?du=2026-11-01&au=2026-11-30&{EXPORT_PURPOSE}"
    )
    assert answer.status_code == 200
    if fmt == "csv":
        text = answer.content.decode("utf-8-sig")
        assert "Personne ANONYMISÉE" in text and NAME not in text
    else:
        cells = str(workbook_rows(answer.content))
        assert "Personne ANONYMISÉE" in cells and NAME not in cells


def test_their_files_are_gone_with_a_french_message(
    client, session, counsellor, clock, storage_dir
):
    case = make_case(session, counsellor)
    attachment = kept_file(session, counsellor, case)
    anonymise(session=session, person=session.get(Beneficiary, case.beneficiary_id), now=clock)
    log_in(client, session, counsellor)
    answer = client.get(f"/attachments/{attachment.id}/download")
    assert answer.status_code == 404
    assert "la personne a été anonymisée" in answer.text
    with pytest.raises(NotFound, match=DELETED_WITH_THE_PERSON):
        version_pdf(DeliverableVersion(storage_key="x", file_deleted_at=clock))


def test_their_page_says_they_were_anonymised(client, session, counsellor, anonymised):
    log_in(client, session, counsellor)
    page = client.get(f"/beneficiaries/{anonymised.id}")
    assert page.status_code == 200
    assert "Personne anonymisée le 2 décembre 2026" in page.text
    assert not visible(page.text.replace("Personne anonymisée", ""))
