"""A counsellor books a follow-up for the beneficiary from the case page: the free slots come
week by week, grouped by day; she moves to the following week (an htmx swap of the panel, no
reload) and books a time there from the keyboard. axe-core checks every step at 1366 and 390 px,
and the panel never makes the page scroll sideways on a phone."""

import re

import pytest
from playwright.sync_api import Page, expect
from sqlmodel import Session, select

from app.models.appointments import Appointment
from app.models.operators import Operator, Site
from app.models.staff import StaffUser
from tests.browser.conftest import (
    SCREENSHOTS,
    assert_no_reload,
    check_accessibility,
    mark_page,
    sign_in,
)
from tests.factories import make_appointment_type, make_beneficiary, make_case, make_openings

pytestmark = pytest.mark.browser

MOTIF = "Entretien de suivi (créneaux par semaine)"
WIDTHS = (1366, 390)


def _a_case_and_an_agenda(engine, email: str) -> int:
    """A case of the counsellor, who receives at her site every morning; returns the case id."""
    with Session(engine, expire_on_commit=False) as session:
        counsellor = session.exec(select(StaffUser).where(StaffUser.email == email)).one()
        operator = session.get(Operator, counsellor.operator_id)
        site = session.exec(select(Site).where(Site.operator_id == operator.id)).first()
        make_appointment_type(session, operator, name=MOTIF, modes="on_site phone")
        make_openings(session, counsellor, site)
        person = make_beneficiary(session, counsellor, first_name="Anaïs", last_name="Créneau")
        case = make_case(session, counsellor, person, site_id=site.id)
        session.commit()
        return case.id


def _at_both_widths(page: Page) -> None:
    """axe-core at 1366 × 768 and at 390 × 844; at 390 px the panel fits the screen."""
    for width in WIDTHS:
        page.set_viewport_size({"width": width, "height": 768 if width > 400 else 844})
        check_accessibility(page)
        if width == 390:
            overflow = page.evaluate(
                "() => { const p = document.getElementById('case-booking');"
                " return p.scrollWidth - p.clientWidth; }"
            )
            assert overflow <= 0, f"the booking panel is {overflow} px too wide at 390 px"
            assert page.locator("#case-booking").bounding_box()["width"] <= 390


def test_a_counsellor_books_a_slot_of_the_second_week_from_the_case(
    page: Page, live_server, engine
):
    case_id = _a_case_and_an_agenda(engine, live_server.counsellor_email)
    sign_in(page, live_server, live_server.counsellor_email)
    page.goto(f"{live_server.url}/cases/{case_id}?section=rendez-vous")
    mark_page(page)
    panel = page.locator("#case-booking")

    panel.get_by_label("Motif").select_option(label=MOTIF)
    panel.get_by_label("Mode").select_option(label="Sur site")
    panel.get_by_role("button", name="Voir les créneaux libres").press("Enter")

    # The week of the next free slot, its days under French headings.
    week = panel.get_by_role("heading", name=re.compile(r"^Semaine du lundi \d+"))
    expect(week).to_be_visible()
    first_week = week.inner_text()
    days = panel.locator("fieldset.slot-day")
    expect(days.first.locator("legend")).to_have_text(
        re.compile(r"^(Lundi|Mardi|Mercredi|Jeudi|Vendredi|Samedi|Dimanche) (1er|\d+) \w+")
    )
    assert_no_reload(page)
    _at_both_widths(page)
    panel.screenshot(path=str(SCREENSHOTS / "case-booking-01-first-week-390.png"))

    # The following week, through the panel's own link.
    page.set_viewport_size({"width": 1366, "height": 768})
    panel.get_by_role("link", name=re.compile("Semaine suivante")).press("Enter")
    expect(week).not_to_have_text(first_week)
    second_week = week.inner_text()
    expect(panel.get_by_role("link", name=re.compile("Semaine précédente"))).to_be_visible()
    assert_no_reload(page)
    _at_both_widths(page)
    panel.screenshot(path=str(SCREENSHOTS / "case-booking-02-second-week-390.png"))

    # A time on the second day of that week, chosen from the keyboard: the day's legend and
    # the time make its name.
    day = days.nth(1)
    legend = day.locator("legend").inner_text()
    choice = day.get_by_role("radio").first
    expect(choice).to_have_accessible_name(re.compile(rf"^{re.escape(legend.lower())} à 09 h 00"))
    choice.focus()
    page.keyboard.press("Space")
    expect(choice).to_be_checked()
    panel.get_by_role("button", name="Confirmer le rendez-vous").press("Enter")

    # The confirmation takes the focus, says the day and links to the appointment listed.
    notice = panel.get_by_role("status").filter(has_text="Rendez-vous réservé")
    expect(notice).to_be_focused()
    expect(notice).to_contain_text(f"Rendez-vous réservé le {legend.lower()} à 09 h 00.")
    booked = panel.locator(
        notice.get_by_role("link", name="Voir le rendez-vous").get_attribute("href")
    )
    expect(booked).to_contain_text(re.compile(rf"{re.escape(legend)}( \d{{4}})?, 09 h 00"))
    reference = re.search(r"RDV-\S+", booked.inner_text()).group(0)
    assert_no_reload(page)
    _at_both_widths(page)
    panel.screenshot(path=str(SCREENSHOTS / "case-booking-03-booked-390.png"))

    with Session(engine) as session:
        appointment = session.exec(
            select(Appointment).where(Appointment.reference == reference)
        ).one()
        assert appointment.case_id == case_id and appointment.booked_via == "staff"
    assert second_week != first_week
