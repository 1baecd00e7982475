"""UO4 in the browser: the operator's admin records a training of two counsellors (a bad
amount refused first, by its field), the year's summary shows it in euros with the lot's
budget not yet known, and the counsellor's staff page shows the hours. Every page passes the
axe-core WCAG 2.1 A/AA check."""

from datetime import date

import pytest
from playwright.sync_api import Page, expect

from app.core.dates import local_today
from tests.browser.conftest import check_accessibility, sign_in

pytestmark = pytest.mark.browser


def test_admin_records_a_training_seen_in_the_summary_and_on_the_staff_page(
    page: Page, live_server
):
    today = local_today("Europe/Paris")
    held = date(today.year, 1, 15)
    sign_in(page, live_server, live_server.admin_email)
    nav = page.get_by_role("navigation", name="Navigation principale")
    nav.get_by_role("link", name="Administration").click()
    page.get_by_role("link", name="UO4 — qualité du service, moyens et pilotage").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("UO4")
    expect(page.get_by_text("Budget UO4 du lot non renseigné")).to_be_visible()
    check_accessibility(page)

    page.get_by_role("link", name="Enregistrer une action").click()
    page.get_by_label("Type d'action").select_option(label="Formation des conseiller·ères")
    page.get_by_label("Intitulé").fill("Entretien motivationnel")
    page.get_by_label("Date (ou date de début)").fill(held.isoformat())
    page.get_by_label("Montant (€)").fill("1 250,505")
    page.get_by_label("Durée (heures)").fill("7")
    page.get_by_role("checkbox", name=live_server.counsellor_name).check()
    page.get_by_role("checkbox", name=live_server.colleague_name).check()
    page.get_by_label(f"Heures suivies par {live_server.colleague_name}").fill("3,5")
    page.get_by_role("button", name="Enregistrer l'action").click()

    # Three decimals: said by the field, what was typed kept.
    expect(page.locator("#amount-error")).to_contain_text("deux décimales au plus")
    expect(page.get_by_label("Intitulé")).to_have_value("Entretien motivationnel")
    expect(page.get_by_role("checkbox", name=live_server.colleague_name)).to_be_checked()
    check_accessibility(page)
    page.get_by_label("Montant (€)").fill("1 250,50")
    page.get_by_role("button", name="Enregistrer l'action").click()
    expect(page.get_by_role("status")).to_contain_text("Action enregistrée.")
    expect(page.locator(".uo4-detail").first).to_contain_text(
        f"{live_server.colleague_name} (3,5\u00a0h)"
    )
    check_accessibility(page)

    page.get_by_role("link", name="← UO4").click()
    row = page.get_by_role("row", name="Formation des conseiller·ères")
    expect(row.get_by_role("cell").nth(0)).to_have_text("1\u202f250,50\u00a0€")  # T1
    expect(row.get_by_role("cell").nth(4)).to_have_text("1\u202f250,50\u00a0€")  # total
    expect(page.get_by_role("link", name="Entretien motivationnel")).to_be_visible()
    check_accessibility(page)

    nav.get_by_role("link", name="Administration").click()
    page.get_by_role("link", name="Équipe").click()
    page.get_by_role("link", name=live_server.counsellor_name).click()
    trainings = page.get_by_role("region", name="Formations (UO4)")
    expect(trainings).to_contain_text(f"7\u00a0h de formation en {today.year}.")
    expect(trainings.get_by_role("link", name="Entretien motivationnel")).to_be_visible()
    check_accessibility(page)
