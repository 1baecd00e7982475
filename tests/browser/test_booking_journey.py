"""A person in work books a CEP appointment from a phone, without an account: motif and mode,
site, slot, contact details; the confirmation e-mail (captured by a real SMTP server) carries
the .ics and a link from which she moves it (the booking's slot picker), cancels it (after
confirming) and books again. Every page passes the axe-core WCAG 2.1 A/AA check."""

import re

import pytest
from icalendar import Calendar
from playwright.sync_api import Page, expect
from sqlmodel import Session, select

from app.core.config import get_settings
from app.models.operators import Operator, Site
from app.models.staff import StaffUser
from app.services.messaging.mail import transport_from_settings
from app.services.messaging.outbox import deliver_due
from tests.browser.conftest import SCREENSHOTS, check_accessibility
from tests.factories import make_appointment_type, make_openings
from tests.smtp import body

pytestmark = pytest.mark.browser

MOTIF = "Premier rendez-vous CEP (parcours)"


def _open_the_agenda(engine, email: str) -> str:
    """The counsellor receives at her site every morning; returns the operator's code."""
    with Session(engine, expire_on_commit=False) as session:
        counsellor = session.exec(select(StaffUser).where(StaffUser.email == email)).one()
        operator = session.get(Operator, counsellor.operator_id)
        site = session.exec(select(Site).where(Site.operator_id == operator.id)).first()
        make_appointment_type(
            session, operator, name=MOTIF, modes="on_site phone", cancel_cutoff_hours=1
        )
        make_openings(session, counsellor, site)
        session.commit()
        return operator.code


def test_a_person_books_from_a_phone_then_moves_and_cancels_from_the_email(
    browser, live_server, engine, smtp_server, monkeypatch
):
    monkeypatch.setattr(get_settings(), "public_base_url", live_server.url)
    monkeypatch.setattr(get_settings(), "public_rate_limit", "1000/minute")
    code = _open_the_agenda(engine, live_server.counsellor_email)
    phone = browser.new_context(viewport={"width": 390, "height": 844}, locale="fr-FR")
    phone.set_default_timeout(10_000)
    page: Page = phone.new_page()

    # The national entry: she knows her postcode, not the regional operator's code.
    page.goto(f"{live_server.url}/rendez-vous")
    check_accessibility(page)
    page.get_by_text("Qu'est-ce que le CEP ?").click()
    page.get_by_label("Actif du secteur privé ou indépendant").check()
    page.get_by_label("Votre code postal ou votre commune").fill("69007")
    page.screenshot(path=str(SCREENSHOTS / "journey-booking-00-entry.png"), full_page=True)
    page.get_by_role("button", name="Trouver mon conseiller").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Auvergne-Rhône-Alpes")
    assert "69007" not in page.url
    check_accessibility(page)
    page.screenshot(path=str(SCREENSHOTS / "journey-booking-00-operator.png"), full_page=True)
    page.get_by_role("link", name="Choisir mon rendez-vous").click()
    assert page.url.endswith(f"/rendez-vous?operateur={code}")
    check_accessibility(page)
    page.get_by_label(re.compile(re.escape(MOTIF))).check()
    page.get_by_label("Sur place", exact=False).first.check()
    page.get_by_role("button", name="Continuer").click()

    expect(page.get_by_role("heading", level=1)).to_contain_text("Où souhaitez-vous")
    check_accessibility(page)
    page.get_by_role("button", name="Voir les créneaux").click()

    expect(page.get_by_role("heading", level=1, name="Choisissez un créneau")).to_be_visible()
    check_accessibility(page)
    page.locator("main a.button").first.click()

    expect(page.get_by_role("heading", level=1, name="Vos coordonnées")).to_be_visible()
    assert "exemple" not in page.url  # no personal data in addresses
    page.get_by_label("Prénom").fill("Inès")
    page.get_by_label(re.compile(r"^Nom")).fill("Moreau-Delattre")
    page.get_by_label("Adresse e-mail").fill("ines.md@exemple.fr")
    expect(page.get_by_label("Code postal")).to_have_count(0)  # typed once, at the entry
    # Her situation, said at the entry, is not asked again; what brings her is.
    expect(page.get_by_label("Votre situation")).to_have_value("actif_prive")
    page.get_by_label("Ce qui vous amène").select_option(label="Se reconvertir")
    page.get_by_label("J'accepte que mes informations").check()
    page.get_by_label("J'accepte d'être recontacté·e").check()
    check_accessibility(page)
    page.get_by_role("button", name="Confirmer le rendez-vous").click()

    expect(
        page.get_by_role("heading", level=1, name="Votre rendez-vous est confirmé")
    ).to_be_visible()
    assert "ines" not in page.url.lower()
    check_accessibility(page)
    page.screenshot(path=str(SCREENSHOTS / "journey-booking-01-confirmed.png"), full_page=True)

    # The confirmation e-mail: a calendar file and the link to cancel or move.
    assert deliver_due(engine=engine, transport=transport_from_settings()).sent >= 1
    email = next(m for m in reversed(smtp_server.messages) if m["To"] == "ines.md@exemple.fr")
    ics = next(part for part in email.iter_attachments() if part.get_filename().endswith(".ics"))
    event = Calendar.from_ical(ics.get_content()).walk("VEVENT")[0]
    assert MOTIF in str(event["SUMMARY"])
    link = re.search(r"https?://\S+/rendez-vous/gerer/\S+", body(email)).group(0)

    page.goto(link)
    expect(page.get_by_role("heading", level=1, name="Votre rendez-vous")).to_be_visible()
    check_accessibility(page)

    # She moves it to a time of the next week, on the same picker as when booking.
    page.get_by_role("link", name="Déplacer le rendez-vous").click()
    expect(page.get_by_role("heading", level=1, name="Déplacer votre rendez-vous")).to_be_visible()
    check_accessibility(page)
    page.get_by_role("link", name="Semaine suivante").click()
    assert "semaine=" in page.url
    check_accessibility(page)
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    page.screenshot(path=str(SCREENSHOTS / "journey-booking-02-move.png"), full_page=True)
    page.locator("main button[name=start]").nth(1).click()
    expect(page.get_by_text("Votre rendez-vous est déplacé")).to_be_visible()
    expect(page.get_by_role("link", name="Reprendre rendez-vous")).to_be_visible()
    check_accessibility(page)

    # Then she cancels it after all: a confirmation first, with an optional reason.
    page.get_by_role("link", name="Annuler le rendez-vous").click()
    expect(page.get_by_role("heading", level=1, name="Annuler votre rendez-vous ?")).to_be_visible()
    check_accessibility(page)
    page.get_by_label("Motif de l'annulation (facultatif)").fill("Un imprévu au travail.")
    page.get_by_role("button", name="Confirmer l'annulation").click()
    expect(page.get_by_text("Ce rendez-vous est annulé")).to_be_visible()
    expect(page.get_by_text("Un e-mail de confirmation vous est envoyé.")).to_be_visible()
    check_accessibility(page)
    page.screenshot(path=str(SCREENSHOTS / "journey-booking-03-cancelled.png"), full_page=True)

    # Booking again starts at the slots of the same motif and site.
    page.get_by_role("link", name="Reprendre rendez-vous").click()
    expect(page.get_by_role("heading", level=1, name="Choisissez un créneau")).to_be_visible()
    expect(page.get_by_text(MOTIF, exact=False).first).to_be_visible()
    phone.close()
    deliver_due(engine=engine, transport=transport_from_settings())  # the cancellation notice
    assert smtp_server.messages[-1]["To"] == "ines.md@exemple.fr"
    assert f"{live_server.url}/rendez-vous/creneaux?operateur={code}" in body(
        smtp_server.messages[-1]
    )
