"""The counsellor's day, end to end (issue 15): a request taken at triage opens a case; a level 1
interview; the level 1 summary drafted from it, previewed as the PDF it will be, issued; level 2;
an action plan; a referral the partner refuses from the e-mail's link; the counsellor is told in
the app; she books a follow-up from the case. Every page and every swap is checked by axe-core
at 1366 × 768 and at 390 × 844, and no page scrolls sideways at either width."""

import re

import pytest
from playwright.sync_api import Page, expect
from sqlmodel import Session, select

from app.core.config import get_settings
from app.models.operators import Operator, Site
from app.models.staff import StaffUser
from app.services.messaging.mail import transport_from_settings
from app.services.messaging.notifications import mark_all_read
from app.services.messaging.outbox import deliver_due
from tests.browser.conftest import (
    assert_no_reload,
    check_accessibility,
    mark_page,
    open_case_tab,
    sign_in,
)
from tests.factories import make_appointment_type, make_openings, make_partner
from tests.smtp import body

pytestmark = pytest.mark.browser

FIRST_NAME, LAST_NAME = "Léonie", "Dubœuf-Carré"
PARTNER = {"name": "Transitions Pro — antenne de Lyon", "email": "accueil@tpro-lyon.exemple.fr"}
MOTIF = "Entretien de suivi (journée d'une conseillère)"
WIDTHS = ({"width": 1366, "height": 768}, {"width": 390, "height": 844})


def _prepare(engine, email: str) -> None:
    """A partner with an e-mail address, a motif and morning openings at the counsellor's
    site; what other journeys told her on the shared server is read first."""
    with Session(engine, expire_on_commit=False) as session:
        counsellor = session.exec(select(StaffUser).where(StaffUser.email == email)).one()
        operator = session.get(Operator, counsellor.operator_id)
        site = session.exec(select(Site).where(Site.operator_id == operator.id)).first()
        make_partner(session, operator, **PARTNER)
        make_appointment_type(session, operator, name=MOTIF, modes="on_site phone")
        make_openings(session, counsellor, site)
        mark_all_read(session=session, actor=counsellor)
        session.commit()


def _checked(page: Page) -> None:
    """axe-core at both widths, no sideways scroll at either; back to the desktop width."""
    for size in WIDTHS:
        page.set_viewport_size(size)
        check_accessibility(page)
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= size["width"], f"{page.url} scrolls sideways at {size['width']} px"
    page.set_viewport_size(WIDTHS[0])


def _confirmed(page: Page, text: str):
    """The action's confirmation, focused and in view."""
    said = page.get_by_role("status").filter(has_text=text)
    expect(said).to_be_focused()
    expect(said).to_be_in_viewport()
    return said


def _open(page: Page, title: str):
    details = page.locator("details").filter(
        has=page.locator("summary", has_text=re.compile(rf"^\s*{re.escape(title)}"))
    )
    details.locator("summary").click()
    expect(details).to_have_attribute("open", "")
    return details


def _start_unit(page: Page, label: str, code: str) -> None:
    open_case_tab(page, "Unités")
    details = _open(page, "Démarrer une unité d'œuvre")
    details.get_by_label("Unité").select_option(label=label)
    details.get_by_role("button", name="Démarrer").click()
    _confirmed(page, code)
    assert_no_reload(page)
    _checked(page)


def _record_interview(page: Page, summary: str) -> None:
    open_case_tab(page, "Historique")
    details = _open(page, "Enregistrer un entretien")
    details.get_by_label("Canal").select_option(label="Sur site")
    details.get_by_label("Synthèse partagée avec le bénéficiaire").fill(summary)
    details.get_by_role("button", name="Enregistrer l'entretien").click()
    said = _confirmed(page, "Entretien enregistré")
    link = said.get_by_role("link", name="Voir dans l'historique")
    entry = page.locator(link.get_attribute("href"))
    link.press("Enter")
    expect(entry).to_contain_text(summary)
    expect(entry).to_be_in_viewport()
    assert_no_reload(page)
    _checked(page)


def _take_the_request(page: Page, base: str) -> str:
    """From the home page to the case opened at triage; returns the case's address."""
    page.get_by_role("link", name="Nouvelle demande").first.click()
    expect(page.get_by_role("heading", level=1, name="Nouvelle demande")).to_be_visible()
    _checked(page)
    page.get_by_label("Prénom").fill(FIRST_NAME)
    page.get_by_role("textbox", name="Nom", exact=True).fill(LAST_NAME)
    page.get_by_label("Adresse e-mail").fill("leonie.duboeuf@exemple.fr")
    page.get_by_label("La personne accepte que ses données").check()
    page.get_by_label("Canal").select_option(label="Téléphone")
    page.get_by_label("Situation au regard du CEP").select_option(
        label="Actif du secteur privé ou indépendant"
    )
    page.get_by_label("Motif de la demande").select_option(label="Se reconvertir")
    page.get_by_label("La demande, dans les mots de la personne").fill(
        "Comptable depuis quinze ans, je voudrais travailler dans l'accompagnement social."
    )
    page.get_by_role("button", name="Enregistrer la demande").click()
    full_name = f"{FIRST_NAME} {LAST_NAME}"
    expect(page.get_by_role("heading", level=1, name=f"Demande de {full_name}")).to_be_visible()
    _checked(page)
    page.get_by_role("button", name="Ouvrir le dossier").click()
    expect(page).to_have_url(re.compile(rf"{re.escape(base)}/cases/\d+"))
    _checked(page)
    mark_page(page)
    return page.url.split("?")[0]


def _level_1_summary(page: Page, case_url: str) -> None:
    """Drafted from the interview, previewed as a PDF, issued as version 1."""
    open_case_tab(page, "Documents")
    documents = page.get_by_role("region", name="Livrables et preuves")
    documents.get_by_label("Rédiger un livrable").select_option(label="Synthèse de l'entretien")
    documents.get_by_role("button", name="Rédiger à partir du dossier").click()
    expect(page.get_by_role("heading", level=1, name="Synthèse de l'entretien")).to_be_visible()
    shared = page.get_by_label("Ce que nous avons travaillé ensemble")
    expect(shared).to_have_value(re.compile("quinze ans de comptabilité"))
    _checked(page)

    with page.expect_download() as preview:
        page.get_by_role("button", name="Aperçu du PDF").click()
    pdf = preview.value.path().read_bytes()
    assert pdf.startswith(b"%PDF")

    page.get_by_role("button", name="Émettre la version 1").click()
    _confirmed(page, "Version 1 émise")
    versions = page.get_by_role("region", name="Versions émises")
    expect(versions.get_by_text("Version 1", exact=True)).to_be_visible()
    _checked(page)
    page.goto(case_url)
    mark_page(page)


def _action_plan(page: Page) -> None:
    open_case_tab(page, "Documents")
    plan = page.get_by_role("region", name="Plan d'action")
    plan.get_by_label("Objectif du plan d'action").fill(
        "Entrer en formation de conseillère en économie sociale et familiale."
    )
    plan.get_by_role("button", name="Enregistrer l'objectif").click()
    _confirmed(page, "Objectif")
    plan = page.get_by_role("region", name="Plan d'action")
    add = plan.get_by_role("form", name="Ajouter une étape")
    add.get_by_label("Action").fill("Déposer un dossier de projet de transition professionnelle")
    add.get_by_role("button", name="Ajouter l'étape").click()
    _confirmed(page, "Étape ajoutée")
    assert_no_reload(page)
    _checked(page)


def _refer_and_be_refused(page: Page, browser, engine, smtp_server) -> None:
    open_case_tab(page, "Orientations")
    section = page.get_by_role("region", name="Orientations vers des partenaires")
    section.locator("summary", has_text="Orienter vers un partenaire").click()
    section.get_by_role("combobox", name="Partenaire").select_option(label=PARTNER["name"])
    section.get_by_label("Objet de l'orientation").fill("Projet de transition professionnelle")
    section.get_by_label("La personne donne maintenant son accord").check()
    section.get_by_label("Envoyer tout de suite au partenaire").check()
    section.get_by_role("button", name="Enregistrer l'orientation").click()
    _confirmed(page, "Orientation envoyée")
    assert_no_reload(page)
    _checked(page)

    report = deliver_due(engine=engine, transport=transport_from_settings())
    assert report.sent >= 1
    email = next(m for m in reversed(smtp_server.messages) if m["To"] == PARTNER["email"])
    link = re.search(r"https?://\S+/partenaire/orientations/\S+", body(email)).group(0)
    partner = browser.new_context(viewport=WIDTHS[1], locale="fr-FR")
    partner_page = partner.new_page()
    partner_page.goto(link)
    _checked(partner_page)
    partner_page.get_by_label("Motif du refus").fill(
        "Dossier à déposer après six mois d'ancienneté"
    )
    partner_page.get_by_role("button", name="Refuser l'orientation").click()
    expect(partner_page.get_by_role("status")).to_contain_text("refus")
    _checked(partner_page)
    partner.close()


def _told_in_the_app(page: Page, case_url: str) -> None:
    page.goto(case_url)
    nav = page.get_by_role("navigation", name="Navigation principale")
    link = nav.get_by_role("link", name=re.compile(r"^Notifications 1 non lue$"))
    expect(link).to_be_visible()
    link.click()
    item = page.locator(".notification", has_text=f"{PARTNER['name']} a refusé")
    expect(item.get_by_text("Non lue", exact=True)).to_be_visible()
    _checked(page)
    item.get_by_role("button", name=re.compile("^Ouvrir")).click()
    expect(page).to_have_url(re.compile(rf"^{re.escape(case_url)}"))
    referral = page.locator("li[id^='ref-']").filter(has_text=PARTNER["name"])
    expect(referral).to_contain_text("Refusée")
    _checked(page)
    mark_page(page)


def _book_a_follow_up(page: Page, site_name: str) -> None:
    open_case_tab(page, "Rendez-vous")
    panel = page.locator("#case-booking")
    panel.get_by_label("Motif").select_option(label=MOTIF)
    panel.get_by_label("Mode").select_option(label="Sur site")
    panel.get_by_label("Lieu (sur site)").select_option(label=site_name)
    panel.get_by_role("button", name="Voir les créneaux libres").click()
    choice = panel.locator("fieldset.slot-day").first.get_by_role("radio").first
    choice.check()
    panel.get_by_role("button", name="Confirmer le rendez-vous").click()
    _confirmed(page, "Rendez-vous réservé")
    assert_no_reload(page)
    _checked(page)


def test_the_counsellors_day_from_triage_to_the_follow_up(
    page: Page, browser, live_server, engine, smtp_server, monkeypatch
):
    monkeypatch.setattr(get_settings(), "public_base_url", live_server.url)
    _prepare(engine, live_server.counsellor_email)
    page.set_viewport_size(WIDTHS[0])
    sign_in(page, live_server, live_server.counsellor_email)
    _checked(page)

    case_url = _take_the_request(page, live_server.url)
    _start_unit(page, "Niveau 1 — Accueil individualisé", "UO1")
    _record_interview(page, "Nous avons retracé quinze ans de comptabilité et ses envies.")
    _level_1_summary(page, case_url)
    _start_unit(page, "Niveau 2 — Conseil personnalisé", "UO2.1")
    _action_plan(page)
    _refer_and_be_refused(page, browser, engine, smtp_server)
    _told_in_the_app(page, case_url)
    _book_a_follow_up(page, live_server.site_name)
