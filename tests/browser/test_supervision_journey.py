"""The supervision side of deliverables, in a real browser: proofs on the case page, the action
plan and attachments (counsellor); « Preuves manquantes » and « Messages » (manager); « Types de
livrables » (operator admin), whose changes the case's proof status follows.

Role and label locators only (they prove the pages are labelled), the keyboard where a person
would use it, an axe-core WCAG 2.1 A/AA check on every page and after every htmx swap.
Screenshots land in test-results/journey-supervision-*.png for a human to look at.
"""

import re
from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import Page, expect
from sqlmodel import Session, select

from app.core.dates import format_date
from app.models.base import utcnow
from app.models.beneficiaries import BeneficiaryCreate
from app.models.cases import CaseOpen, EpisodeEnd, EpisodeStart, InteractionCreate
from app.models.nomenclatures import Channel, InteractionChannel, RequestMotive
from app.models.operators import Site
from app.models.staff import StaffUser
from app.services.cases.beneficiaries import create_beneficiary
from app.services.cases.episodes import end_episode, start_episode
from app.services.cases.interactions import record_interaction
from app.services.cases.lifecycle import open_case
from app.services.messaging.mail import transport_from_settings
from app.services.messaging.outbox import deliver_due
from tests.browser.conftest import (
    assert_no_reload,
    check_accessibility,
    htmx_idle,
    mark_page,
    open_case_tab,
    sign_in,
)
from tests.factories import unit_id

pytestmark = pytest.mark.browser

PERSON = {"first_name": "Anaëlle", "last_name": "Brisset-Vauclair", "email": "anaelle@exemple.fr"}
FULL_NAME = "Anaëlle BRISSET-VAUCLAIR"  # as the pages show it, surname in capitals
PARIS = ZoneInfo("Europe/Paris")  # the operator's time zone (its default)
UO21 = "UO2.1 — Niveau 2 — Conseil personnalisé"
UO22 = "UO2.2 — Niveau 2 — Accompagnement à la mise en œuvre"
SUIVI, SUIVI_RENAMED = "Suivi de la mise en œuvre", "Suivi et bilan de la mise en œuvre"
NEW_KIND = "Attestation d'accompagnement"


def _case_with_ended_uo21(engine, live_server):
    """A case at the seeded site, a UO2.1 episode that ran 20 to 6 days ago, one interview
    inside it. Returns the case id, its reference and the episode."""
    now = utcnow()
    with Session(engine, expire_on_commit=False) as session:
        counsellor = session.exec(
            select(StaffUser).where(StaffUser.email == live_server.counsellor_email)
        ).one()
        site = session.exec(select(Site).where(Site.name == live_server.site_name)).one()
        person = create_beneficiary(
            session=session, actor=counsellor, data=BeneficiaryCreate(**PERSON)
        )
        case = open_case(
            session=session,
            actor=counsellor,
            data=CaseOpen(
                beneficiary_id=person.id,
                site_id=site.id,
                channel=Channel.PHONE,
                motive=RequestMotive.RETRAIN,
                request_text="Devenir infirmière après dix ans dans la vente",
            ),
            opened_at=now - timedelta(days=30),
        )
        episode, _warnings = start_episode(
            session=session,
            actor=counsellor,
            case_id=case.id,
            data=EpisodeStart(
                unit_id=unit_id(session, "UO2.1"), started_at=now - timedelta(days=20)
            ),
        )
        record_interaction(
            session=session,
            actor=counsellor,
            case_id=case.id,
            data=InteractionCreate(
                occurred_at=now - timedelta(days=15),
                duration_minutes=60,
                channel=InteractionChannel.ON_SITE,
                episode_id=episode.id,
                summary="Le projet d'infirmière tient : reste à financer la formation.",
            ),
        )
        end_episode(
            session=session,
            actor=counsellor,
            episode_id=episode.id,
            data=EpisodeEnd(outcome="Projet validé", ended_at=now - timedelta(days=6)),
        )
        session.commit()
        return case.id, case.reference, episode


def _log_out(page: Page) -> None:
    page.get_by_role("button", name="Se déconnecter").click()
    expect(page.get_by_role("heading", level=1, name="Connexion")).to_be_visible()


def _open_disclosure(scope, summary_name) -> None:
    """Open the <details> whose summary is `summary_name`, from the keyboard."""
    summary = scope.locator("summary").filter(has_text=summary_name)
    expect(summary).to_have_count(1)
    summary.focus()
    summary.press("Enter")
    expect(summary.locator("xpath=..")).to_have_attribute("open", "")


def _proof_badges(page: Page):
    """The badges of the case's one proof item (the UO2.1 episode) in « Livrables et preuves »."""
    livrables = page.get_by_role("region", name="Livrables et preuves")
    item = livrables.get_by_role("listitem").filter(has_text=re.compile(r"^\s*UO2\.1"))
    expect(item).to_have_count(1)
    return item.locator(".proof-status .badge")


# Elements that stick out to the right of the viewport and make the whole page scroll sideways
# (WCAG 1.4.10 Reflow, which axe does not check). Content inside a scrolling container (a wide
# table in .table-scroll) is fine, unless it is positioned out of that container.
_STICKING_OUT = """() => {
  const width = document.documentElement.clientWidth;
  if (document.documentElement.scrollWidth <= width) return [];
  const scrolls = (el) => ["auto", "scroll", "hidden"].includes(getComputedStyle(el).overflowX);
  const escapes = (el) => ["absolute", "fixed"].includes(getComputedStyle(el).position);
  const inScroller = (el) => { for (let p = el.parentElement; p; p = p.parentElement)
    if (scrolls(p)) return true; return false; };
  return [...document.querySelectorAll("body *")]
    .map((el) => [el, el.getBoundingClientRect()])
    .filter(([el, box]) => box.width > 0 && box.right > width + 1 && (escapes(el) || !inScroller(el)))
    .sort((a, b) => b[1].right - a[1].right).slice(0, 6)
    .map(([el, box]) => `<${el.tagName.toLowerCase()} class="${el.className}"> right edge at `
      + `${Math.round(box.right)} px: ${el.textContent.trim().replace(/\\s+/g, " ").slice(0, 70)}`);
}"""


def _assert_no_sideways_scroll(page: Page) -> None:
    sticking_out = page.evaluate(_STICKING_OUT)
    width = page.evaluate("document.documentElement.clientWidth")
    scroll_width = page.evaluate("document.documentElement.scrollWidth")
    assert scroll_width <= width, (
        f"{page.url} is {scroll_width} px wide in a {width} px viewport:\n  "
        + "\n  ".join(sticking_out)
    )


def _missing_row(page: Page):
    results = page.get_by_role("region", name="Résultats")
    return results.get_by_role("row").filter(has_text=FULL_NAME)


def _filter_missing(page: Page, expected_rows: int, axe: bool = False, **fields) -> None:
    """Set the « Preuves manquantes » filters (label → value), submit, wait for the swap."""
    form = page.get_by_role("search", name="Filtrer les preuves manquantes")
    for label, value in fields.items():
        control = form.get_by_label(label, exact=True)
        if control.evaluate("el => el.tagName") == "SELECT":
            control.select_option(label=value)
        else:
            control.fill(value)
    with page.expect_response(re.compile(r"/preuves-manquantes\?")):
        form.get_by_role("button", name="Filtrer").click()
    expect(_missing_row(page)).to_have_count(expected_rows)
    if axe:
        check_accessibility(page)


def test_supervision_of_proofs_plan_attachments_messages_and_kinds(
    page: Page, live_server, engine, smtp_server, screenshot, tmp_path
):
    base = live_server.url
    case_id, reference, episode = _case_with_ended_uo21(engine, live_server)
    start_day = episode.started_at.astimezone(PARIS).date()
    started, ended = (
        format_date(at, "Europe/Paris") for at in (episode.started_at, episode.ended_at)
    )

    # ---- 1. The counsellor, on the case --------------------------------------------------------
    sign_in(page, live_server, live_server.counsellor_email)
    page.goto(f"{base}/cases/{case_id}?section=documents")
    mark_page(page)
    livrables = page.get_by_role("region", name="Livrables et preuves")
    expect(livrables.get_by_role("heading", level=3, name="Preuves par unité")).to_be_visible()
    expect(_proof_badges(page)).to_have_text(
        ["Manque : Document de synthèse", "Manque : Plan d'action"]
    )
    draft_plan = livrables.get_by_role("button", name=re.compile(r"^Rédiger « Plan d'action »"))
    expect(draft_plan).to_have_accessible_name(f"Rédiger « Plan d'action » pour UO2.1 du {started}")
    expect(
        livrables.get_by_role("button", name=re.compile(r"^Rédiger « Document de synthèse »"))
    ).to_be_visible()
    check_accessibility(page)
    screenshot("supervision-01-case-proofs")

    # The action plan: two steps, the second typed from the keyboard alone.
    plan = page.get_by_role("region", name="Plan d'action")
    expect(plan.get_by_text("Aucune étape pour l'instant")).to_be_visible()
    add = plan.get_by_role("form", name="Ajouter une étape")
    add.get_by_label("Action").fill("Demander à l'IFSI de Lyon les dates de sélection")
    add.get_by_label("Qui").select_option(label="Bénéficiaire")
    due = (utcnow().astimezone(PARIS) + timedelta(days=14)).date()
    add.get_by_label("Échéance").fill(due.isoformat())
    add.get_by_role("button", name="Ajouter l'étape").click()
    plan = page.get_by_role("region", name="Plan d'action")
    added = plan.get_by_role("status").filter(has_text="Étape ajoutée au plan d'action.")
    steps = plan.get_by_role("table", name="Étapes du plan d'action, dans l'ordre")
    expect(steps.locator("tbody").get_by_role("row")).to_have_count(1)
    htmx_idle(page)
    expect(added).to_be_focused()  # announced; the new step is the row just above it
    add = plan.get_by_role("form", name="Ajouter une étape")
    page.keyboard.press("Tab")
    expect(add.get_by_label("Action")).to_be_focused()  # ready for the next step
    expect(add.get_by_label("Action")).to_have_value("")
    assert_no_reload(page)
    check_accessibility(page)

    add.get_by_label("Action").press_sequentially(
        "Monter le dossier de financement Transitions Pro"
    )
    add.get_by_label("Action").press("Tab")
    expect(add.get_by_label("Qui")).to_be_focused()
    add.get_by_label("Qui").select_option(label="Conseiller·ère")
    add.get_by_label("Action").press("Enter")
    expect(steps.locator("tbody").get_by_role("row")).to_have_count(2)
    expect(steps.locator("tbody").get_by_role("row").nth(1)).to_contain_text(
        "Monter le dossier de financement Transitions Pro"
    )
    expect(steps.locator("tbody").get_by_role("row").nth(1)).to_contain_text("Conseiller·ère")
    assert_no_reload(page)
    check_accessibility(page)

    # Step 1 is under way: arrow key on its state, saved on change, the focus stays put.
    state = plan.get_by_role("combobox", name="État de l'étape 1")
    expect(state).to_have_value("todo")
    state.focus()
    state.press("ArrowDown")
    expect(plan.get_by_role("status").filter(has_text="État enregistré")).to_contain_text(
        "État enregistré : « En cours »."
    )
    expect(plan.get_by_role("combobox", name="État de l'étape 1")).to_have_value("in_progress")
    expect(plan.get_by_role("combobox", name="État de l'étape 1")).to_be_focused()
    expect(plan.get_by_role("combobox", name="État de l'étape 2")).to_have_value("todo")
    assert_no_reload(page)
    check_accessibility(page)
    screenshot("supervision-02-action-plan")

    # An attachment: a small PDF.
    pdf = tmp_path / "releve-ifsi.pdf"
    pdf.write_bytes(
        b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n"
        b"2 0 obj<</Type/Pages/Kids[]/Count 0>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"
    )
    open_case_tab(page, "Pièces jointes")
    attachments = page.get_by_role("region", name="Pièces jointes")
    expect(attachments.get_by_text("Aucune pièce jointe pour l'instant.")).to_be_visible()
    file_input = attachments.get_by_label("Fichier")
    expect(file_input).to_have_accessible_description(re.compile(r"^PDF, image"))
    file_input.set_input_files(pdf)
    attachments.get_by_label("Description (facultative)").fill("Relevé de notes demandé par l'IFSI")
    attachments.get_by_role("button", name="Ajouter la pièce jointe").click()
    attachments = page.get_by_role("region", name="Pièces jointes")
    expect(attachments.get_by_role("status")).to_contain_text(
        "Pièce jointe « releve-ifsi.pdf » ajoutée."
    )
    expect(attachments.get_by_role("status")).to_be_focused()
    listed = attachments.get_by_role("table", name=f"Pièces jointes du dossier {reference}")
    row = listed.get_by_role("row").filter(has_text="releve-ifsi.pdf")
    expect(row).to_have_count(1)
    expect(row.get_by_role("link", name="releve-ifsi.pdf (télécharger)")).to_be_visible()
    expect(row).to_contain_text("Relevé de notes demandé par l'IFSI")
    expect(row).to_contain_text("PDF")
    expect(row).to_contain_text(live_server.counsellor_name)
    assert_no_reload(page)
    check_accessibility(page)
    screenshot("supervision-03-attachment")

    # Draft the « Plan d'action » the UO2.1 episode lacks, from its proof line.
    open_case_tab(page, "Documents")
    page.get_by_role("region", name="Livrables et preuves").get_by_role(
        "button", name=re.compile(r"^Rédiger « Plan d'action »")
    ).press("Enter")
    expect(page.get_by_role("heading", level=1, name="Plan d'action")).to_be_visible()
    # The address says what was done, and the page confirms it, focused.
    expect(page).to_have_url(re.compile(rf"{re.escape(base)}/deliverables/\d+\?fait=brouillon$"))
    expect(page.get_by_role("status").filter(has_text="Brouillon créé")).to_be_focused()
    preview = page.get_by_role("region", name="Plan d'action")
    expect(preview.get_by_role("listitem")).to_have_text(
        [
            re.compile(r"^Demander à l'IFSI de Lyon .* — Bénéficiaire, avant le .*\(En cours\)$"),
            re.compile(r"^Monter le dossier de financement .* — Conseiller·ère \(À faire\)$"),
        ]
    )
    check_accessibility(page)
    page.get_by_label("Objectif").fill("Entrer en IFSI à la rentrée de septembre.")
    page.get_by_role("button", name="Émettre la version 1").click()
    versions = page.get_by_role("region", name="Versions émises")
    expect(versions.get_by_text("Version 1", exact=True)).to_be_visible()
    expect(versions.get_by_role("status").filter(has_text="Version 1 émise.")).to_be_focused()
    expect(versions.get_by_text("Pas encore remis")).to_be_visible()
    check_accessibility(page)
    send = versions.get_by_role("button", name=f"Envoyer à {PERSON['email']} la version 1")
    send.click()
    versions = page.get_by_role("region", name="Versions émises")
    expect(versions.get_by_text("En attente d'accusé de lecture")).to_be_visible()
    expect(versions.get_by_text("En attente d'envoi")).to_be_visible()
    check_accessibility(page)
    screenshot("supervision-04-plan-issued")

    # Back on the case: the plan, e-mailed, is « remis » (the market's proof rule): only the
    # synthèse is missing.
    page.get_by_role("link", name=f"Dossier {reference}").click()
    expect(page).to_have_url(f"{base}/cases/{case_id}?section=documents#livrables")
    expect(_proof_badges(page)).to_have_text(["Manque : Document de synthèse"])
    livrables = page.get_by_role("region", name="Livrables et preuves")
    expect(livrables.get_by_role("link", name="Ouvrir « Plan d'action »")).to_have_count(0)
    expect(
        livrables.get_by_role("button", name=re.compile("^Rédiger « Plan d'action »"))
    ).to_have_count(0)
    check_accessibility(page)
    _log_out(page)

    # ---- 2. The manager: missing proofs, then messages -----------------------------------------
    sign_in(page, live_server, live_server.manager_email)
    page.get_by_role("navigation", name="Navigation principale").get_by_role(
        "link", name="Preuves manquantes"
    ).click()
    expect(page.get_by_role("heading", level=1, name="Preuves manquantes")).to_be_visible()
    row = _missing_row(page)
    expect(row).to_have_count(1)
    expect(row.get_by_role("cell")).to_have_text(
        [
            reference,
            FULL_NAME,
            "UO2.1",
            live_server.counsellor_name,
            live_server.site_name,
            started,
            ended,
            "Manque : Document de synthèse",
            f"Compléter les preuves d'UO2.1, dossier {reference}",
        ]
    )
    check_accessibility(page)
    screenshot("supervision-05-missing-proofs")

    # The filters: unit, counsellor, period (swapped in place, the address follows).
    _filter_missing(page, 0, axe=True, **{"Unité d'œuvre": "UO1"})
    _filter_missing(page, 1, **{"Unité d'œuvre": "UO2.1"})
    expect(page).to_have_url(re.compile(r"/preuves-manquantes\?.*unite=\d+"))
    _filter_missing(page, 0, **{"Référent·e": live_server.colleague_name})
    expect(page.get_by_role("region", name="Résultats")).to_contain_text(
        "Aucune preuve manquante pour ces filtres."
    )
    _filter_missing(page, 1, **{"Référent·e": live_server.counsellor_name})
    after = (start_day + timedelta(days=1)).isoformat()
    _filter_missing(page, 0, **{"Unités commencées à partir du": after})
    _filter_missing(
        page,
        1,
        **{
            "Unités commencées à partir du": start_day.isoformat(),
            "Unités commencées jusqu'au": start_day.isoformat(),
        },
    )
    expect(page).to_have_url(re.compile(rf"du={start_day.isoformat()}&au={start_day.isoformat()}"))
    # A period that ends before it starts: said in the results, nothing listed.
    before = (start_day - timedelta(days=1)).isoformat()
    _filter_missing(page, 0, axe=True, **{"Unités commencées jusqu'au": before})
    expect(page.get_by_role("region", name="Résultats").get_by_role("alert")).to_contain_text(
        "La fin de la période précède son début"
    )
    form = page.get_by_role("search", name="Filtrer les preuves manquantes")
    form.get_by_label("Unités commencées jusqu'au", exact=True).fill("")
    form.get_by_label("Unités terminées seulement").check()
    with page.expect_response(re.compile(r"/preuves-manquantes\?")):
        form.get_by_role("button", name="Filtrer").click()
    expect(_missing_row(page)).to_have_count(1)
    check_accessibility(page)
    screenshot("supervision-06-missing-proofs-filtered")

    # On a phone: the same page, filters and table; the table scrolls, not the page.
    page.set_viewport_size({"width": 390, "height": 844})
    page.reload()
    expect(_missing_row(page)).to_have_count(1)
    check_accessibility(page)
    screenshot("supervision-07-missing-proofs-phone")
    _assert_no_sideways_scroll(page)
    page.set_viewport_size({"width": 1280, "height": 900})

    # The row's link leads to the case's proofs.
    _missing_row(page).get_by_role(
        "link", name=f"Compléter les preuves d'UO2.1, dossier {reference}"
    ).click()
    expect(page).to_have_url(f"{base}/cases/{case_id}?section=documents#livrables")
    expect(page.get_by_role("heading", level=1)).to_contain_text(f"Dossier {reference}")
    expect(page.get_by_role("region", name="Livrables et preuves")).to_be_in_viewport()
    check_accessibility(page)

    # Messages: the plan's e-mail waits for the worker.
    page.get_by_role("link", name="Messages").click()
    expect(page.get_by_role("heading", level=1, name="Messages")).to_be_visible()
    table = page.get_by_role("region", name="Messages récents")
    mail = table.get_by_role("row").filter(has_text=PERSON["email"])
    expect(mail).to_have_count(1)
    expect(mail).to_contain_text("Votre document : Plan d'action")
    expect(mail.locator('td[data-label="État"]')).to_have_text("En attente d'envoi")
    expect(mail.get_by_role("link", name=reference)).to_be_visible()
    check_accessibility(page)
    screenshot("supervision-08-messages")

    status = page.get_by_label("État")
    status.select_option(label="En attente d'envoi")
    with page.expect_response(re.compile(r"/messages\?status=pending")):
        page.get_by_role("button", name="Filtrer").click()
    expect(mail).to_have_count(1)
    expect(page).to_have_url(f"{base}/messages?status=pending")
    check_accessibility(page)
    status.select_option(label="Envoyé")
    with page.expect_response(re.compile(r"/messages\?status=sent")):
        page.get_by_role("button", name="Filtrer").click()
    expect(mail).to_have_count(0)

    # The worker delivers it (to the test SMTP server): now it is among the sent ones.
    assert deliver_due(engine=engine, transport=transport_from_settings()).sent >= 1
    assert any(m["To"] == PERSON["email"] for m in smtp_server.messages)
    with page.expect_response(re.compile(r"/messages\?status=sent")):
        page.get_by_role("button", name="Filtrer").click()
    expect(mail).to_have_count(1)
    expect(mail.locator('td[data-label="État"]')).to_have_text(re.compile(r"^\s*Envoyé le \d"))
    check_accessibility(page)
    _log_out(page)

    # ---- 3. The operator admin: deliverable kinds ----------------------------------------------
    sign_in(page, live_server, live_server.admin_email)
    page.get_by_role("link", name="Administration").click()
    check_accessibility(page)
    page.get_by_role("link", name="Types de livrables").click()
    expect(
        page.get_by_role("heading", level=1, name="Types de livrables et preuves exigées")
    ).to_be_visible()
    matrix = page.get_by_role("region", name="Preuves exigées par unité d'œuvre")

    def required_for(unit_label: str):
        return matrix.get_by_role("row").filter(has_text=unit_label).get_by_role("cell").nth(1)

    expect(required_for(UO21)).to_have_text("Document de synthèse, Plan d'action")
    expect(required_for("UO0 — ")).to_have_text("Aucune preuve requise")
    check_accessibility(page)
    screenshot("supervision-09-kinds")

    # Rename a kind; Enter in its label submits.
    kind = page.get_by_role("region", name=SUIVI, exact=True)
    _open_disclosure(kind, f"Modifier « {SUIVI} »")
    check_accessibility(page)
    label = kind.get_by_label("Libellé")
    label.fill(SUIVI_RENAMED)
    label.press("Enter")
    expect(page.get_by_role("status")).to_have_text(f"« {SUIVI_RENAMED} » est enregistré.")
    expect(page).to_have_url(re.compile(r"/admin/livrables\?enregistre=\d+#type-\d+$"))
    expect(page.get_by_role("region", name=SUIVI_RENAMED, exact=True)).to_be_visible()
    expect(page.get_by_role("region", name=SUIVI, exact=True)).to_have_count(0)
    expect(required_for(UO22)).to_have_text(SUIVI_RENAMED)
    check_accessibility(page)

    # A new kind, first without its label: the error sits by the field, the rest is kept.
    new = page.get_by_role("region", name="Nouveau type de livrable")
    _open_disclosure(new, "Ajouter un type de livrable")
    new.get_by_label("Les synthèses des entretiens").check()
    new.get_by_label("Rubriques à rédiger").fill("Démarches accomplies\nSuites envisagées")
    new.get_by_label(UO22).check()
    new.get_by_role("button", name="Ajouter").click()
    new = page.get_by_role("region", name="Nouveau type de livrable")
    expect(new.get_by_role("alert")).to_have_text("Certaines informations sont à corriger.")
    label = new.get_by_label("Libellé")
    expect(label).to_have_attribute("aria-invalid", "true")
    expect(label).to_have_accessible_description(re.compile(r"\S"))
    expect(label).to_have_value("")
    expect(new.get_by_label("Rubriques à rédiger")).to_have_value(
        "Démarches accomplies\nSuites envisagées"
    )
    expect(new.get_by_label("Les synthèses des entretiens")).to_be_checked()
    expect(new.get_by_label("La demande du bénéficiaire")).not_to_be_checked()
    expect(new.get_by_label(UO22)).to_be_checked()
    expect(new.get_by_label(UO21)).not_to_be_checked()
    expect(new.get_by_label("Actif : proposé aux conseillers")).to_be_checked()
    check_accessibility(page)
    screenshot("supervision-10-kind-error")
    label.fill(NEW_KIND)
    new.get_by_role("button", name="Ajouter").click()
    expect(page.get_by_role("status")).to_have_text(f"« {NEW_KIND} » est enregistré.")
    expect(page.get_by_role("region", name=NEW_KIND, exact=True)).to_be_visible()
    expect(required_for(UO22)).to_have_text(f"{SUIVI_RENAMED}, {NEW_KIND}")
    check_accessibility(page)

    # UO2.1 no longer requires the « Plan d'action » (checkbox ticked off with the space bar).
    def plan_required_by_uo21(required: bool) -> None:
        kind = page.get_by_role("region", name="Plan d'action", exact=True)
        _open_disclosure(kind, "Modifier « Plan d'action »")
        box = kind.get_by_label(UO21)
        expect(box).to_be_checked(checked=not required)
        box.focus()
        box.press("Space")
        expect(box).to_be_checked(checked=required)
        kind.get_by_role("button", name="Enregistrer").click()
        expect(page.get_by_role("status")).to_have_text("« Plan d'action » est enregistré.")

    plan_required_by_uo21(False)
    expect(required_for(UO21)).to_have_text("Document de synthèse")
    check_accessibility(page)
    screenshot("supervision-11-kinds-changed")

    # The case follows the catalogue: only the synthèse is missing now.
    page.goto(f"{base}/cases/{case_id}?section=documents#livrables")
    expect(_proof_badges(page)).to_have_text(["Manque : Document de synthèse"])
    livrables = page.get_by_role("region", name="Livrables et preuves")
    expect(livrables.get_by_role("link", name="Ouvrir « Plan d'action »")).to_have_count(0)
    check_accessibility(page)
    screenshot("supervision-12-case-follows-catalogue")

    # Required again: the plan is back in the proofs, already « remis ».
    page.get_by_role("link", name="Administration").click()
    page.get_by_role("link", name="Types de livrables").click()
    plan_required_by_uo21(True)
    expect(required_for(UO21)).to_have_text("Document de synthèse, Plan d'action")
    page.goto(f"{base}/cases/{case_id}?section=documents")
    expect(_proof_badges(page)).to_have_text(["Manque : Document de synthèse"])

    # The case page on a phone: proofs, plan and attachments fit the width.
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(f"{base}/cases/{case_id}?section=documents#plan-action")
    expect(page.get_by_role("region", name="Plan d'action")).to_be_in_viewport()
    check_accessibility(page)
    screenshot("supervision-13-case-phone")
    _assert_no_sideways_scroll(page)
    page.goto(f"{base}/cases/{case_id}?section=pieces-jointes")
    expect(page.get_by_role("region", name="Pièces jointes")).to_be_visible()
    check_accessibility(page)
    _assert_no_sideways_scroll(page)
