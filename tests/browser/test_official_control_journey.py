"""France compétences controls ARA (issue 19, « Done when »): the controller opens a campaign
and draws its sample; ARA's admin finds a proof missing, issues and hands it over from the case,
records it and submits; the controller judges each unit (one not conform); the admin answers
that finding once; the controller closes; ARA's ledger shows the réfaction. axe-core WCAG 2.1
A/AA on every page, the operator's pages also at phone width."""

import re
from datetime import UTC, datetime, timedelta

import pytest
from playwright.sync_api import Page, expect
from sqlmodel import Session, delete, select

from app.models.catalogue import UnitProofRequirement
from app.models.nomenclatures import Role
from app.models.staff import StaffUser
from app.services.reports.ledger import previous_month
from tests.browser.conftest import POLICY_WORDS, SCREENSHOTS, check_accessibility, htmx_idle
from tests.factories import (
    deliverable_kind,
    ended_unit,
    make_case,
    make_lot,
    make_operator,
    make_staff,
    paris_today,
    unit_id,
)

pytestmark = pytest.mark.browser

CONTROLLER = "controleuse@francecompetences.test"
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 900}
PRICE = "120,50"


def control_period():
    """The month before last where the operator is: no other journey ends a unit in it, so the
    population and the ledger are this journey's four units."""
    last_month_start, _ = previous_month(paris_today())
    return previous_month(last_month_start)


@pytest.fixture
def ara_units(engine, live_server):
    """Four UO0 units of ARA ended in the period, at 120,50 € in ARA's lot, all billable (UO0
    asks for no proof yet); a controller of France compétences. Afterwards UO0 asks for no
    proof again, and no lot is in force today: the journeys after this one find ARA as seeded."""
    start, end = control_period()
    ended = datetime(start.year, start.month, 10, 9, tzinfo=UTC)
    with Session(engine, expire_on_commit=False) as session:
        ara = make_operator(session)
        # The lot ends with the period: the episodes other journeys start today get none.
        lot = make_lot(session, ara, UO0="120.50")
        lot.ends_on = end
        session.add(lot)
        counsellor = session.exec(
            select(StaffUser).where(StaffUser.email == live_server.counsellor_email)
        ).one()
        for _ in range(4):
            ended_unit(session, make_case(session, counsellor), "UO0", ended_at=ended)
        make_staff(session, None, Role.CONTROLLER, email=CONTROLLER, full_name="Jeanne Vidal")
        session.commit()
    yield ara
    with Session(engine) as session:  # only the requirement this journey added
        added = delete(UnitProofRequirement).where(
            UnitProofRequirement.operator_id == ara.id,
            UnitProofRequirement.unit_id == unit_id(session, "UO0"),
        )
        session.exec(added)
        session.commit()


def require_a_summary_of_uo0(engine, ara) -> None:
    """After the draw, ARA's catalogue starts asking UO0 for a document de synthèse: the
    sampled units now lack a proof (as tests/control/test_campaign_submission.py does)."""
    with Session(engine) as session:
        kind = deliverable_kind(session, ara.id, "document_synthese")
        session.add(
            UnitProofRequirement(
                operator_id=ara.id, kind_id=kind.id, unit_id=unit_id(session, "UO0")
            )
        )
        session.commit()


def new_page(browser, policy_refusals) -> Page:
    """A second person's browser, under the same policies as the `page` fixture's."""
    context = browser.new_context(viewport=DESKTOP, locale="fr-FR", timezone_id="Europe/Paris")
    context.set_default_timeout(10_000)
    other = context.new_page()

    def on_console(message) -> None:
        if any(word in message.text for word in POLICY_WORDS):
            policy_refusals.append(f"{other.url}: {message.text}")

    other.on("console", on_console)
    return other


def sign_in_as(page: Page, live_server, email: str) -> None:
    page.goto(f"{live_server.url}/login")
    check_accessibility(page)
    page.get_by_label("Adresse e-mail").fill(email)
    page.get_by_label("Mot de passe").fill(live_server.password)
    page.get_by_label("Mot de passe").press("Enter")
    expect(page).not_to_have_url(re.compile("/login"))


def shot(page: Page, name: str) -> None:
    SCREENSHOTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"journey-official-{name}.png"), full_page=True)


def check_both_widths(page: Page, name: str) -> None:
    """axe-core at desktop width, then at 390 px where the page must not scroll sideways."""
    check_accessibility(page)
    shot(page, name)
    page.set_viewport_size(PHONE)
    htmx_idle(page)
    overflow = page.evaluate("document.documentElement.scrollWidth")
    assert overflow <= PHONE["width"], f"{page.url} is {overflow}px wide at phone width"
    check_accessibility(page)
    shot(page, f"{name}-phone")
    page.set_viewport_size(DESKTOP)


def test_france_competences_controls_ara_down_to_the_ledger(
    page: Page, browser, live_server, engine, ara_units, policy_refusals
):
    start, end = control_period()
    controller = page

    # 1. The controller opens a campaign on ARA: three units of the period's four.
    sign_in_as(controller, live_server, CONTROLLER)
    expect(controller.get_by_role("heading", level=1)).to_have_text("Contrôles de service fait")
    check_accessibility(controller)
    form = controller.get_by_role("form", name="Ouvrir un contrôle")
    form.get_by_label("Opérateur").select_option(label="Auvergne-Rhône-Alpes")
    form.get_by_label(re.compile("^Du\\b")).fill(start.isoformat())
    form.get_by_label(re.compile("^Au\\b")).fill(end.isoformat())
    form.get_by_label("Nombre d'unités").fill("3")
    deadline = paris_today() + timedelta(days=20)
    form.get_by_label("Échéance").fill(deadline.isoformat())
    form.get_by_label("Valeur publique").fill("Tirage public du jour : 4 8 15 16 23 42")
    form.get_by_label("Valeur publique").press("Enter")  # submitted from the keyboard
    expect(controller.get_by_role("heading", level=1)).to_contain_text("Contrôle n°")
    campaign_id = int(re.search(r"/controle/campagnes/(\d+)$", controller.url).group(1))
    facts = controller.locator("dl.facts").first
    expect(facts).to_contain_text("3 unités sur 4 unités facturables terminées")
    expect(facts).to_contain_text("20 jours restants")
    expect(controller.get_by_text("Le contrôle des unités s'ouvre quand")).to_be_visible()
    check_accessibility(controller)
    shot(controller, "01-controller-opened")

    # 2. A proof goes missing; ARA's admin sees the campaign, adds the proof, submits.
    require_a_summary_of_uo0(engine, ara_units)
    admin = new_page(browser, policy_refusals)
    sign_in_as(admin, live_server, live_server.admin_email)
    check_accessibility(admin)  # the admin's home
    admin.get_by_role("link", name="Rapports").click()
    expect(admin.locator("svg[role=img]").first).to_be_attached()
    check_accessibility(admin)
    admin.get_by_role("link", name="Contrôles", exact=True).click()
    official = admin.get_by_role("region", name="Contrôles France compétences")
    row = official.locator("tbody tr").filter(
        has=admin.get_by_role("link", name=f"n° {campaign_id}", exact=True)
    )
    expect(row).to_contain_text(re.compile(rf"Échéance : {deadline.day} \S+ {deadline.year}"))
    check_both_widths(admin, "02-operator-campaigns")
    row.get_by_role("link", name=f"n° {campaign_id}", exact=True).click()
    expect(admin.get_by_role("heading", level=1)).to_contain_text(f"n° {campaign_id}")
    expect(admin.locator("dl.facts").first).to_contain_text("20 jours restants")
    units = admin.get_by_role("region", name="Unités tirées")
    expect(units.get_by_text("Incomplètes")).to_have_count(3)
    check_both_widths(admin, "03-operator-campaign")

    first_case = units.locator("tbody tr").first.get_by_role("link")
    reference = first_case.inner_text()
    first_case.click()
    proofs = admin.get_by_role("region", name="Livrables et preuves")
    expect(proofs).to_contain_text("Document de synthèse")
    check_accessibility(admin)
    proofs.get_by_role("button", name=re.compile("^Rédiger « Document de synthèse »")).click()
    expect(admin.get_by_role("heading", level=1, name="Document de synthèse")).to_be_visible()
    check_accessibility(admin)
    admin.get_by_label("Projet retenu").fill("Reprise d'études en soins infirmiers.")
    expect(admin.get_by_role("status").filter(has_text="Brouillon enregistré")).to_be_visible()
    admin.get_by_role("button", name="Émettre la version 1").click()
    versions = admin.get_by_role("region", name="Versions émises")
    expect(versions.get_by_text("Version 1", exact=True)).to_be_visible()
    versions.get_by_role("button", name=re.compile("^Remis en main propre")).click()
    expect(versions.get_by_text(re.compile("Remis en main propre le"))).to_be_visible()
    check_accessibility(admin)

    admin.goto(f"{live_server.url}/rapports/controles/{campaign_id}")
    admin.get_by_role("button", name="Vérifier les preuves").click()
    history = admin.get_by_role("region", name="Historique")
    added = history.locator(".timeline-item").filter(has_text="Preuve ajoutée")
    expect(added).to_contain_text("par Inès Garnier")
    expect(added).to_contain_text(f"Dossier {reference}")
    expect(units.get_by_text("Incomplètes")).to_have_count(2)
    check_both_widths(admin, "04-operator-proof-added")

    admin.get_by_role("link", name="Soumettre le dossier…").click()
    expect(admin.get_by_role("heading", level=1)).to_contain_text("Soumettre le dossier")
    check_both_widths(admin, "05-operator-submit")
    admin.get_by_role("button", name="Soumettre le dossier").click()
    expect(admin.locator("dl.facts").first).to_contain_text("Soumis le")
    expect(admin.get_by_role("button", name="Vérifier les preuves")).to_have_count(0)
    expect(history.get_by_text("Dossier soumis")).to_be_visible()

    # 3. The controller judges the three units: the first not conform, the others conform.
    controller.reload()
    sampled = controller.get_by_role("region", name="Unités tirées")
    review_links = sampled.get_by_role("link", name=re.compile("^Contrôler"))
    expect(review_links).to_have_count(3)
    check_accessibility(controller)
    # The first drawn is the unit whose summary was handed over only now, after its end.
    late = "Synthèse remise deux mois après la fin de l'unité."
    verdicts = [("Non conforme", "Preuve postérieure à la fin de l'unité", late)]
    verdicts += [("Conforme", None, None)] * 2
    for verdict, reason, comment in verdicts:
        sampled.get_by_role("link", name=re.compile("^Contrôler")).first.click()
        expect(controller.get_by_role("heading", level=2)).to_have_text("Contrôler l'unité")
        check_accessibility(controller)
        controller.get_by_label("Verdict").select_option(label=verdict)
        if reason:
            controller.get_by_label("Motif de non-conformité").select_option(label=reason)
            controller.get_by_label("Commentaire").fill(comment)
            shot(controller, "06-controller-review")
        controller.get_by_role("button", name="Enregistrer le verdict").click()
        expect(controller).to_have_url(re.compile(rf"/controle/campagnes/{campaign_id}#unites$"))
    # In the draw's order, as they were judged.
    expect(sampled.locator("td[data-label='Verdict']")).to_have_text(
        [re.compile("^Non conforme Preuve postérieure"), re.compile("^Conforme")]
        + [re.compile("^Conforme")]
    )
    summary = controller.get_by_role("region", name="Synthèse du contrôle")
    expect(summary).to_contain_text("3 sur 3 tirées")
    expect(summary).to_contain_text(f"1 unité, {PRICE}")
    check_accessibility(controller)

    # 4. ARA's admin answers the finding, once.
    admin.get_by_role("link", name="Contrôles", exact=True).click()
    expect(
        admin.get_by_role("heading", name="Constats en attente de votre réponse")
    ).to_be_visible()
    awaiting = admin.get_by_role("listitem").filter(has_text=f"Contrôle n° {campaign_id}")
    expect(awaiting).to_contain_text(f"dossier {reference}")
    expect(awaiting).to_contain_text("Preuve postérieure à la fin de l'unité")
    check_both_widths(admin, "07-operator-awaiting")
    awaiting.get_by_role("link", name=re.compile("^Répondre")).click()
    expect(admin.get_by_role("heading", level=1)).to_contain_text(
        f"Répondre au constat sur le dossier {reference}"
    )
    expect(admin.locator("dl.facts").first).to_contain_text(late)
    check_both_widths(admin, "08-operator-answer")
    answer = "La synthèse a été remise en main propre depuis ; voir la version 1."
    answer_page = admin.url
    admin.get_by_role("textbox", name="Réponse").fill(answer)
    admin.get_by_role("button", name="Envoyer la réponse").click()
    expect(admin.get_by_role("region", name="Unités tirées")).to_contain_text(
        f"Votre réponse : {answer}"
    )
    expect(admin.get_by_role("link", name=re.compile("^Répondre"))).to_have_count(0)
    admin.goto(answer_page)  # answered: the form is gone
    expect(admin.locator("dl.facts").first).to_contain_text(answer)
    expect(admin.get_by_role("button", name="Envoyer la réponse")).to_have_count(0)
    check_accessibility(admin)

    # 5. The controller sees the answer and closes, after the confirmation page.
    controller.reload()
    expect(sampled).to_contain_text(answer)
    controller.get_by_role("link", name="Clore le contrôle…").click()
    expect(controller.get_by_role("heading", level=1)).to_contain_text("Clore le contrôle")
    check_accessibility(controller)
    shot(controller, "09-controller-close")
    controller.get_by_role("button", name="Clore le contrôle").click()
    expect(summary).to_contain_text("Clos le")
    expect(sampled.get_by_role("link", name=re.compile("^(Contrôler|Réviser)"))).to_have_count(0)
    expect(controller.get_by_role("region", name="Historique")).to_contain_text("Contrôle clos")
    check_accessibility(controller)

    # 6. ARA's ledger for the period shows the réfaction, and the drill-down its campaign.
    admin.get_by_role("link", name="État de service fait").click()
    expect(admin.get_by_role("heading", level=1)).to_have_text("État de service fait")
    htmx_idle(admin)
    period = admin.get_by_role("search", name="Choisir la période")
    period.get_by_label(re.compile("^Du\\b")).fill(start.isoformat())
    period.get_by_label(re.compile("^Au\\b")).fill(end.isoformat())
    period.get_by_label(re.compile("^Au\\b")).press("Enter")
    results = admin.get_by_role("region", name="État de service")
    expect(results.get_by_role("status")).to_contain_text(
        f"réfactions des contrôles clos de France compétences : 1 unité, {PRICE}"
    )
    uo0 = results.locator("tbody tr").filter(
        has=admin.get_by_role("rowheader", name=re.compile("^UO0"))
    )
    expect(uo0.locator("td[data-label='Réfactions']")).to_have_text(
        re.compile(rf"^1 \({PRICE}\s€\)$")
    )
    check_both_widths(admin, "10-operator-ledger")
    uo0.get_by_role("link", name=re.compile("dossiers UO0")).click()
    marked = admin.locator("td[data-label='Réfaction']").filter(has_text="Contrôle n°")
    expect(marked).to_have_text(re.compile(rf"^Contrôle n° {campaign_id}, {PRICE}\s€$"))
    judged = admin.locator("tbody tr").filter(has=admin.get_by_role("link", name=reference))
    expect(judged.locator("td[data-label='Réfaction']")).to_contain_text(f"n° {campaign_id}")
    check_both_widths(admin, "11-operator-ledger-cases")
    admin.context.close()
