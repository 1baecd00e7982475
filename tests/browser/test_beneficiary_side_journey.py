"""The beneficiary's side end to end, on a 390 px phone, with a mobile number and no e-mail:
postcode → operator → motive → slot → the confirmation SMS (read from a real HTTP gateway) →
move → cancel with confirmation → book again → join the waiting list → someone else's
cancellation offers the slot → accept → the personal space → acknowledge a document.
Every page passes axe-core's WCAG 2.1 A/AA check and fits the screen."""

import re
from datetime import time, timedelta

import pytest
from playwright.sync_api import Page, expect
from sqlmodel import Session, select

from app.core.config import get_settings
from app.models.appointments import Appointment, AppointmentStatus, OpeningSlot
from app.models.beneficiaries import Beneficiary
from app.models.staff import StaffUser
from app.services.admin.operators import create_operator
from app.services.booking.changes import cancel_appointment
from app.services.booking.waiting_list_offers import offer_freed_slots
from app.services.deliverables.documents import issue_deliverable
from app.services.deliverables.sharing import share_version
from app.services.messaging.mail import transport_from_settings
from app.services.messaging.outbox import deliver_due
from tests.browser.conftest import SCREENSHOTS, check_accessibility
from tests.factories import (
    draft,
    make_appointment,
    make_appointment_type,
    make_case,
    make_site,
    make_staff,
    working_day_at,
)
from tests.sms_gateway import TOKEN, SmsGateway

pytestmark = pytest.mark.browser

PHONE = {"width": 390, "height": 844}
MOBILE = "+33612345678"
MOTIF = "Premier entretien CEP"
WEEKDAYS = ("Lundi", "Mardi", "Mercredi", "Jeudi", "Vendredi", "Samedi", "Dimanche")
SHORT_LINK = re.compile(r"https?://\S+/s/[A-Za-z0-9]{16}")


@pytest.fixture
def gateway(monkeypatch):
    with SmsGateway() as server:
        monkeypatch.setattr(get_settings(), "sms_gateway_url", server.url)
        monkeypatch.setattr(get_settings(), "sms_gateway_token", TOKEN)
        yield server


def _bretagne(engine):
    """An operator of its own (Bretagne, served from 35000), so that no other journey's
    openings mix in: one counsellor receiving in Rennes on two days only — the morning of the
    first (9:00 and 10:00), the afternoon of the second (14:00), which Bob has booked.
    Returns (the second day, Bob's appointment id)."""
    with Session(engine, expire_on_commit=False) as session:
        operator = create_operator(session=session, code="BRE", name="Bretagne", region_code="53")
        site = make_site(
            session, operator, name="Rennes Colombier", postcode="35000", city="Rennes"
        )
        counsellor = make_staff(
            session, operator, email="conseil@bre.test", full_name="Yann Le Gall"
        )
        kind = make_appointment_type(
            session, operator, name=MOTIF, modes="on_site", cancel_cutoff_hours=1
        )
        morning = working_day_at(site, days_ahead=3, hour=9)
        afternoon = working_day_at(site, days_ahead=4, hour=14)
        if afternoon.date() == morning.date():
            afternoon += timedelta(days=1)
        for day, start, end in ((morning, time(9), time(11)), (afternoon, time(14), time(15))):
            session.add(
                OpeningSlot(
                    operator_id=operator.id,
                    counsellor_id=counsellor.id,
                    site_id=site.id,
                    weekday=day.weekday(),
                    start_time=start,
                    end_time=end,
                    valid_from=day.date(),
                    valid_until=day.date(),
                )
            )
        bob = make_appointment(
            session, starts_at=afternoon, counsellor=counsellor, site=site, appointment_type=kind
        )
        session.commit()
        return afternoon, bob.id


def _sms_link(gateway: SmsGateway, engine, words: str) -> str:
    """Deliver what is due, then the short link of the last SMS to the mobile saying `words`."""
    deliver_due(engine=engine, transport=transport_from_settings())
    texts = [r.body["text"] for r in gateway.received if r.body["to"] == MOBILE]
    text = next(t for t in reversed(texts) if words in t)
    return SHORT_LINK.search(text).group(0)


def _checked(page: Page, name: str) -> None:
    check_accessibility(page)
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"], f"{page.url} is {width} px wide at 390 px"
    page.screenshot(path=str(SCREENSHOTS / f"beneficiary-{name}-390.png"), full_page=True)


def _book_from_the_postcode(page: Page, base: str) -> None:
    page.goto(f"{base}/rendez-vous")
    _checked(page, "01-entry")
    page.get_by_label("Actif du secteur privé ou indépendant").check()
    page.get_by_label("Votre code postal ou votre commune").fill("35000")
    page.get_by_role("button", name="Trouver mon conseiller").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Bretagne")
    _checked(page, "02-operator")
    page.get_by_role("link", name="Choisir mon rendez-vous").click()
    _checked(page, "03-motive")
    page.get_by_label(re.compile(MOTIF)).check()
    page.get_by_role("button", name="Continuer").click()
    _checked(page, "04-site")
    page.get_by_role("button", name="Voir les créneaux").click()
    expect(page.get_by_role("heading", level=1, name="Choisissez un créneau")).to_be_visible()
    _checked(page, "05-slots")
    page.locator("main a.button").first.click()
    expect(page.get_by_role("heading", level=1, name="Vos coordonnées")).to_be_visible()
    page.get_by_label("Prénom").fill("Maëlle")
    page.get_by_label(re.compile(r"^Nom")).fill("Kerhervé")
    page.get_by_label("Téléphone").fill("06 12 34 56 78")
    page.get_by_label("Ce qui vous amène").select_option(label="Se reconvertir")
    page.get_by_label("J'accepte que mes informations").check()
    _checked(page, "06-contact")
    page.get_by_role("button", name="Confirmer le rendez-vous").click()
    expect(
        page.get_by_role("heading", level=1, name="Votre rendez-vous est confirmé")
    ).to_be_visible()
    _checked(page, "07-confirmed")


def _move_then_cancel(page: Page) -> None:
    page.get_by_role("link", name="Déplacer le rendez-vous").click()
    expect(page.get_by_role("heading", level=1, name="Déplacer votre rendez-vous")).to_be_visible()
    _checked(page, "09-move")
    page.locator("main button[name=start]").first.click()
    expect(page.get_by_text("Votre rendez-vous est déplacé")).to_be_visible()
    expect(page.get_by_text("Un SMS avec le nouvel horaire vous est envoyé.")).to_be_visible()
    _checked(page, "10-moved")
    page.get_by_role("link", name="Annuler le rendez-vous").click()
    expect(page.get_by_role("heading", level=1, name="Annuler votre rendez-vous ?")).to_be_visible()
    _checked(page, "11-cancel")
    page.get_by_label("Motif de l'annulation (facultatif)").fill("Une réunion imprévue.")
    page.get_by_role("button", name="Confirmer l'annulation").click()
    expect(page.get_by_text("Ce rendez-vous est annulé")).to_be_visible()
    _checked(page, "12-cancelled")


def _join_the_waiting_list(page: Page, afternoon) -> None:
    """Booking again: the same motive and site, straight to their slots; none suits her (she
    is free only on the second day's afternoon, which is taken), so she joins the list."""
    page.get_by_role("link", name="Reprendre rendez-vous").click()
    expect(page.get_by_role("heading", level=1, name="Choisissez un créneau")).to_be_visible()
    expect(page.get_by_text("Rennes Colombier").first).to_be_visible()
    _checked(page, "13-book-again")
    page.get_by_role("link", name="Être prévenu·e d'une place libérée").click()
    _checked(page, "14-waiting-list")
    page.get_by_label(WEEKDAYS[afternoon.weekday()]).check()
    page.get_by_label("Après-midi").check()
    page.get_by_label("Prénom").fill("Maëlle")
    page.get_by_label(re.compile(r"^Nom")).fill("Kerhervé")
    page.get_by_label("Téléphone mobile").fill("06 12 34 56 78")
    page.get_by_label("J'accepte que mes informations").check()
    page.get_by_role("button", name="M'inscrire sur la liste d'attente").click()
    _checked(page, "15-waiting")


def _share_a_document(engine) -> str:
    """Her counsellor opens her case after the appointment and shares a document; its title."""
    with Session(engine, expire_on_commit=False) as session:
        counsellor = session.exec(
            select(StaffUser).where(StaffUser.email == "conseil@bre.test")
        ).one()
        person = session.exec(select(Beneficiary).where(Beneficiary.phone == MOBILE)).one()
        deliverable = draft(session, counsellor, make_case(session, counsellor, person))
        issue_deliverable(session=session, actor=counsellor, deliverable_id=deliverable.id)
        share_version(session=session, actor=counsellor, deliverable_id=deliverable.id, number=1)
        session.commit()
        return deliverable.title


def test_the_beneficiary_side_from_a_phone_with_sms_only(
    browser, live_server, engine, gateway, monkeypatch
):
    monkeypatch.setattr(get_settings(), "public_base_url", live_server.url)
    monkeypatch.setattr(get_settings(), "public_rate_limit", "1000/minute")
    afternoon, bobs = _bretagne(engine)
    context = browser.new_context(viewport=PHONE, locale="fr-FR", timezone_id="Europe/Paris")
    context.set_default_timeout(10_000)
    page = context.new_page()

    _book_from_the_postcode(page, live_server.url)
    page.goto(_sms_link(gateway, engine, "confirmé"))
    expect(page.get_by_role("heading", level=1, name="Votre rendez-vous")).to_be_visible()
    _checked(page, "08-from-sms")
    _move_then_cancel(page)
    _join_the_waiting_list(page, afternoon)

    # Bob cancels: the worker offers his slot to the first person waiting, by SMS.
    with Session(engine) as session:
        cancel_appointment(session=session, appointment_id=bobs)
        session.commit()
    with Session(engine) as session:
        assert offer_freed_slots(session=session) == 1
        session.commit()
    page.goto(_sms_link(gateway, engine, "Place libérée"))
    expect(page.get_by_role("heading", level=1, name="Une place s'est libérée")).to_be_visible()
    expect(page.get_by_role("banner")).to_have_text("Bretagne")
    _checked(page, "16-offer")
    page.get_by_role("button", name="Accepter ce rendez-vous").click()
    expect(
        page.get_by_role("heading", level=1, name="Votre rendez-vous est confirmé")
    ).to_be_visible()
    _checked(page, "17-accepted")
    with Session(engine) as session:
        mine = session.exec(
            select(Appointment)
            .join(Beneficiary, Beneficiary.id == Appointment.beneficiary_id)
            .where(Beneficiary.phone == MOBILE, Appointment.starts_at == afternoon)
        ).one()
        assert mine.status == AppointmentStatus.BOOKED

    # Her personal space, asked with her mobile number: the link comes by SMS.
    title = _share_a_document(engine)
    page.goto(f"{live_server.url}/mon-espace")
    _checked(page, "18-space-ask")
    page.get_by_label(re.compile("Votre adresse e-mail ou votre numéro")).fill("06 12 34 56 78")
    page.get_by_role("button", name="Recevoir mon lien").click()
    expect(page.get_by_role("status")).to_contain_text("Si ces coordonnées sont connues")
    page.goto(_sms_link(gateway, engine, "Espace personnel"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Bonjour Maëlle")
    _checked(page, "19-space")
    page.get_by_role("link", name=title).click()
    page.get_by_role("button", name="J'ai pris connaissance de ce document").click()
    expect(page.locator("#accuse")).to_contain_text("Vous avez indiqué avoir pris connaissance")
    _checked(page, "20-acknowledged")
    context.close()
