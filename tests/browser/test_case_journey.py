"""One counsellor's journey through the real UI, keyboard-friendly controls only, with an
axe-core WCAG 2.1 A/AA check on every page and after every htmx swap that changes the page.

Screenshots land in test-results/journey-*.png for a human to look at.
"""

import re

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import (
    assert_no_reload,
    check_accessibility,
    htmx_idle,
    mark_page,
    open_case_tab,
)

pytestmark = pytest.mark.browser

FIRST_NAME, LAST_NAME = "Zéphyrine", "Aubertin-Lefèvre"
FULL_NAME = f"{FIRST_NAME} {LAST_NAME}"


def _disclosure(page: Page, title: str):
    """The <details> whose <summary> starts with `title`, opened from the keyboard."""
    details = page.locator("details").filter(
        has=page.locator("summary", has_text=re.compile(rf"^\s*{re.escape(title)}"))
    )
    expect(details).to_have_count(1)
    htmx_idle(page)
    summary = details.locator("summary")
    summary.focus()
    summary.press("Enter")
    expect(details).to_have_attribute("open", "")
    return details


def _start_unit(page: Page, label: str, code: str, starts_so_far: int) -> None:
    """From « Unités », open « Démarrer une unité d'œuvre », pick `label`: the confirmation
    takes the focus; then the timeline of « Historique » shows the start."""
    open_case_tab(page, "Unités")
    details = _disclosure(page, "Démarrer une unité d'œuvre")
    check_accessibility(page)
    details.get_by_label("Unité").select_option(label=label)
    details.get_by_role("button", name="Démarrer").press("Enter")
    expect(page.locator(".done")).to_contain_text(f"{code} démarrée.")
    expect(page.locator(".done")).to_be_focused()
    open_case_tab(page, "Historique")
    timeline = page.get_by_role("region", name="Historique")
    expect(timeline.get_by_text(f"Début {code}")).to_have_count(starts_so_far)
    assert_no_reload(page)
    check_accessibility(page)


def test_counsellor_takes_a_request_and_follows_the_case(page: Page, live_server, screenshot):
    base = live_server.url

    # Log in.
    page.goto(f"{base}/login")
    expect(page.get_by_role("heading", level=1, name="Connexion")).to_be_visible()
    expect(page.get_by_label("Adresse e-mail")).to_be_focused()  # autofocus
    check_accessibility(page)
    screenshot("01-login")
    page.get_by_label("Adresse e-mail").fill(live_server.counsellor_email)
    page.get_by_label("Mot de passe").fill(live_server.password)
    page.get_by_label("Mot de passe").press("Enter")

    # Home.
    expect(page).to_have_url(f"{base}/")
    expect(
        page.get_by_role("heading", level=1, name=f"Bonjour {live_server.counsellor_name}")
    ).to_be_visible()
    check_accessibility(page)
    screenshot("02-home")

    # New request: look the person up first; nobody matches.
    page.get_by_role("link", name="Nouvelle demande").click()
    expect(page.get_by_role("heading", level=1, name="Nouvelle demande")).to_be_visible()
    check_accessibility(page)
    search = page.get_by_role("searchbox", name="Nom, e-mail ou téléphone")
    search.press_sequentially(LAST_NAME, delay=15)
    expect(page.locator("#matches")).to_contain_text(f"Personne ne correspond à « {LAST_NAME} »")
    expect(page).to_have_url(f"{base}/triage/new")  # htmx, no navigation
    check_accessibility(page)
    screenshot("03-search-no-match")

    # The new person and the request.
    page.get_by_label("Prénom").fill(FIRST_NAME)
    page.get_by_role("textbox", name="Nom", exact=True).fill(LAST_NAME)
    page.get_by_label("Adresse e-mail").fill("zephyrine.aubertin@exemple.fr")
    phone = page.get_by_role("textbox", name="Téléphone", exact=True)
    expect(phone).to_have_accessible_description("Ex. 06 12 34 56 78")
    phone.fill("06 12 34 56 78")
    page.get_by_label("La personne accepte que ses données").check()
    page.get_by_label("Canal").select_option(label="Téléphone")
    page.get_by_label("Situation au regard du CEP").select_option(
        label="Actif du secteur privé ou indépendant"
    )
    page.get_by_label("Motif de la demande").select_option(label="Se reconvertir")
    page.get_by_label("La demande, dans les mots de la personne").fill(
        "Aide-soignante depuis douze ans, je voudrais me reconvertir dans l'éducation."
    )
    page.get_by_label("Premier conseil donné").fill(
        "Consulter les fiches métiers d'éducatrice spécialisée avant le premier entretien."
    )
    screenshot("04-new-request-filled")
    page.get_by_role("button", name="Enregistrer la demande").click()

    # Triage detail: open the case with its referent.
    expect(page.get_by_role("heading", level=1, name=f"Demande de {FULL_NAME}")).to_be_visible()
    expect(page).to_have_url(re.compile(rf"{re.escape(base)}/triage/\d+$"))
    check_accessibility(page)
    screenshot("05-triage-detail")
    page.get_by_label("Conseiller·ère référent·e").select_option(label=live_server.counsellor_name)
    page.get_by_role("button", name="Ouvrir le dossier").click()

    # The case page.
    expect(page).to_have_url(re.compile(rf"{re.escape(base)}/cases/\d+$"))
    heading = page.get_by_role("heading", level=1)
    expect(heading).to_contain_text("Dossier")
    expect(heading.locator(".badge")).to_have_text("Ouvert")
    expect(page.get_by_text("Aucune unité en cours")).to_be_visible()
    timeline = page.get_by_role("region", name="Historique")
    check_accessibility(page)
    screenshot("06-case-opened")
    mark_page(page)

    # Start UO1.
    _start_unit(page, "Niveau 1 — Accueil individualisé", "UO1", 1)
    screenshot("07-uo1-started")

    # An interaction linked to the running UO1.
    details = _disclosure(page, "Enregistrer un entretien")
    check_accessibility(page)
    expect(details.get_by_label("Rattaché à").locator("option:checked")).to_contain_text("UO1")
    details.get_by_label("Durée (minutes)").fill("50")
    details.get_by_label("Canal").select_option(label="Sur site")
    details.get_by_label("Synthèse partagée avec le bénéficiaire").fill(
        "Premier entretien : parcours, envies, contraintes familiales."
    )
    notes = details.get_by_label("Notes privées")
    expect(notes).to_have_accessible_description("Jamais communiquées au bénéficiaire.")
    notes.fill("À rappeler après les vacances scolaires.")
    screenshot("08-interaction-form")
    details.get_by_role("button", name="Enregistrer l'entretien").click()
    interaction = timeline.get_by_role("listitem").filter(has_text="Premier entretien : parcours")
    expect(interaction).to_have_count(1)
    expect(interaction).to_contain_text("Entretien · Sur site · 50 min")
    expect(interaction).to_contain_text("UO1")
    assert_no_reload(page)
    check_accessibility(page)

    # Start UO2.1 while UO1 runs.
    _start_unit(page, "Niveau 2 — Conseil personnalisé", "UO2.1", 1)

    # End UO1.
    open_case_tab(page, "Unités")
    details = _disclosure(page, "Terminer UO1")
    check_accessibility(page)
    details.get_by_label("Résultat").fill("Projet d'éducatrice spécialisée confirmé")
    details.get_by_role("button", name="Terminer").click()
    expect(page.locator(".done")).to_contain_text("UO1 terminée.")
    open_case_tab(page, "Historique")
    expect(timeline.get_by_text("Fin UO1")).to_have_count(1)
    expect(timeline).to_contain_text("Projet d'éducatrice spécialisée confirmé")
    assert_no_reload(page)
    check_accessibility(page)

    # Back to level 1: UO1 again.
    _start_unit(page, "Niveau 1 — Accueil individualisé", "UO1", 2)
    screenshot("09-back-to-uo1")

    # The whole story is in the timeline, newest first: the triage (UO0, with its phone call)
    # then the three starts of this journey, UO1's end and the interaction linked to UO1.
    starts = timeline.locator(".timeline-kind strong").filter(has_text=re.compile(r"^Début "))
    expect(starts).to_have_text(["Début UO1", "Début UO2.1", "Début UO1", "Début UO0"])
    expect(timeline.get_by_text("Fin UO1")).to_have_count(1)
    expect(timeline.get_by_text("Fin UO0")).to_have_count(1)
    interactions = timeline.locator(".timeline-kind strong").filter(has_text="Entretien")
    expect(interactions).to_have_count(2)
    expect(interaction).to_contain_text("UO1")
    running = page.locator(".case-header dd").filter(has=page.locator(".badge.running"))
    expect(running.locator(".badge.running")).to_have_text(["UO2.1", "UO1"])

    # Close the case.
    open_case_tab(page, "Dossier")
    details = _disclosure(page, "Clore le dossier")
    check_accessibility(page)
    details.get_by_label("Motif de clôture").select_option(label="Accompagnement terminé")
    details.get_by_label("Précision").fill("Entrée en formation en septembre.")
    details.get_by_role("button", name="Clore le dossier").click()
    expect(heading.locator(".badge")).to_have_text("Clos")
    expect(page.get_by_role("button", name="Rouvrir le dossier")).to_be_visible()
    expect(
        page.get_by_text("Accompagnement terminé (Entrée en formation en septembre.)")
    ).to_be_visible()
    assert_no_reload(page)
    check_accessibility(page)
    screenshot("10-case-closed")

    # Closing ends the units under way.
    expect(page.get_by_text("Aucune unité en cours")).to_be_visible()

    # Find the person again from the header search, then her profile.
    page.get_by_role("searchbox", name="Rechercher une personne ou un dossier").fill(LAST_NAME)
    page.get_by_role("button", name="Rechercher").first.click()
    expect(page.get_by_role("heading", level=1, name="Recherche")).to_be_visible()
    check_accessibility(page)
    page.get_by_role("link", name=re.compile(LAST_NAME, re.IGNORECASE)).first.click()
    expect(page.get_by_role("heading", name="Dossiers")).to_be_visible()
    check_accessibility(page)
    screenshot("11-beneficiary")

    # The triage queue, and a page that does not exist.
    page.get_by_role("link", name="Accueil et aiguillage").click()
    expect(page.get_by_role("heading", level=1, name="Accueil et aiguillage (UO0)")).to_be_visible()
    check_accessibility(page)
    page.goto(f"{base}/cases/999999")
    expect(page.get_by_role("heading", level=1, name="Introuvable")).to_be_visible()
    check_accessibility(page)
