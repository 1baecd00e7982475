"""A manager reads the activity report (charts with their data tables) and the unit ledger,
and downloads a table; axe-core WCAG 2.1 A/AA on each page."""

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import check_accessibility

pytestmark = pytest.mark.browser


def test_manager_reads_the_report_and_the_ledger(page: Page, live_server, screenshot):
    page.goto(f"{live_server.url}/login")
    page.get_by_label("Adresse e-mail").fill(live_server.manager_email)
    page.get_by_label("Mot de passe").fill(live_server.password)
    page.get_by_label("Mot de passe").press("Enter")

    page.get_by_role("link", name="Rapports").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("activité")
    expect(page.locator("svg[role=img]").first).to_be_attached()
    check_accessibility(page)
    screenshot("reports-01-activity")
    with page.expect_download() as download:
        page.get_by_role("link", name="CSV").first.click()
    assert download.value.suggested_filename.endswith(".csv")

    page.get_by_role("link", name="État de service fait").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("service fait")
    check_accessibility(page)
    screenshot("reports-02-ledger")


def test_observer_reads_the_national_view_by_calendar_year(
    page: Page, live_server, browser_database_url, screenshot
):
    from datetime import date

    from sqlmodel import Session

    from app.core.db import build_engine
    from app.models.nomenclatures import Role
    from tests.factories import make_staff

    engine = build_engine(browser_database_url)
    with Session(engine) as session:
        observer = make_staff(session, None, Role.NATIONAL_OBSERVER, email="observateur@test.fr")
        session.commit()
        email = observer.email
    engine.dispose()

    page.goto(f"{live_server.url}/login")
    page.get_by_label("Adresse e-mail").fill(email)
    page.get_by_label("Mot de passe").fill(live_server.password)
    page.get_by_label("Mot de passe").press("Enter")

    expect(page.get_by_role("heading", level=1)).to_have_text("Vue nationale")
    year = str(date.today().year)
    page.get_by_label("Année civile").select_option(year)
    page.get_by_role("button", name="Afficher").click()
    expect(page.get_by_text(f"Année {year}, du 1er janvier {year}")).to_be_visible()
    expect(page.locator("svg[role=img]").first).to_be_attached()
    check_accessibility(page)
    screenshot("reports-03-national")
