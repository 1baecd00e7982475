"""Browser tests: the real app served by uvicorn on a fresh database, driven by the system
Chromium through Playwright, with axe-core WCAG 2.1 A/AA checks.

Skipped when /usr/bin/chromium is missing, unless FILROUGE_REQUIRE_BROWSER=1 (then they fail).
Never runs `playwright install`: only the Debian Chromium is used.
"""

import os
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
import uvicorn
from alembic import command
from sqlmodel import Session

from app.core.db import build_engine, get_session, unit_of_work
from app.models.nomenclatures import Role
from app.models.staff import StaffSite
from tests.conftest import ROOT, alembic_config, scratch_database
from tests.factories import PASSWORD, free_port, make_operator, make_site, make_staff

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SCREENSHOTS = ROOT / "test-results"
WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]


@dataclass(frozen=True)
class LiveServer:
    url: str
    counsellor_email: str
    counsellor_name: str
    colleague_name: str
    manager_email: str
    admin_email: str
    site_name: str
    password: str


@pytest.fixture(scope="session")
def _chromium_available() -> None:
    if CHROMIUM.exists():
        return
    message = f"{CHROMIUM} is missing (Debian package `chromium`)"
    if os.environ.get("FILROUGE_REQUIRE_BROWSER") == "1":
        pytest.fail(f"{message} and FILROUGE_REQUIRE_BROWSER=1")
    pytest.skip(message)


@pytest.fixture(scope="session")
def browser_database_url(database_url, tmp_path_factory, _chromium_available):
    """A database of its own, so the live server never meets the rolled-back test sessions."""
    with scratch_database(database_url, "browser", tmp_path_factory.mktemp("browser")) as url:
        yield url


def _seed(engine) -> LiveServer:
    """Operator ARA, one site, a counsellor with a known password, a colleague, a manager,
    an operator admin."""
    with Session(engine, expire_on_commit=False) as session:
        operator = make_operator(session, "ARA", "Auvergne-Rhône-Alpes")
        # The journeys sign the manager and the admin in with their password alone;
        # tests/browser/test_two_factor_journey.py signs in with the second factor.
        operator.two_factor_managers = operator.two_factor_admins = False
        site = make_site(session, operator)
        counsellor = make_staff(
            session, operator, email="conseillere@ara.test", full_name="Camille Martin"
        )
        colleague = make_staff(
            session, operator, email="collegue@ara.test", full_name="Bruno Durand"
        )
        manager = make_staff(
            session,
            operator,
            role=Role.MANAGER,
            email="responsable@ara.test",
            full_name="Hélène Roux",
        )
        admin = make_staff(
            session,
            operator,
            role=Role.OPERATOR_ADMIN,
            email="admin@ara.test",
            full_name="Inès Garnier",
        )
        for user in (counsellor, colleague, manager):
            session.add(StaffSite(staff_id=user.id, site_id=site.id))
        session.commit()
        return LiveServer(
            url="",
            counsellor_email=counsellor.email,
            counsellor_name=counsellor.full_name,
            colleague_name=colleague.full_name,
            manager_email=manager.email,
            admin_email=admin.email,
            site_name=site.name,
            password=PASSWORD,
        )


@pytest.fixture
def engine(browser_database_url):
    """The live server's database, where a journey writes what it starts from (this overrides
    the rolled-back test database of the other tests)."""
    engine = build_engine(browser_database_url)
    yield engine
    engine.dispose()


@contextmanager
def serving(engine) -> Iterator[str]:
    """The app served by uvicorn in a thread on a free port, on `engine`'s database (migrated
    to head); yields its base URL and stops it afterwards."""
    from app.main import create_app
    from app.routes.system.health import health_engine

    app = create_app()

    def browser_session():
        yield from unit_of_work(engine)  # as app.core.db.get_session, on this test database

    app.dependency_overrides[get_session] = browser_session
    app.dependency_overrides[health_engine] = lambda: engine.execution_options(
        sqlite_immediate=False
    )

    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, name="uvicorn-browser-tests", daemon=True)
    thread.start()
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 15
    while True:
        try:
            if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                break
        except httpx.HTTPError:
            pass
        if not thread.is_alive() or time.monotonic() > deadline:
            server.should_exit = True
            thread.join(timeout=5)
            pytest.fail(f"the live server did not answer on {base}/healthz")
        time.sleep(0.05)
    try:
        yield base
    finally:
        server.should_exit = True
        thread.join(timeout=10)


@pytest.fixture(scope="session")
def live_server(browser_database_url):
    engine = build_engine(browser_database_url)
    with engine.begin() as conn:
        command.upgrade(alembic_config(conn), "head")
    seeded = _seed(engine)
    try:
        with serving(engine) as base:
            yield LiveServer(**{**seeded.__dict__, "url": base})
    finally:
        engine.dispose()


# Per module: Playwright's sync API keeps an asyncio loop running in the main thread while it
# lives, which would break the tests of other modules that run an event loop themselves.
@pytest.fixture(scope="module")
def browser(_chromium_available):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        yield chromium
        chromium.close()


_FAILED = pytest.StashKey[bool]()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    report = yield
    if report.when == "call" and report.failed:
        item.stash[_FAILED] = True
    return report


# Chromium reports each script, style or image the Content-Security-Policy refuses, and each
# feature Permissions-Policy does not know, as a console message naming the policy.
POLICY_WORDS = ("Content Security Policy", "Content-Security-Policy", "Permissions-Policy")


@pytest.fixture
def policy_refusals() -> list[str]:
    """What the page's policies refused so far; a test that expects one removes it."""
    return []


@pytest.fixture
def page(browser, request, policy_refusals):
    context = browser.new_context(
        viewport={"width": 1280, "height": 900},
        locale="fr-FR",
        timezone_id="Europe/Paris",
    )
    context.set_default_timeout(10_000)
    page = context.new_page()

    def on_console(message) -> None:
        if any(word in message.text for word in POLICY_WORDS):
            source = message.location.get("url") or "the page"
            policy_refusals.append(f"{page.url} ({source}): {message.text}")

    page.on("console", on_console)
    yield page
    if request.node.stash.get(_FAILED, False):
        SCREENSHOTS.mkdir(exist_ok=True)
        page.screenshot(path=str(SCREENSHOTS / f"failed-{request.node.name}.png"), full_page=True)
    context.close()
    # Every journey runs under the real policies: what they refused broke part of a page.
    assert policy_refusals == [], "\n".join(policy_refusals)


@pytest.fixture
def screenshot(page):
    """screenshot("01-login") saves test-results/journey-01-login.png (full page)."""
    SCREENSHOTS.mkdir(exist_ok=True)

    def take(name: str) -> Path:
        path = SCREENSHOTS / f"journey-{name}.png"
        page.screenshot(path=str(path), full_page=True)
        return path

    return take


_axe = None


def check_accessibility(page) -> None:
    """Fail with axe-core's report when the page breaks a WCAG 2.0/2.1 level A or AA rule."""
    global _axe
    from axe_playwright_python.sync_playwright import Axe

    _axe = _axe or Axe()
    results = _axe.run(page, options={"runOnly": {"type": "tag", "values": WCAG_TAGS}})
    assert results.violations_count == 0, f"{page.url}\n{results.generate_report()}"


def htmx_idle(page) -> None:
    """Waits until no htmx request, swap or settle is under way: a keystroke sent earlier can
    race the focus that the end of the swap moves (app.js, htmx's own focus restoring)."""
    page.wait_for_function(
        "() => document.readyState === 'complete' && window.htmx"
        " && !document.querySelector('.htmx-request, .htmx-swapping, .htmx-settling')"
    )


def open_case_tab(page, name: str) -> None:
    """Open one of the case page's tabs from the keyboard, once htmx has processed the page
    (a key pressed on a link or form it has not yet taken over would load the whole page)."""
    from playwright.sync_api import expect

    tab = page.get_by_role("navigation", name="Sections du dossier").get_by_role(
        "link", name=name, exact=True
    )
    htmx_idle(page)
    tab.focus()
    tab.press("Enter")
    expect(tab).to_have_attribute("aria-current", "page")
    htmx_idle(page)  # the section's forms are htmx's before anyone submits them


def mark_page(page) -> None:
    """Mark the loaded page so that `assert_no_reload` can tell a swap from a reload, once htmx
    has taken its links and forms over (a key pressed earlier would load a whole page)."""
    page.evaluate("window.__journeyMarker = 'case-page'")
    htmx_idle(page)


def assert_no_reload(page) -> None:
    """The marker set on the case page survives: the actions were htmx swaps, not reloads."""
    assert page.evaluate("window.__journeyMarker") == "case-page", "the case page was reloaded"


def sign_in(page, live_server, email: str) -> None:
    """Sign in from the login page as `email` (seeded with the common password); lands home."""
    from playwright.sync_api import expect

    page.goto(f"{live_server.url}/login")
    page.get_by_label("Adresse e-mail").fill(email)
    page.get_by_label("Mot de passe").fill(live_server.password)
    page.get_by_label("Mot de passe").press("Enter")
    expect(page).to_have_url(f"{live_server.url}/")
