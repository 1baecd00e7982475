"""Two-factor sign-in in the browser: a manager of an operator that requires it (the default)
is sent from the password to the enrolment, adds the account to an « app » (pyotp, reading
the key shown), keeps the recovery codes shown once, signs out, and signs in again with a
code after a wrong one. Every page passes the axe-core WCAG 2.1 A/AA check."""

import time

import pyotp
import pytest
from playwright.sync_api import Page, expect
from sqlmodel import Session

from app.models.nomenclatures import Role
from tests.browser.conftest import check_accessibility
from tests.factories import make_operator, make_staff

pytestmark = pytest.mark.browser

EMAIL = "responsable@nor.test"


@pytest.fixture
def manager(engine, live_server):
    """A manager of a new operator, whose default setting requires a second factor."""
    with Session(engine, expire_on_commit=False) as session:
        operator = make_operator(session, "NOR", "Normandie")
        user = make_staff(
            session, operator, role=Role.MANAGER, email=EMAIL, full_name="Nadia Lebrun"
        )
        session.commit()
    return user


def _password(page: Page, live_server) -> None:
    page.goto(f"{live_server.url}/login")
    page.get_by_label("Adresse e-mail").fill(EMAIL)
    page.get_by_label("Mot de passe").fill(live_server.password)
    page.get_by_role("button", name="Se connecter").click()


def test_a_manager_enrols_at_first_sign_in_then_signs_in_with_a_code(
    page: Page, live_server, manager
):
    # The password is right: the role requires a second factor, so the enrolment comes first.
    _password(page, live_server)
    expect(page).to_have_url(f"{live_server.url}/login/activation?next=/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Activer la double authentification")
    expect(page.get_by_role("img", name="QR code à scanner")).to_be_visible()
    check_accessibility(page)
    # Nothing else opens meanwhile.
    page.goto(f"{live_server.url}/rapports/activite")
    expect(page).to_have_url(f"{live_server.url}/login?next=/rapports/activite")
    page.goto(f"{live_server.url}/login/activation")

    # The « app » reads the key shown for typing by hand.
    secret = page.locator("#manual-key").inner_text().replace(" ", "")
    totp = pyotp.TOTP(secret)
    page.get_by_label("Code de l'application").fill(totp.now())
    page.get_by_role("button", name="Activer la double authentification").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Vos codes de secours")
    expect(page.locator("ol.code-list li")).to_have_count(10)
    check_accessibility(page)
    page.get_by_role("link", name="J'ai noté mes codes, continuer").click()
    expect(page).to_have_url(f"{live_server.url}/")
    expect(page.locator(".user-menu")).to_contain_text("Nadia Lebrun")

    page.get_by_role("link", name="Nadia Lebrun").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Mon compte")
    expect(page.locator("#double-authentification")).to_contain_text("Activée")
    check_accessibility(page)
    page.get_by_role("button", name="Se déconnecter").click()

    # Next sign-in: the password, then a code; a wrong one first.
    _password(page, live_server)
    expect(page).to_have_url(f"{live_server.url}/login/verification?next=/")
    check_accessibility(page)
    right = totp.at(time.time(), counter_offset=1)
    page.get_by_label("Code de l'application").fill("000000" if right != "000000" else "111111")
    page.get_by_role("button", name="Valider").click()
    expect(page.get_by_role("alert")).to_contain_text("Code incorrect")
    check_accessibility(page)
    page.get_by_text("Vous n'avez pas votre téléphone ?").click()
    expect(page.get_by_label("Code de secours")).to_be_visible()
    check_accessibility(page)
    # The code of the next time step: the one just used at enrolment cannot serve again.
    page.get_by_label("Code de l'application").fill(right)
    page.get_by_role("button", name="Valider").click()
    expect(page).to_have_url(f"{live_server.url}/")
    expect(page.locator(".user-menu")).to_contain_text("Nadia Lebrun")
