"""Under the Content-Security-Policy, as a browser enforces it: pages and an htmx swap run
without one refusal (`policy_refusals`, conftest.py) and without an uncaught error.
"""

import pytest
from playwright.sync_api import Page, expect

pytestmark = pytest.mark.browser


@pytest.fixture
def page_errors(page: Page) -> list[str]:
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    return errors


def log_in(page: Page, live_server, email: str) -> None:
    page.goto(f"{live_server.url}/login")
    page.get_by_label("Adresse e-mail").fill(email)
    page.get_by_label("Mot de passe").fill(live_server.password)
    page.get_by_label("Mot de passe").press("Enter")
    expect(page).to_have_url(f"{live_server.url}/")


def test_pages_and_an_htmx_search_run_under_the_policy(
    page: Page, live_server, policy_refusals, page_errors
):
    base = live_server.url
    log_in(page, live_server, live_server.manager_email)

    for path in ("/", "/triage", "/agenda", "/partenaires", "/rapports/activite", "/nulle-part"):
        page.goto(f"{base}{path}")
        expect(page.locator("main h1")).to_be_visible()

    # htmx still swaps: the look-up of a new request answers in place, without navigating.
    page.goto(f"{base}/triage/new")
    page.get_by_role("searchbox", name="Nom, e-mail ou téléphone").press_sequentially("Zyx")
    expect(page.locator("#matches")).to_contain_text("Personne ne correspond à « Zyx »")
    expect(page).to_have_url(f"{base}/triage/new")
    # htmx's indicator rule comes from app.css, not from a <style> htmx would inject.
    assert page.locator("style").count() == 0

    assert policy_refusals == []
    assert page_errors == []
