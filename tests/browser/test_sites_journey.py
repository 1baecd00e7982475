"""« Sites » in the browser: the operator's admin creates a site (an unknown postcode refused
first), adds a permanence held by a colleague, then closes the site while an appointment is
booked there: the page lists it, refuses to close without a choice, and moves it to another
open site. Every page passes the axe-core WCAG 2.1 A/AA check."""

import pytest
from playwright.sync_api import Page, expect
from sqlmodel import Session, select

from app.models.appointments import Appointment
from app.models.operators import Operator, Site
from app.models.staff import StaffUser
from tests.browser.conftest import check_accessibility, sign_in
from tests.factories import make_appointment, make_site, make_staff, working_day_at

pytestmark = pytest.mark.browser

NEW_SITE = "Villeurbanne Gratte-Ciel"
OTHER_SITE = "Vénissieux Centre"


def _book_at(engine, site_name: str) -> str:
    """An appointment to come at the new site, for a counsellor of its own (so that the shared
    live server's other journeys keep their free slots); returns its reference."""
    with Session(engine, expire_on_commit=False) as session:
        site = session.exec(select(Site).where(Site.name == site_name)).one()
        counsellor = session.exec(
            select(StaffUser).where(StaffUser.email == "sites.journey@ara.test")
        ).first()
        if counsellor is None:
            counsellor = make_staff(
                session,
                session.get(Operator, site.operator_id),
                email="sites.journey@ara.test",
                full_name="Yanis Morel",
            )
        appointment = make_appointment(
            session, starts_at=working_day_at(site, days_ahead=12), site=site, counsellor=counsellor
        )
        session.commit()
        return appointment.reference


def _other_open_site(engine) -> None:
    with Session(engine) as session:
        if session.exec(select(Site).where(Site.name == OTHER_SITE)).first() is None:
            ara = session.exec(select(Operator).where(Operator.code == "ARA")).one()
            make_site(session, ara, name=OTHER_SITE, postcode="69200", city="Vénissieux")
            session.commit()


def test_admin_creates_a_site_adds_a_permanence_and_closes_it_moving_its_appointment(
    page: Page, live_server, engine
):
    _other_open_site(engine)
    sign_in(page, live_server, live_server.admin_email)
    page.get_by_role("navigation", name="Navigation principale").get_by_role(
        "link", name="Administration"
    ).click()
    page.get_by_role("link", name="Sites", exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Sites")
    check_accessibility(page)

    # A new site: an unknown postcode is refused, the typed values stay.
    page.get_by_text("Nouveau lieu d'accueil").click()
    page.get_by_label("Nom du site").fill(NEW_SITE)
    page.get_by_label("Adresse").fill("2 avenue Henri Barbusse")
    page.get_by_label("Code postal").fill("69999")
    page.get_by_label("Ville").fill("Villeurbanne")
    page.get_by_label("Téléphone").fill("04 72 00 00 00")
    page.get_by_role("button", name="Créer le site").click()
    expect(page.locator("#postcode-error")).to_contain_text("Code postal inconnu")
    expect(page.get_by_label("Nom du site")).to_have_value(NEW_SITE)
    check_accessibility(page)
    page.get_by_label("Code postal").fill("69100")
    page.get_by_role("button", name="Créer le site").click()
    expect(page.get_by_role("status")).to_contain_text("Site créé.")
    expect(page.get_by_role("heading", level=1)).to_contain_text(NEW_SITE)
    expect(page.get_by_text("Europe/Paris", exact=True)).to_be_visible()
    check_accessibility(page)
    site_page = page.url

    # A permanence in a town hall, held by a colleague.
    page.get_by_role("link", name="Ajouter une permanence").click()
    check_accessibility(page)
    page.get_by_label("Lieu ou partenaire qui accueille").fill("Mairie de Vaulx-en-Velin")
    page.get_by_label("Code postal").fill("69120")
    page.get_by_label("Ville").fill("Vaulx-en-Velin")
    page.get_by_label("Mardi").check()
    page.get_by_label("Jeudi").check()
    page.get_by_label("De (heure locale du site)").fill("09:00")
    page.locator("#end_time").fill("12:00")
    page.get_by_label("Première date").fill("2030-01-07")
    page.get_by_label(live_server.colleague_name).check()
    page.get_by_role("button", name="Ajouter la permanence").click()
    expect(page.get_by_role("status")).to_contain_text("Permanence ajoutée.")
    permanences = page.get_by_role("region", name="Permanences (1)")
    expect(permanences).to_contain_text("mardi et jeudi, 09 h 00 – 12 h 00")
    expect(permanences).to_contain_text(live_server.colleague_name)
    expect(permanences).to_contain_text("À venir")
    check_accessibility(page)

    # An appointment is booked there; closing lists it and waits for a choice.
    reference = _book_at(engine, NEW_SITE)
    page.goto(site_page)
    page.get_by_role("link", name="Fermer le site…").click()
    coming = page.get_by_role("region", name="Rendez-vous à venir sur ce site (1)")
    expect(coming).to_contain_text(reference)
    expect(coming).to_contain_text("Yanis Morel")
    check_accessibility(page)
    page.get_by_role("button", name=f"Fermer le site {NEW_SITE}").click()
    expect(page.locator("#choice-error")).to_contain_text("Choisissez ce que deviennent")
    check_accessibility(page)
    page.get_by_label("Les déplacer vers un autre site, au même horaire").check()
    page.get_by_label("Site où les déplacer").select_option(label=OTHER_SITE)
    page.get_by_role("button", name=f"Fermer le site {NEW_SITE}").click()
    expect(page.get_by_role("status")).to_contain_text("Site fermé")
    expect(page.get_by_role("heading", level=1)).to_contain_text("Fermé")
    history = page.get_by_role("region", name="Historique du site")
    expect(history).to_contain_text(f"1 rendez-vous à venir déplacé(s) vers {OTHER_SITE}")
    expect(history).to_contain_text("Permanence ajoutée")
    expect(page.get_by_role("region", name="Permanences (1)")).to_contain_text("Terminée")
    check_accessibility(page)

    with Session(engine) as session:
        appointment = session.exec(
            select(Appointment).where(Appointment.reference == reference)
        ).one()
        moved_to = session.get(Site, appointment.site_id).name
    assert (moved_to, appointment.status) == (OTHER_SITE, "booked")
