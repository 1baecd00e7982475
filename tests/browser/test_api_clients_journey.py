"""« Clients d'API » in the browser: the operator's admin creates a client, copies its secret
from the page that shows it once, then revokes the client. Each page passes axe-core."""

import re

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import check_accessibility, sign_in

pytestmark = pytest.mark.browser

CLIENT_NAME = "GED du siège (parcours navigateur)"


def test_admin_creates_a_client_sees_its_secret_once_then_revokes_it(page: Page, live_server):
    sign_in(page, live_server, live_server.admin_email)
    page.goto(f"{live_server.url}/admin/clients-api")
    expect(page.get_by_role("heading", level=1)).to_have_text("Clients d'API")
    check_accessibility(page)

    page.get_by_label("Nom du client").fill(CLIENT_NAME)
    page.get_by_role("button", name="Créer le client").click()
    expect(page.get_by_role("status")).to_contain_text("il ne sera plus jamais affiché")
    expect(page.locator("#new-client-secret")).to_have_text(re.compile(r"^frs_\S+$"))
    secret = page.locator("#new-client-secret").inner_text()
    check_accessibility(page)

    page.get_by_role("button", name=f"Révoquer le client « {CLIENT_NAME} »").click()
    expect(page.get_by_role("status")).to_contain_text("Client d'API révoqué")
    row = page.get_by_role("row").filter(has_text=CLIENT_NAME)
    expect(row).to_contain_text("Révoqué le")
    assert secret not in page.content()
    check_accessibility(page)
