"""A manager answers a control: reads the report's charts and the ledger, draws a sample of last
month's units, watches the proof pack being prepared and downloads it; the ZIP holds exactly
what its manifest lists, with matching hashes. axe-core WCAG 2.1 A/AA on each page."""

import json
import zipfile
from datetime import timedelta

import pytest
from playwright.sync_api import Page, expect
from sqlmodel import Session, select

from app.core.db import build_engine
from app.core.storage import sha256_of
from app.models.base import utcnow
from app.models.cases import Episode
from app.models.deliverables import AcknowledgementMethod, DeliverableDraft
from app.models.staff import StaffUser
from app.services.deliverables.documents import issue_deliverable, start_draft
from app.services.reports.ledger import previous_month
from tests.browser.conftest import check_accessibility
from tests.factories import make_case, paris_today, unit_id

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def last_month_units(browser_database_url, live_server):
    """Two cases whose UO1 ended last month, each with its summary issued and acknowledged."""
    engine = build_engine(browser_database_url)
    # Last month where the site is, as the campaign page reads it: by UTC, on the last evening
    # of a month, it would be the month before (the live server's clock cannot be moved).
    first_day, _ = previous_month(paris_today())
    with Session(engine, expire_on_commit=False) as session:
        counsellor = session.exec(
            select(StaffUser).where(StaffUser.email == live_server.counsellor_email)
        ).one()
        references = []
        for _ in range(2):
            case = make_case(session, counsellor)
            ended = utcnow().replace(year=first_day.year, month=first_day.month, day=10)
            episode = Episode(
                operator_id=case.operator_id,
                case_id=case.id,
                unit_id=unit_id(session, "UO1"),
                started_at=ended - timedelta(days=2),
                ended_at=ended,
            )
            session.add(episode)
            session.flush()
            draft = start_draft(
                session=session,
                actor=counsellor,
                case_id=case.id,
                data=DeliverableDraft(kind_id=_summary_kind(session), episode_id=episode.id),
            )
            version = issue_deliverable(session=session, actor=counsellor, deliverable_id=draft.id)
            version.acknowledged_at = ended
            version.acknowledgement_method = AcknowledgementMethod.ONLINE.value
            references.append(case.reference)
        session.commit()
    engine.dispose()
    return references


def _summary_kind(session) -> int:
    from app.models.catalogue import DeliverableKind

    statement = select(DeliverableKind.id).where(DeliverableKind.code == "synthese_entretien")
    return session.exec(statement).first()


def test_manager_draws_a_sample_and_downloads_its_proof_pack(
    page: Page, live_server, last_month_units, screenshot, tmp_path
):
    page.goto(f"{live_server.url}/login")
    page.get_by_label("Adresse e-mail").fill(live_server.manager_email)
    page.get_by_label("Mot de passe").fill(live_server.password)
    page.get_by_label("Mot de passe").press("Enter")

    page.get_by_role("link", name="Rapports").click()
    expect(page.locator("svg[role=img]").first).to_be_attached()
    page.get_by_role("link", name="État de service fait").click()
    expect(page.get_by_role("status").first).to_contain_text("réalisée")

    page.get_by_role("link", name="Contrôles").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Campagnes de contrôle")
    check_accessibility(page)
    page.get_by_label("Nombre d'unités").fill("50")  # more than last month's: all of them
    page.get_by_label("Pseudonymiser").check()
    page.get_by_role("button", name="Tirer l'échantillon").click()

    expect(page.get_by_role("heading", level=1)).to_contain_text("Campagne de contrôle n°")
    expect(page.locator("progress#pack-bar")).to_be_attached()
    pack = page.locator("#pack-progress")
    disclosure = pack.locator("summary")  # the export asks its purpose first
    expect(disclosure).to_contain_text("Télécharger le dossier de preuves", timeout=30_000)
    bar = page.locator("progress#pack-bar")
    expect(bar).to_have_attribute("value", bar.get_attribute("max"))
    check_accessibility(page)
    screenshot("control-01-campaign")
    for reference in last_month_units:
        expect(page.get_by_role("link", name=reference)).to_be_visible()

    disclosure.click()
    pack.get_by_label("Finalité de l'export").select_option("controle_service_fait")
    with page.expect_download() as download:
        pack.get_by_role("button", name="Télécharger le ZIP").click()
    path = tmp_path / download.value.suggested_filename
    download.value.save_as(path)
    with zipfile.ZipFile(path) as archive:
        manifest = json.loads(archive.read("manifeste.json"))
        listed = {f["chemin"]: f["sha256"] for u in manifest["unites"] for f in u["fichiers"]}
        assert set(archive.namelist()) == set(listed) | {"manifeste.csv", "manifeste.json"}
        assert all(sha256_of(archive.read(name)) == digest for name, digest in listed.items())
    assert set(last_month_units) <= {unit["dossier"] for unit in manifest["unites"]}
    assert all(unit["beneficiaire"].startswith("P-") for unit in manifest["unites"])
