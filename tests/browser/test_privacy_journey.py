"""A person's data as the law requires (issue 20, « Done when »): a colleague reads a case
outside his caseload and gives a reason; the admin sees that read in « Journal des accès »,
answers an access request with the archive (the person's data and issued PDF, nothing of
anyone else), then an erasure request that anonymises the person once the case reference is
typed in; the staff search no longer finds them. axe-core WCAG 2.1 A/AA on every page, the
reason's page and the rights queue also at phone width."""

import json
import re
import zipfile
from dataclasses import dataclass

import pytest
from playwright.sync_api import Page, expect
from sqlmodel import Session, select

from app.core.storage import get_storage
from app.models.beneficiaries import Beneficiary
from app.models.deliverables import DeliverableVersion
from app.models.operators import Operator
from app.models.staff import StaffUser
from tests.browser.conftest import SCREENSHOTS, check_accessibility, htmx_idle, sign_in
from tests.factories import (
    PDF,
    kept_file,
    make_beneficiary,
    make_case,
    make_deliverable,
    make_interaction,
)
from tests.privacy.test_retention import close

pytestmark = pytest.mark.browser

COLLEAGUE = "collegue@ara.test"
REASON = "Remplacement de la conseillère absente"
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 900}


@dataclass(frozen=True)
class Followed:
    person_id: int
    case_id: int
    reference: str
    first_name: str
    last_name: str

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name.upper()}"  # as the pages write it


def followed(session: Session, counsellor: StaffUser, first_name: str, last_name: str):
    """A person whose closed case has the counsellor as referent, an interaction, an
    attachment and an issued PDF (its file kept in the storage the live server reads)."""
    email = f"{first_name.lower()}.{last_name.lower()}@exemple.fr"
    person = make_beneficiary(
        session, counsellor, first_name=first_name, last_name=last_name, email=email
    )
    case = make_case(session, counsellor, person, request_text=f"Projet de {first_name}")
    make_interaction(session, counsellor, case, summary=f"Premier échange avec {first_name}")
    kept_file(session, counsellor, case, filename=f"CV_{last_name}.pdf")
    deliverable = make_deliverable(session, case, "document_synthese")
    for version in session.exec(
        select(DeliverableVersion).where(DeliverableVersion.deliverable_id == deliverable.id)
    ):
        version.storage_key = get_storage().save(PDF)  # the builder's placeholder has no file
        session.add(version)
    close(session, case, case.opened_at)  # an open case would keep the data (erasure refused)
    return Followed(person.id, case.id, case.reference, first_name, last_name)


@pytest.fixture
def two_people(engine, live_server):
    """Gaëlle Quintavalle, whose file is read, asked for and erased, and Honoré Brisebarre,
    followed by the same counsellor, who must appear nowhere in her archive. The operator asks
    for a reason to read outside one's own cases (its default), as it is left afterwards."""
    with Session(engine, expire_on_commit=False) as session:
        counsellor = session.exec(
            select(StaffUser).where(StaffUser.email == live_server.counsellor_email)
        ).one()
        operator = session.get(Operator, counsellor.operator_id)
        asked_before = operator.reason_for_outside_reads
        operator.reason_for_outside_reads = True
        session.add(operator)
        asked = followed(session, counsellor, "Gaëlle", "Quintavalle")
        other = followed(session, counsellor, "Honoré", "Brisebarre")
        session.commit()
    yield asked, other
    with Session(engine) as session:
        operator = session.get(Operator, operator.id)
        operator.reason_for_outside_reads = asked_before
        session.add(operator)
        session.commit()


def shot(page: Page, name: str) -> None:
    SCREENSHOTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"journey-privacy-{name}.png"), full_page=True)


def check_both_widths(page: Page, name: str) -> None:
    """axe-core at desktop width, then at 390 px where the page must not scroll sideways."""
    check_accessibility(page)
    shot(page, name)
    page.set_viewport_size(PHONE)
    htmx_idle(page)
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"], f"{page.url} is {width}px wide at phone width"
    check_accessibility(page)
    shot(page, f"{name}-phone")
    page.set_viewport_size(DESKTOP)


def signed_in(page: Page, live_server, email: str) -> None:
    """Sign in from the login page; both it and the home page pass axe-core."""
    page.goto(f"{live_server.url}/login")
    check_accessibility(page)
    sign_in(page, live_server, email)
    check_accessibility(page)


def search_people(page: Page, text: str) -> None:
    """The search box of the header, as staff use it, then the results page."""
    box = page.get_by_label("Rechercher une personne ou un dossier")
    box.fill(text)
    box.press("Enter")
    expect(page.get_by_role("heading", level=1)).to_have_text("Recherche")
    expect(page.get_by_role("heading", name=re.compile("^Personnes"))).to_be_visible()
    check_accessibility(page)


def record_request(page: Page, person: Followed, kind: str) -> None:
    """From the rights queue: find the person, record a request of `kind` received today."""
    expect(page.get_by_role("heading", level=1)).to_have_text("Demandes d'exercice des droits")
    finder = page.get_by_role("search", name="Trouver la personne")
    finder.get_by_role("searchbox").fill(person.last_name)
    finder.get_by_role("button", name="Rechercher").click()
    candidate = page.get_by_role("radio", name=f"{person.full_name} — {person.reference}")
    expect(candidate).to_be_checked()  # the only one found
    page.get_by_label("Droit exercé").select_option(label=kind)
    page.get_by_label("Reçue par").select_option(label="Courriel")
    check_accessibility(page)
    page.get_by_role("button", name="Enregistrer la demande").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(f"{kind} — {person.full_name}")
    check_accessibility(page)


def test_a_read_outside_the_caseload_then_access_and_erasure_requests(
    page: Page, live_server, engine, two_people, tmp_path
):
    asked, other = two_people

    # 1. Bruno Durand finds the person; her case is not his: he says why before reading it.
    signed_in(page, live_server, COLLEAGUE)
    search_people(page, asked.last_name)
    page.get_by_role("link", name=asked.full_name).click()
    expect(page).to_have_url(re.compile(rf"/beneficiaries/{asked.person_id}/motif"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Motif de la consultation")
    check_both_widths(page, "01-reason")
    page.get_by_role("button", name="Consulter le dossier").click()  # no reason yet: refused
    expect(page.locator("#reason-error")).to_be_visible()
    check_accessibility(page)
    page.get_by_label("Motif").fill(REASON)
    page.get_by_role("button", name="Consulter le dossier").click()
    expect(page).to_have_url(f"{live_server.url}/beneficiaries/{asked.person_id}")
    check_accessibility(page)
    page.get_by_role("link", name=asked.reference).first.click()  # the reason stands
    expect(page).to_have_url(f"{live_server.url}/cases/{asked.case_id}")
    expect(page.get_by_text(asked.reference).first).to_be_visible()
    check_accessibility(page)
    page.get_by_role("button", name="Se déconnecter").click()
    expect(page).to_have_url(re.compile("/login"))

    # 2. The admin reads that read, with its reason, in « Journal des accès ».
    signed_in(page, live_server, live_server.admin_email)
    page.get_by_role("link", name="Administration").click()
    check_accessibility(page)
    page.get_by_role("link", name="Journal des accès").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Journal des accès")
    check_accessibility(page)
    page.get_by_label("Personne", exact=True).fill(asked.reference)
    page.get_by_role("button", name="Filtrer").click()
    reads = page.get_by_role("row").filter(has_text=live_server.colleague_name)
    expect(reads.filter(has_text=REASON).first).to_be_visible()
    expect(page.get_by_role("row").filter(has_text=other.full_name)).to_have_count(0)
    codes = page.get_by_role("cell").filter(has_text=re.compile(r"\b[a-z]+_[a-z_]+\b"))
    expect(codes).to_have_count(0)  # each kind of record in words, not its code
    check_accessibility(page)
    shot(page, "02-journal")

    # 3. An access request, answered with the archive prepared in the background.
    page.get_by_role("link", name="Administration").click()
    page.get_by_role("link", name="Demandes d'exercice des droits").click()
    check_both_widths(page, "03-queue")
    record_request(page, asked, "Accès (art. 15)")
    page.get_by_role("button", name="Préparer l'archive").click()
    download_link = page.get_by_role("link", name=re.compile("^Télécharger l'archive"))
    expect(download_link).to_be_visible(timeout=30_000)
    bar = page.locator("progress#archive-bar")
    expect(bar).to_have_attribute("value", bar.get_attribute("max"))
    check_accessibility(page)
    shot(page, "04-archive")
    with page.expect_download() as download:
        download_link.click()
    path = tmp_path / download.value.suggested_filename
    download.value.save_as(path)
    with zipfile.ZipFile(path) as archive:
        names = archive.namelist()
        data = json.loads(archive.read("donnees.json"))
        everything = (" ".join(names) + archive.read("donnees.json").decode()).casefold()
        pdfs = [name for name in names if name.startswith("documents/")]
        assert pdfs and all(archive.read(name).startswith(b"%PDF") for name in pdfs)
    assert data["personne"]["last_name"].casefold() == asked.last_name.casefold()
    assert [case["reference"] for case in data["dossiers"]] == [asked.reference]
    assert any(name.startswith("pieces-jointes/") for name in names)
    assert any(access["role"] for access in data["acces_a_votre_dossier"])
    for trace in (other.last_name, other.first_name, other.reference):
        assert trace.casefold() not in everything

    # 4. An erasure request: a wrong reference changes nothing, the right one anonymises.
    page.get_by_role("link", name="← Demandes d'exercice des droits").click()
    check_accessibility(page)
    record_request(page, asked, "Effacement (art. 17)")
    confirm = page.get_by_label("Pour confirmer, saisissez la référence d'un de ses dossiers")
    confirm.fill(other.reference)
    page.get_by_role("button", name="Effacer définitivement").click()
    wrong = page.get_by_text("La référence saisie n'est pas celle d'un dossier").first
    expect(wrong).to_be_visible()
    check_accessibility(page)
    with Session(engine) as session:
        assert session.get(Beneficiary, asked.person_id).anonymised_at is None
    confirm.fill(asked.reference)
    page.get_by_role("button", name="Effacer définitivement").click()
    expect(page.get_by_role("heading", level=1)).not_to_contain_text(
        re.compile(asked.last_name, re.I)
    )
    expect(page.get_by_text("Données effacées").first).to_be_visible()
    check_accessibility(page)
    shot(page, "05-erased")
    with Session(engine) as session:
        person = session.get(Beneficiary, asked.person_id)
        assert person.anonymised_at is not None
        kept = f"{person.first_name} {person.last_name} {person.email}".casefold()
        assert asked.last_name.casefold() not in kept
    page.get_by_role("button", name="Se déconnecter").click()
    expect(page).to_have_url(re.compile("/login"))

    # 5. The staff search no longer finds her, while it still finds the other person.
    signed_in(page, live_server, COLLEAGUE)
    search_people(page, asked.last_name)
    expect(page.get_by_text("Aucune personne trouvée.")).to_be_visible()
    search_people(page, other.last_name)
    expect(page.get_by_role("link", name=other.full_name)).to_be_visible()
