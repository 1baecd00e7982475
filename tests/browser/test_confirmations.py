"""Every action answers: on the case page, a referral proposed and a plan step added are each
confirmed next to the form, the confirmation takes the focus (a screen reader says it), and the
new item is in view — at once for the step, through the message's link for the referral, which
heads a list above. Axe-core checks the page after each, at 1366 × 768."""

import re

import pytest
from playwright.sync_api import Page, expect
from sqlmodel import Session, select

from app.models.operators import Operator
from app.models.staff import StaffUser
from tests.browser.conftest import assert_no_reload, check_accessibility, mark_page, sign_in
from tests.factories import make_beneficiary, make_case, make_partner

pytestmark = pytest.mark.browser

PARTNER = "France Travail — agence de Villeurbanne"


def _case(engine, email: str) -> int:
    """A case of the counsellor's, and a partner of her operator without an e-mail address."""
    with Session(engine, expire_on_commit=False) as session:
        counsellor = session.exec(select(StaffUser).where(StaffUser.email == email)).one()
        operator = session.get(Operator, counsellor.operator_id)
        make_partner(session, operator, name=PARTNER, email=None, type="france_travail")
        person = make_beneficiary(session, counsellor, first_name="Anaïs", last_name="Océane")
        case = make_case(session, counsellor, beneficiary=person)
        session.commit()
        return case.id


def test_a_referral_and_a_plan_step_are_confirmed_focused_and_in_view(
    page: Page, live_server, engine
):
    case_id = _case(engine, live_server.counsellor_email)
    page.set_viewport_size({"width": 1366, "height": 768})
    sign_in(page, live_server, live_server.counsellor_email)
    page.goto(f"{live_server.url}/cases/{case_id}?section=orientations")
    mark_page(page)

    # A referral: proposed from the form at the bottom of its section.
    section = page.get_by_role("region", name="Orientations vers des partenaires")
    section.locator("summary", has_text="Orienter vers un partenaire").click()
    section.get_by_role("combobox", name="Partenaire").select_option(label=PARTNER)
    section.get_by_label("Objet de l'orientation").fill("Inscription et conseil en formation")
    section.get_by_label("La personne donne maintenant son accord").check()
    section.get_by_role("button", name="Enregistrer l'orientation").click()
    section = page.get_by_role("region", name="Orientations vers des partenaires")
    said = section.get_by_role("status").filter(has_text="Orientation proposée")
    expect(said).to_be_focused()
    expect(said).to_contain_text(f"Orientation proposée à {PARTNER}.")
    expect(said).to_be_in_viewport()
    link = said.get_by_role("link", name="Voir l'orientation")
    target = link.get_attribute("href")
    assert re.fullmatch(r"#ref-\d+", target)
    link.press("Enter")
    referral = page.locator(target)
    expect(referral).to_be_in_viewport()
    expect(referral).to_contain_text(PARTNER)
    expect(referral).to_contain_text("Proposée")
    assert_no_reload(page)
    check_accessibility(page)

    # A plan step (tab « Documents »): added from the form under the steps, the new row just
    # above the message.
    tab = page.get_by_role("navigation", name="Sections du dossier").get_by_role(
        "link", name="Documents", exact=True
    )
    tab.press("Enter")
    expect(tab).to_have_attribute("aria-current", "page")
    plan = page.get_by_role("region", name="Plan d'action")
    add = plan.get_by_role("form", name="Ajouter une étape")
    add.get_by_label("Action").fill("S'inscrire à la réunion d'information de l'AFPA")
    add.get_by_role("button", name="Ajouter l'étape").click()
    plan = page.get_by_role("region", name="Plan d'action")
    said = plan.get_by_role("status").filter(has_text="Étape ajoutée")
    expect(said).to_be_focused()
    expect(said).to_contain_text("Étape ajoutée au plan d'action.")
    expect(said).to_be_in_viewport()
    row = plan.get_by_role("row").filter(has_text="S'inscrire à la réunion d'information")
    expect(row).to_be_in_viewport()
    page.keyboard.press("Tab")  # on to the next step
    expect(
        plan.get_by_role("form", name="Ajouter une étape").get_by_label("Action")
    ).to_be_focused()
    assert_no_reload(page)
    check_accessibility(page)
