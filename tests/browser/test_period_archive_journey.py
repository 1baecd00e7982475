"""A manager archives the deliverables of a period: chooses the counsellor on the form (which
counts the documents), watches the worker build the archive, downloads it, and every file's
SHA-256 matches the manifest, whose own SHA-256 is in `manifest.sha256`. axe-core WCAG 2.1
A/AA on the form and on the progress page."""

import hashlib
import json
import threading
import zipfile

import pytest
from playwright.sync_api import Page, expect
from sqlmodel import Session, select

from app.core.db import build_engine
from app.models.deliverables import DeliverableDraft
from app.models.operators import Operator, Site
from app.models.staff import StaffSite
from app.services.deliverables.documents import issue_deliverable, start_draft
from app.worker import run_pack_loop
from tests.browser.conftest import check_accessibility, sign_in
from tests.factories import deliverable_kind, make_case, make_staff

pytestmark = pytest.mark.browser

ISSUER = "Archibald Versini"


@pytest.fixture(scope="module")
def issued_references(browser_database_url, live_server):
    """Two cases at the manager's site, each with a summary issued by a counsellor of its own
    (so that the archive holds these documents only, whatever other journeys issued)."""
    engine = build_engine(browser_database_url)
    with Session(engine, expire_on_commit=False) as session:
        site = session.exec(select(Site).where(Site.name == live_server.site_name)).one()
        operator_id = site.operator_id
        issuer = make_staff(session, session.get(Operator, operator_id), full_name=ISSUER)
        session.add(StaffSite(staff_id=issuer.id, site_id=site.id))
        references = []
        for _ in range(2):
            case = make_case(session, issuer, site_id=site.id)
            kind = deliverable_kind(session, operator_id, "document_synthese")
            draft = start_draft(
                session=session,
                actor=issuer,
                case_id=case.id,
                data=DeliverableDraft(kind_id=kind.id),
            )
            issue_deliverable(session=session, actor=issuer, deliverable_id=draft.id)
            references.append(case.reference)
        session.commit()
    engine.dispose()
    return references


@pytest.fixture
def worker(engine):
    """The worker's building loop, as `filrouge worker` runs it, on the live server's database."""
    stop = threading.Event()
    thread = threading.Thread(
        target=run_pack_loop,
        kwargs={"echo": lambda _line: None, "stop": stop, "interval": 0.2, "engine": engine},
        daemon=True,
    )
    thread.start()
    yield
    stop.set()
    thread.join(timeout=30)


def test_manager_builds_a_periods_archive_and_every_file_matches_its_manifest(
    page: Page, live_server, issued_references, worker, screenshot, tmp_path
):
    sign_in(page, live_server, live_server.manager_email)
    page.goto(f"{live_server.url}/admin")
    page.get_by_role("link", name="Archives des livrables").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Archives des livrables")
    check_accessibility(page)

    page.get_by_label(ISSUER).check()  # the form counts again on every change
    expect(page.locator("#archive-count")).to_contain_text("2 documents")
    page.get_by_label("Versions émises seulement").check()
    screenshot("archive-01-form")
    page.get_by_role("button", name="Préparer l'archive").click()

    expect(page.get_by_role("heading", level=1)).to_contain_text("Archive des livrables n°")
    panel = page.locator("#archive-panel")
    bar = page.locator("progress#archive-bar")
    expect(bar).to_have_attribute("aria-valuemax", "2")
    disclosure = panel.locator("summary")
    expect(disclosure).to_contain_text("Télécharger l'archive", timeout=30_000)
    expect(bar).to_have_attribute("aria-valuenow", "2")
    expect(panel.get_by_role("button", name="Annuler")).to_have_count(0)
    check_accessibility(page)
    screenshot("archive-02-ready")

    panel.get_by_label("Finalité de l'export").select_option("autre")
    panel.get_by_label("Précision").fill("Archivage dans la GED")
    with page.expect_download() as download:
        panel.get_by_role("button", name="Télécharger", exact=True).click()
    path = tmp_path / download.value.suggested_filename
    download.value.save_as(path)

    with zipfile.ZipFile(path) as archive:
        names = archive.namelist()
        manifest = json.loads(archive.read("manifeste.json"))
        listed = {entry["fichier"]: entry["sha256"] for entry in manifest["fichiers"]}
        assert set(names) == set(listed) | {"manifeste.csv", "manifeste.json", "manifest.sha256"}
        for name, digest in listed.items():
            assert hashlib.sha256(archive.read(name)).hexdigest() == digest, name
        sums = archive.read("manifest.sha256").decode().splitlines()
        for line in sums:
            digest, name = line.split("  ")
            assert hashlib.sha256(archive.read(name)).hexdigest() == digest, name
        assert all(info.flag_bits & 0x800 for info in archive.infolist())
    assert {entry["dossier"] for entry in manifest["fichiers"]} == set(issued_references)
    assert all(name.split("/")[0] in issued_references for name in listed)
