"""Ask before, not after: starting a unit already under way shows the warning first, in the
same form; « Annuler » leaves things as they were, « Confirmer quand même » starts it; a unit
started by mistake is then cancelled and the history keeps the cancellation. axe-core checks
every state. (The same forms without JavaScript: tests/desk/test_episode_routes.py.)"""

import pytest
from playwright.sync_api import Page, expect
from sqlmodel import Session, select

from app.models.staff import StaffUser
from tests.browser.conftest import assert_no_reload, check_accessibility, mark_page, sign_in
from tests.factories import make_beneficiary, make_case

pytestmark = pytest.mark.browser

UO1 = "Niveau 1 — Accueil individualisé"


def _case_for(engine, email: str, last_name: str) -> int:
    with Session(engine, expire_on_commit=False) as session:
        counsellor = session.exec(select(StaffUser).where(StaffUser.email == email)).one()
        person = make_beneficiary(session, counsellor, first_name="Anaïs", last_name=last_name)
        case = make_case(session, counsellor, beneficiary=person)
        session.commit()
        return case.id


def _ask_to_start(page: Page, label: str):
    """Open « Démarrer une unité d'œuvre », pick `label` and submit; returns the disclosure."""
    details = page.locator("details").filter(
        has=page.locator("summary", has_text="Démarrer une unité d'œuvre")
    )
    if details.get_attribute("open") is None:
        details.locator("summary").click()
    details.get_by_label("Unité").select_option(label=label)
    details.get_by_role("button", name="Démarrer").click()
    return details


def _starts(page: Page):
    """The units started, newest first, as « Unités » lists them."""
    return page.get_by_role("region", name="Unités d'œuvre").locator(".unit-list > li > strong")


def _running(page: Page):
    return page.locator(".case-header dd .badge.running")


def test_a_unit_under_way_is_asked_first_then_the_mistake_is_cancelled(
    page: Page, live_server, engine, screenshot
):
    case_id = _case_for(engine, live_server.counsellor_email, "Vernet-Allard")
    sign_in(page, live_server, live_server.counsellor_email)
    page.goto(f"{live_server.url}/cases/{case_id}?section=unites")
    mark_page(page)

    # UO1 starts at once: nothing to warn about.
    _ask_to_start(page, UO1)
    expect(_starts(page)).to_have_text(["UO1"])
    expect(page.locator("#start-confirmation")).to_have_count(0)

    # UO1 again: the warning comes first, focused, and nothing is started yet.
    details = _ask_to_start(page, UO1)
    question = page.locator("#start-confirmation")
    expect(question).to_be_focused()
    expect(question).to_contain_text("Avant de démarrer UO1")
    expect(question).to_contain_text("Un épisode UO1 est déjà en cours sur ce dossier.")
    expect(_starts(page)).to_have_count(1)
    assert_no_reload(page)
    check_accessibility(page)
    screenshot("episode-01-asked-first")

    # « Annuler »: back to the case as it was.
    details.get_by_role("link", name="Annuler").click()
    expect(page.locator("#start-confirmation")).to_have_count(0)
    expect(_starts(page)).to_have_count(1)
    assert_no_reload(page)

    # Asked again, and confirmed this time.
    details = _ask_to_start(page, UO1)
    details.get_by_role("button", name="Confirmer quand même").click()
    expect(_starts(page)).to_have_text(["UO1", "UO1"])
    expect(_running(page)).to_have_text(["UO1", "UO1"])
    assert_no_reload(page)
    check_accessibility(page)

    # To the history, from the keyboard.
    tab = page.get_by_role("navigation", name="Sections du dossier").get_by_role(
        "link", name="Historique", exact=True
    )
    tab.focus()
    tab.press("Enter")
    expect(tab).to_have_attribute("aria-current", "page")

    # The second one was a mistake: cancel it from its entry in the history.
    latest = page.get_by_role("region", name="Historique").locator(".timeline-item").first
    undo = latest.locator("details").filter(has=page.locator("summary", has_text="Annuler ce"))
    undo.locator("summary").click()
    check_accessibility(page)
    undo.get_by_role("button", name="Annuler UO1").click()
    timeline = page.get_by_role("region", name="Historique")
    cancelled = timeline.get_by_role("listitem").filter(has_text="Annulation UO1")
    expect(cancelled).to_contain_text(live_server.counsellor_name)
    expect(timeline.locator(".badge", has_text="Annulée")).to_have_count(1)
    expect(_running(page)).to_have_text(["UO1"])
    assert_no_reload(page)
    check_accessibility(page)
    screenshot("episode-02-cancelled")
