"""Issue 18's dashboards in a browser: a manager reads the activity report's key figures, its
glossary and its five tabs (one opened from the keyboard), the territory tab's map and table,
downloads a table; the ten sections of the people tab hold within two screens at 1280 × 800,
their tables one keystroke away; the same page on a 390 px phone wraps without scrolling
sideways; the national observer reads a past year's dashboard, where a small operator's figures
are secret. Every tab passes the axe-core WCAG 2.1 A/AA check.

The live server is shared by the session's journeys: the figures checked are those of the two
operators seeded here, which no other journey writes to."""

import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import Page, expect
from sqlmodel import Session, delete

from app.core.db import build_engine
from app.models.cases import CaseOpen, EpisodeStart, InteractionCreate
from app.models.nomenclatures import (
    Channel,
    InteractionChannel,
    Redirection,
    RequestMotive,
    Role,
    Sex,
)
from app.models.reports import ReportSnapshot
from app.models.triage import TriageCreate, TriageRedirect
from app.services.cases.episodes import start_episode
from app.services.cases.interactions import record_interaction
from app.services.cases.lifecycle import open_case
from app.services.cases.triage import create_request, redirect_request
from tests.browser.conftest import SCREENSHOTS, check_accessibility, sign_in
from tests.factories import (
    make_beneficiary,
    make_operator,
    make_site,
    make_staff,
    paris_today,
    unit_id,
)

pytestmark = pytest.mark.browser

PARIS = ZoneInfo("Europe/Paris")
YEAR = paris_today().year
# Near the Lyon site (69003) and farther than 30 km from it: the map shades several départements.
POSTCODES = ("69003", "69100", "69007", "38000", "42000", "01000", "73000", "26000")
CHANNELS = (Channel.PHONE, Channel.WALK_IN, Channel.EMAIL)
MOTIVES = (RequestMotive.RETRAIN, RequestMotive.HEALTH, RequestMotive.MOBILITY)
SEXES = (Sex.FEMALE, Sex.MALE)
# Entrants this year and the same months a year before, so that the key figures show a change.
ENTRIES_NOW, ENTRIES_BEFORE, ENTRIES_SMALL = 24, 14, 3
# The tabs, in their order, and headings of sections each one shows (the national view adds
# the per-operator table to the first).
TABS = (
    ("Activité", ("Entrées et réorientations par mois", "Unités d'œuvre commencées et terminées")),
    ("Personnes", ("Tranche d'âge", "Entrées par motif de la demande")),
    ("Territoire", ("Couverture territoriale par département",)),
    ("Qualité", ("Accès au niveau 2", "Rendez-vous honorés et absences")),
    ("Partenaires", ("Demandes reçues à l'accueil et leur issue",)),
)
PHONE_WIDTH = 390
# « Nothing longer than two screens per tab » (issue 18), at 1280 × 800: from the tab bar to the
# end of the open tab's sections.
SCREEN = {"width": 1280, "height": 800}
TWO_SCREENS = 2 * SCREEN["height"]


@dataclass(frozen=True)
class Dashboards:
    manager_email: str
    observer_email: str
    small_operator: str  # its name, as the national table shows it


def _at(year: int, month: int, day: int) -> datetime:
    return datetime(year, month, day, 10, tzinfo=PARIS)


class Entrants:
    """People entering level 1 with one operator's counsellor, through the services."""

    def __init__(self, session: Session, counsellor):
        self.session = session
        self.counsellor = counsellor

    def enter(self, n: int, year: int, *, level_2: bool) -> None:
        """The n-th entrant of `year`: a case opened on a day between February and October,
        UO1 started 3 days later, its interview on the day; every third one starts UO2.1
        a month later when `level_2`."""
        opened_at = _at(year, 2 + n % 9, 1 + n % 20)
        person = make_beneficiary(
            self.session,
            self.counsellor,
            postcode=POSTCODES[n % len(POSTCODES)],
            birth_year=1965 + 3 * n % 40,
            sex=SEXES[n % 2],
        )
        data = CaseOpen(beneficiary_id=person.id, channel=CHANNELS[n % 3], motive=MOTIVES[n % 3])
        case = open_case(
            session=self.session, actor=self.counsellor, data=data, opened_at=opened_at
        )
        uo1 = self.unit(case, "UO1", opened_at + timedelta(days=3))
        channel = InteractionChannel.ON_SITE if n % 2 else InteractionChannel.PHONE
        self.seen(case, uo1, opened_at + timedelta(days=3, hours=1), channel)
        if level_2 and n % 3 == 0:
            uo2 = self.unit(case, "UO2.1", opened_at + timedelta(days=33))
            self.seen(case, uo2, opened_at + timedelta(days=33, hours=1), InteractionChannel.VIDEO)

    def unit(self, case, code: str, started_at: datetime):
        data = EpisodeStart(unit_id=unit_id(self.session, code), started_at=started_at)
        episode, _ = start_episode(
            session=self.session, actor=self.counsellor, case_id=case.id, data=data
        )
        return episode

    def seen(self, case, episode, when: datetime, channel: InteractionChannel) -> None:
        data = InteractionCreate(
            occurred_at=when, duration_minutes=45, channel=channel, episode_id=episode.id
        )
        record_interaction(session=self.session, actor=self.counsellor, case_id=case.id, data=data)

    def redirected(self, received_at: datetime, redirection: Redirection) -> None:
        person = make_beneficiary(self.session, self.counsellor, postcode="69003")
        data = TriageCreate(
            beneficiary_id=person.id,
            channel=Channel.PHONE,
            motive=RequestMotive.MOBILITY,
            received_at=received_at,
        )
        request = create_request(session=self.session, actor=self.counsellor, data=data)
        redirect_request(
            session=self.session,
            actor=self.counsellor,
            request_id=request.id,
            data=TriageRedirect(redirection=redirection),
        )


@pytest.fixture(scope="module")
def dashboards(live_server, browser_database_url) -> Dashboards:
    """Two operators of the journey's own: one with entrants this year and last year, and a
    small one with three entrants last year, whose national figures are secret."""
    engine = build_engine(browser_database_url)
    try:
        with Session(engine) as session:
            large = make_operator(session, "TDB", "Rhône Évolution Pro")
            large.two_factor_managers = False  # the journey signs in with the password alone
            make_site(session, large, name="Lyon Guillotière", postcode="69007", city="Lyon")
            entrants = Entrants(session, make_staff(session, large))
            for n in range(ENTRIES_NOW):
                entrants.enter(n, YEAR, level_2=True)
            for n in range(ENTRIES_BEFORE):
                entrants.enter(n, YEAR - 1, level_2=False)
            entrants.redirected(_at(YEAR, 3, 9), Redirection.FRANCE_TRAVAIL)
            entrants.redirected(_at(YEAR, 5, 12), Redirection.APEC)

            small = make_operator(session, "TDS", "Savoie Parcours")
            make_site(session, small, name="Chambéry Centre", postcode="73000", city="Chambéry")
            few = Entrants(session, make_staff(session, small))
            for n in range(ENTRIES_SMALL):
                few.enter(n, YEAR - 1, level_2=False)

            # The national view reads the month's snapshot of a year: one taken before these
            # rows (a journey that read this year's view took last year's too, for its
            # comparison) would not hold them.
            session.exec(delete(ReportSnapshot).where(ReportSnapshot.year >= YEAR - 1))
            manager = make_staff(session, large, Role.MANAGER, email="responsable@tableaux.test")
            observer = make_staff(
                session, None, Role.NATIONAL_OBSERVER, email="observatrice@tableaux.test"
            )
            session.commit()
            return Dashboards(manager.email, observer.email, small.name)
    finally:
        engine.dispose()


def _key_figures(page: Page):
    return page.get_by_role("region", name="Chiffres clés").locator(".key-figure")


def _tab(page: Page, label: str):
    return page.get_by_role("navigation", name="Thèmes du rapport").get_by_role(
        "link", name=label, exact=True
    )


def _open_tab(page: Page, label: str, *, keyboard: bool = False) -> None:
    tab = _tab(page, label)
    if keyboard:
        tab.focus()
        tab.press("Enter")
    else:
        tab.click()
    expect(_tab(page, label)).to_have_attribute("aria-current", "page")


def _reads_every_tab(page: Page, screenshot, prefix: str, extra: dict | None = None) -> None:
    """Opens the five tabs in turn (the second from the keyboard): their sections show, the
    others' do not, and each passes axe."""
    extra = extra or {}
    for index, (label, headings) in enumerate(TABS):
        _open_tab(page, label, keyboard=index == 1)
        for heading in (*headings, *extra.get(label, ())):
            expect(page.get_by_role("heading", level=2, name=heading, exact=True)).to_be_visible()
        for other, their_headings in TABS:
            if other != label:
                hidden = page.get_by_role("heading", level=2, name=their_headings[0], exact=True)
                expect(hidden).to_have_count(0)
        check_accessibility(page)
        screenshot(f"{prefix}-{index + 1}-{label.lower()}")


def _tab_height(page: Page) -> float:
    tabs = page.get_by_role("navigation", name="Thèmes du rapport").bounding_box()
    sections = page.locator(".report-sections").bounding_box()
    return sections["y"] + sections["height"] - tabs["y"]


def _people_tab_holds_in_two_screens(page: Page, screenshot, prefix: str) -> None:
    """The people tab's ten sections, each drawn as bars with its values, hold within two
    screens; a section's table opens from the keyboard, and passes axe open."""
    page.set_viewport_size(SCREEN)
    _open_tab(page, "Personnes")
    height = _tab_height(page)
    assert height <= TWO_SCREENS, f"« Personnes » is {height:.0f} px tall at 1280 × 800"
    screenshot(f"{prefix}-personnes-1280x800")

    ages = page.get_by_role("table", name="Tranche d'âge")
    expect(ages).to_be_hidden()
    page.locator("summary", has_text="Voir le tableau — Tranche d'âge").press("Enter")
    expect(ages).to_be_visible()
    expect(ages.get_by_role("rowheader", name="36 à 45 ans")).to_be_visible()
    check_accessibility(page)


def test_manager_reads_the_activity_dashboard(page: Page, live_server, dashboards, screenshot):
    sign_in(page, live_server, dashboards.manager_email)
    page.goto(f"{live_server.url}/rapports/activite")

    figures = _key_figures(page)
    expect(figures).to_have_count(7)
    # 24 entrants against 14 over the same days a year before.
    expect(figures.first).to_contain_text("Entrées")
    expect(figures.first.locator(".key-value")).to_have_text(str(ENTRIES_NOW))
    expect(figures.first.locator(".key-change")).to_contain_text(
        re.compile(r"\+71,4\s%\ssur un an")
    )

    glossary = page.locator("details.glossary")
    expect(glossary.get_by_text("Accès au niveau 2", exact=True)).to_be_hidden()
    glossary.get_by_text("Définitions des indicateurs").click()
    expect(glossary.get_by_text("Accès au niveau 2", exact=True)).to_be_visible()
    check_accessibility(page)

    _reads_every_tab(page, screenshot, "dashboard-manager")
    _people_tab_holds_in_two_screens(page, screenshot, "dashboard-manager")

    _open_tab(page, "Territoire")
    map_ = page.locator("figure.departement-map svg[role=img]")
    expect(map_).to_be_visible()
    expect(map_).to_have_attribute("aria-label", re.compile("^Couverture à 30 km"))
    territory = page.get_by_role("table", name="Couverture territoriale par département")
    expect(territory.get_by_role("rowheader", name="69 — Rhône")).to_be_visible()
    expect(territory.get_by_role("rowheader", name="Total")).to_be_visible()

    link = page.get_by_role("link", name="CSV — Couverture territoriale par département")
    response = page.context.request.get(live_server.url + link.get_attribute("href"))
    assert response.status == 200
    text = response.body().decode("utf-8-sig")
    assert ";" in text and "69 — Rhône" in text


def test_the_dashboard_fits_a_phone(browser, live_server, dashboards):
    phone = browser.new_context(
        viewport={"width": PHONE_WIDTH, "height": 844}, locale="fr-FR", timezone_id="Europe/Paris"
    )
    try:
        page = phone.new_page()
        sign_in(page, live_server, dashboards.manager_email)
        page.goto(f"{live_server.url}/rapports/activite")
        # Seven cards on several rows, and the tabs, none past the screen's edge.
        boxes = [card.bounding_box() for card in _key_figures(page).all()]
        assert len({round(box["y"]) for box in boxes}) > 1, "the key figures on one row"
        boxes += [tab.bounding_box() for tab in _tab_items(page).all()]
        assert all(box["x"] + box["width"] <= PHONE_WIDTH for box in boxes), boxes
        SCREENSHOTS.mkdir(exist_ok=True)
        for index, (label, _) in enumerate(TABS):
            _open_tab(page, label)
            width = page.evaluate("document.documentElement.scrollWidth")
            assert width <= PHONE_WIDTH + 1, f"« {label} » scrolls sideways: {width} px"
            name = f"journey-dashboard-phone-{index + 1}-{label.lower()}.png"
            page.screenshot(path=str(SCREENSHOTS / name), full_page=True)
        _open_tab(page, "Territoire")
        # The map stays within one screen.
        box = page.locator("figure.departement-map svg").bounding_box()
        assert box["width"] <= PHONE_WIDTH and box["height"] <= 844, box
        check_accessibility(page)
    finally:
        phone.close()


def _tab_items(page: Page):
    return page.get_by_role("navigation", name="Thèmes du rapport").get_by_role("listitem")


def test_observer_reads_the_national_dashboard(page: Page, live_server, dashboards, screenshot):
    # An observer's home is the national view (sign_in expects the staff home page).
    page.goto(f"{live_server.url}/login")
    page.get_by_label("Adresse e-mail").fill(dashboards.observer_email)
    page.get_by_label("Mot de passe").fill(live_server.password)
    page.get_by_label("Mot de passe").press("Enter")
    expect(page).to_have_url(f"{live_server.url}/rapports/national")
    page.get_by_label("Année civile").select_option(str(YEAR - 1))
    page.get_by_role("button", name="Afficher").click()
    expect(page.get_by_text(f"Année {YEAR - 1}, du 1er janvier {YEAR - 1}")).to_be_visible()

    expect(_key_figures(page)).to_have_count(7)
    expect(_key_figures(page).first).to_contain_text("Entrées")
    check_accessibility(page)

    extra = {"Activité": ("Chiffres clés par opérateur",)}
    _reads_every_tab(page, screenshot, "dashboard-national", extra)
    _people_tab_holds_in_two_screens(page, screenshot, "dashboard-national")

    _open_tab(page, "Activité")
    operators = page.get_by_role("table", name="Chiffres clés par opérateur")
    small = operators.get_by_role("row").filter(
        has=page.get_by_role("rowheader", name=dashboards.small_operator, exact=True)
    )
    # Three entrants: a count from 1 to 10, never shown, and its line kept in the chart.
    chart = page.get_by_role("img", name=re.compile("^Chiffres clés par opérateur :"))
    expect(chart).to_have_attribute("aria-label", re.compile(r"masquées? \(« secret »\)"))
    expect(chart.locator("text.bar-hidden").first).to_have_text("secret")
    expect(small.get_by_role("cell").first).to_have_text("secret")
    expect(small).not_to_contain_text(str(ENTRIES_SMALL))

    _open_tab(page, "Territoire")
    expect(page.locator("figure.departement-map svg[role=img]")).to_be_visible()
    expect(page.locator("figure.departement-map path.map-secret").first).to_be_attached()
