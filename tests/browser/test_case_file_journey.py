"""A counsellor takes a case's whole file out: from the case page, « Télécharger le dossier »
lists what the ZIP will hold; she ticks one attachment from the keyboard, states the purpose
and downloads; every file of the ZIP matches the SHA-256 its manifest gives, the attachment not
chosen stays out. The page passes the axe-core WCAG 2.1 A/AA check."""

import csv
import hashlib
import io
import json
import zipfile

import pytest
from playwright.sync_api import Page, expect
from sqlmodel import Session, select

from app.models.staff import StaffUser
from app.services.deliverables.documents import issue_deliverable
from tests.browser.conftest import check_accessibility, open_case_tab, sign_in
from tests.factories import draft, kept_file, make_beneficiary, make_case, make_episode

pytestmark = pytest.mark.browser

PERSON = {"first_name": "Éloïse", "last_name": "Fabre-Lacombe", "email": "eloise@exemple.fr"}


def _filed_case(engine, email: str) -> tuple[int, str]:
    """A case with a document de synthèse issued for UO1 and two attachments."""
    with Session(engine, expire_on_commit=False) as session:
        counsellor = session.exec(select(StaffUser).where(StaffUser.email == email)).one()
        person = make_beneficiary(session, counsellor, **PERSON)
        case = make_case(session, counsellor, beneficiary=person)
        episode = make_episode(session, counsellor, case, "UO1")
        deliverable = draft(session, counsellor, case, episode=episode)
        issue_deliverable(session=session, actor=counsellor, deliverable_id=deliverable.id)
        kept_file(session, counsellor, case, filename="Attestation employeur.pdf", description="")
        kept_file(session, counsellor, case, filename="Bulletin de salaire.pdf", description="")
        session.commit()
        return case.id, case.reference


def _manifest(archive: zipfile.ZipFile, reference: str) -> tuple[list[dict], list[list[str]]]:
    lines = json.loads(archive.read(f"{reference}/manifeste.json"))["fichiers"]
    text = archive.read(f"{reference}/manifeste.csv").decode("utf-8-sig")
    return lines, list(csv.reader(io.StringIO(text), delimiter=";"))


def test_a_counsellor_downloads_a_cases_whole_file(page: Page, live_server, engine, screenshot):
    case_id, reference = _filed_case(engine, live_server.counsellor_email)
    sign_in(page, live_server, live_server.counsellor_email)

    page.goto(f"{live_server.url}/cases/{case_id}")
    open_case_tab(page, "Documents")
    page.get_by_role("link", name="Télécharger le dossier").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Télécharger le dossier {reference}")
    documents = page.get_by_role("region", name="Documents émis")
    expect(documents.get_by_text("Document de synthèse, version 1")).to_be_visible()
    chosen = page.get_by_role("checkbox", name="Attestation employeur.pdf")
    left_out = page.get_by_role("checkbox", name="Bulletin de salaire.pdf")
    expect(chosen).not_to_be_checked()  # none ticked in advance
    expect(left_out).not_to_be_checked()
    check_accessibility(page)

    chosen.focus()
    page.keyboard.press("Space")
    expect(chosen).to_be_checked()
    page.get_by_label("Finalité de l'export").select_option(label="Demande de la personne")
    screenshot("case-file-01-page")
    with page.expect_download() as download_info:
        page.get_by_role("button", name="Télécharger le dossier (ZIP)").click()
    download = download_info.value
    assert download.suggested_filename.startswith(f"{reference}_dossier_")
    archive = zipfile.ZipFile(io.BytesIO(download.path().read_bytes()))

    lines, rows = _manifest(archive, reference)
    packed = [line for line in lines if line["fichier"]]
    for line in packed:
        data = archive.read(line["fichier"])
        assert hashlib.sha256(data).hexdigest() == line["sha256"], line["fichier"]
        assert len(data) == line["taille"]
    manifests = {f"{reference}/manifeste.csv", f"{reference}/manifeste.json"}
    assert {line["fichier"] for line in packed} == set(archive.namelist()) - manifests
    assert [line["document"] for line in lines if line["nature"] == "Pièce jointe"] == [
        "Attestation employeur.pdf"
    ]
    assert sorted(line["nature"] for line in packed) == [
        "Accusés de lecture",
        "Livrable émis",
        "Pièce jointe",
    ]
    by_file = {row[0]: row[-1] for row in rows[1:]}
    assert by_file == {line["fichier"]: line["sha256"] for line in packed}
    assert all(name.isascii() for name in archive.namelist())

    # The page is still there, as it was: nothing changed while the file downloaded.
    expect(chosen).to_be_checked()
    check_accessibility(page)
