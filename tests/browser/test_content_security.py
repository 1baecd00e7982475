"""Under the Content-Security-Policy, as a browser enforces it: pages, an htmx swap and the
API's documentation run without one refusal (`policy_refusals`, conftest.py) and without an
uncaught error.
"""

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import sign_in

pytestmark = pytest.mark.browser

# ReDoc 3's bundle shows its maker's logo from this address, written in its code: the policy
# keeps it out (the sidebar's footer then shows its text alone), and says so in the console.
REDOC_LOGO = "https://cdn.redoc.ly/redoc/logo-mini-full.svg"


@pytest.fixture
def page_errors(page: Page) -> list[str]:
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    return errors


def test_pages_and_an_htmx_search_run_under_the_policy(
    page: Page, live_server, policy_refusals, page_errors
):
    base = live_server.url
    sign_in(page, live_server, live_server.manager_email)

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


def test_swagger_ui_runs_under_the_policy(page: Page, live_server, policy_refusals, page_errors):
    sign_in(page, live_server, live_server.counsellor_email)

    page.goto(f"{live_server.url}/docs")

    expect(page.locator(".swagger-ui .info .title")).to_contain_text("Fil rouge")
    # « Try it out » calls the app itself (connect-src 'self') and shows the answer.
    operation = page.locator(".swagger-ui .opblock").filter(has_text="/healthz")
    operation.locator(".opblock-summary").click()
    operation.get_by_role("button", name="Try it out").click()
    operation.get_by_role("button", name="Execute").click()
    expect(operation.locator(".live-responses-table")).to_contain_text('"status": "ok"')
    assert policy_refusals == []
    assert page_errors == []


def test_redoc_runs_under_the_policy(page: Page, live_server, policy_refusals, page_errors):
    sign_in(page, live_server, live_server.counsellor_email)

    page.goto(f"{live_server.url}/redoc")

    expect(page.get_by_role("heading", level=1).first).to_contain_text("Fil rouge")
    page.get_by_role("link", name="dossiers", exact=True).click()
    expect(page.get_by_role("heading", name="dossiers").first).to_be_visible()
    policy_refusals[:] = [refusal for refusal in policy_refusals if REDOC_LOGO not in refusal]
    assert policy_refusals == []
    assert page_errors == []
