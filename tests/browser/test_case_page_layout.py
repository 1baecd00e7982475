"""One calm case page (issue 15, item 4): at 1366 × 768 the header and the latest entries of
the history are in the first screen; the tabs work from the keyboard and the open one survives
a reload; recording an interview says so, focused, with the new entry at the top of the history
in view. axe-core at 1366 and 390 px. (Without JavaScript: tests/desk/test_case_sections_routes.py.)"""

import re
from datetime import timedelta

import pytest
from playwright.sync_api import Page, expect
from sqlmodel import Session, select

from app.models.base import utcnow
from app.models.staff import StaffUser
from tests.browser.conftest import (
    assert_no_reload,
    check_accessibility,
    htmx_idle,
    mark_page,
    sign_in,
)
from tests.factories import make_beneficiary, make_case, make_episode, make_interaction

pytestmark = pytest.mark.browser

DESKTOP = {"width": 1366, "height": 768}
PHONE = {"width": 390, "height": 844}


def _a_busy_case(engine, email: str) -> int:
    """A case after a few weeks of work: a unit under way and 24 interviews (two pages)."""
    with Session(engine, expire_on_commit=False) as session:
        counsellor = session.exec(select(StaffUser).where(StaffUser.email == email)).one()
        person = make_beneficiary(session, counsellor, first_name="Noémie", last_name="Calmette")
        case = make_case(session, counsellor, beneficiary=person)
        make_episode(session, counsellor, case, "UO1")
        for n in range(24):
            make_interaction(
                session,
                counsellor,
                case,
                occurred_at=utcnow() - timedelta(days=n + 1),
                summary=f"Échange n° {n + 1} : point sur le projet.",
            )
        session.commit()
        return case.id


def _tabs(page: Page):
    return page.get_by_role("navigation", name="Sections du dossier")


def test_the_case_page_is_calm_and_answers_where_one_acts(page: Page, live_server, engine):
    case_id = _a_busy_case(engine, live_server.counsellor_email)
    sign_in(page, live_server, live_server.counsellor_email)
    page.set_viewport_size(DESKTOP)
    page.goto(f"{live_server.url}/cases/{case_id}")
    mark_page(page)

    # The first screen: the header's facts and the latest entries of the history.
    header = page.locator(".case-header")
    expect(header).to_be_in_viewport()
    expect(header.get_by_role("link", name="UO1")).to_be_visible()
    history = page.get_by_role("region", name="Historique")
    first = history.locator(".timeline-item").first
    expect(first).to_contain_text("Début UO1")  # started today, after the interviews
    expect(history.locator(".timeline-item").nth(1)).to_contain_text("Échange n° 1 :")
    assert first.bounding_box()["y"] < DESKTOP["height"]
    expect(history.locator(".timeline-item")).to_have_count(20)
    expect(history.get_by_text("Page 1 sur 2")).to_be_visible()
    check_accessibility(page)

    # The header stays in view while the page scrolls.
    page.evaluate("window.scrollTo(0, 2500)")
    assert page.evaluate("window.scrollY") > 1000
    expect(header).to_be_in_viewport()

    # At 390 px the header scrolls away with the page, and nothing overflows sideways.
    page.set_viewport_size(PHONE)
    page.evaluate("window.scrollTo(0, 0)")
    check_accessibility(page)
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    page.evaluate("window.scrollTo(0, 2500)")
    assert page.evaluate("window.scrollY") > 1000
    expect(header).not_to_be_in_viewport()
    page.set_viewport_size(DESKTOP)
    page.evaluate("window.scrollTo(0, 0)")

    # The history's filter and next page, from the keyboard; the address follows.
    older = page.get_by_role("link", name="Plus anciens →")
    older.focus()
    older.press("Enter")
    expect(history.get_by_text("Page 2 sur 2")).to_be_visible()
    expect(page).to_have_url(re.compile(rf"/cases/{case_id}\?page=2$"))
    interviews = page.get_by_role("navigation", name="Filtrer l'historique")
    htmx_idle(page)  # the filter came with the swap: a key pressed before htmx takes it reloads
    interviews.get_by_role("link", name="Entretiens").press("Enter")
    expect(page).to_have_url(re.compile(rf"/cases/{case_id}\?filtre=entretiens$"))
    expect(interviews.get_by_role("link", name="Entretiens")).to_have_attribute(
        "aria-current", "true"
    )
    expect(history.get_by_text("Début UO1")).to_have_count(0)
    assert_no_reload(page)

    # Tabs from the keyboard: « Unités » opens, its address is kept, focus stays on the tab.
    units = _tabs(page).get_by_role("link", name="Unités", exact=True)
    htmx_idle(page)
    units.focus()
    units.press("Enter")
    expect(units).to_have_attribute("aria-current", "page")
    expect(units).to_be_focused()
    expect(page).to_have_url(re.compile(rf"/cases/{case_id}\?section=unites$"))
    expect(page.get_by_role("region", name="Unités d'œuvre")).to_be_visible()
    expect(page.get_by_role("region", name="Historique")).to_have_count(0)
    assert_no_reload(page)
    check_accessibility(page)

    # A reload keeps the tab (the server renders it from the address).
    page.reload()
    expect(_tabs(page).get_by_role("link", name="Unités", exact=True)).to_have_attribute(
        "aria-current", "page"
    )
    expect(page.get_by_role("region", name="Unités d'œuvre")).to_be_visible()

    # Back to the history; an interview recorded there answers, focused, above the new entry.
    mark_page(page)
    _tabs(page).get_by_role("link", name="Historique", exact=True).press("Enter")
    form = page.locator("details").filter(
        has=page.locator("summary", has_text="Enregistrer un entretien")
    )
    expect(form).to_be_visible()
    htmx_idle(page)
    form.locator("summary").press("Enter")
    form.get_by_label("Synthèse partagée avec le bénéficiaire").fill("Le projet se précise.")
    form.get_by_role("button", name="Enregistrer l'entretien").press("Enter")
    done = page.locator(".done")
    expect(done).to_contain_text("Entretien enregistré.")
    expect(done).to_be_focused()
    newest = page.get_by_role("region", name="Historique").locator(".timeline-item").first
    expect(newest).to_contain_text("Le projet se précise.")
    expect(newest).to_be_in_viewport()
    link = done.get_by_role("link", name="Voir dans l'historique")
    expect(link).to_have_attribute("href", "#" + newest.get_attribute("id"))
    assert_no_reload(page)
    check_accessibility(page)
