"""The national entry's other answers on a 390 px phone: a job seeker sent to her network, a
commune's name shared by several communes, a place no operator serves. Each passes axe-core
and fits the screen (the booking journey covers the way through to an operator)."""

import re

import pytest
from playwright.sync_api import Page, expect

from app.core.config import get_settings
from tests.browser.conftest import check_accessibility

pytestmark = pytest.mark.browser
PHONE = {"width": 390, "height": 844}


def ask(page: Page, base: str, situation: str, place: str) -> None:
    page.goto(f"{base}/rendez-vous")
    page.get_by_label(situation).check()
    page.get_by_label("Votre code postal ou votre commune").fill(place)
    page.get_by_role("button", name="Trouver mon conseiller").click()


def fits_and_passes(page: Page) -> None:
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    check_accessibility(page)


def test_the_entry_answers_fit_a_phone_and_pass_axe(browser, live_server, monkeypatch):
    monkeypatch.setattr(get_settings(), "public_rate_limit", "1000/minute")
    monkeypatch.setattr(get_settings(), "national_phone", "09 70 00 00 00")
    page: Page = browser.new_context(viewport=PHONE, locale="fr-FR").new_page()
    page.set_default_timeout(10_000)

    ask(page, live_server.url, "Demandeur d'emploi", "69003")
    expect(page.get_by_role("heading", level=1)).to_have_text("Un autre réseau vous accompagne")
    expect(page.get_by_text("France Travail")).to_be_visible()
    fits_and_passes(page)

    ask(page, live_server.url, "Actif du secteur privé ou indépendant", "Saint-Denis")
    expect(page.get_by_text("Plusieurs communes portent ce nom")).to_be_visible()
    fits_and_passes(page)
    page.get_by_label(re.compile(r"^Saint-Denis \(93200")).check()
    page.get_by_role("button", name="Trouver mon conseiller").click()
    # Saint-Denis (93) is in Île-de-France: the live server's only operator is ARA's.
    expect(page.get_by_role("link", name="09 70 00 00 00")).to_be_visible()
    fits_and_passes(page)
