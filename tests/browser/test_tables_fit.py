"""Every staff page fits the screen (issue 15, item 7): at 1366×768 and at 390×844, for each
staff role of the demo, no page scrolls sideways and no table hides columns in a sideways
scroller. Each page also passes axe-core once at phone width, its tables shown as cards.

The pages are the app's own GET routes (a new page is visited without editing this test, or
the test says which one it could not reach); the ids in their paths are taken from the links
the pages show, crawled from the home page of each role, on the demo data.
"""

import re
from datetime import UTC, date, datetime, timedelta
from urllib.parse import urlsplit

import pytest
from alembic import command
from fastapi.routing import APIRoute
from sqlmodel import Session, select

from app.core.db import build_engine
from app.demo.seed import DEMO_PASSWORD, seed_demo
from app.models.beneficiaries import Beneficiary
from app.models.control import CampaignCreate, OfficialCampaignCreate, UnitReview
from app.models.deliverable_archives import ArchiveContent, DeliverableArchive
from app.models.nomenclatures import Role
from app.models.rights import RightKind, RightsRequestCreate
from app.models.staff import StaffUser
from app.services.control.campaigns import create_campaign, drawn_ids
from app.services.control.official import open_official_campaign
from app.services.control.review import review_unit
from app.services.control.submission import submit_campaign
from app.services.privacy.rights import record_request
from tests.app_routes import api_routes
from tests.browser.conftest import check_accessibility, serving
from tests.conftest import alembic_config, scratch_database
from tests.surveys.survey_rows import invite

pytestmark = pytest.mark.browser

ACCOUNTS = {
    "counsellor": "conseillere@ara.demo",
    "manager": "manager@ara.demo",
    "operator admin": "admin@ara.demo",
    "sysadmin": "sysadmin@demo",
    "national observer": "observateur@demo",
    "controller": "controleur@demo",
}
SCREENS = [(1366, 768), (390, 844)]

# GET routes that are not staff pages to look at, and why.
NOT_STAFF_PAGES = {
    "/login": "signed out",
    "/healthz": "a probe",
    "/readyz": "a probe (tests/system/test_health.py)",
    "/metrics": "for Prometheus, with its token (tests/system/test_metrics.py)",
    "/openapi.json": "JSON",
    "/docs": "the API's documentation, vendored",
    "/redoc": "the API's documentation, vendored",
    "/rendez-vous": "public booking",
    "/rendez-vous/creneaux": "public booking",
    "/rendez-vous/coordonnees": "public booking",
    "/rendez-vous/rappel": "public booking",
    "/rendez-vous/gerer/{token}": "the beneficiary's link",
    "/rendez-vous/liste-attente": "public booking (tests/booking/test_waiting_list_routes.py)",
    "/rendez-vous/liste-attente/quitter/{token}": "the beneficiary's link",
    "/rendez-vous/place-liberee/{token}": "the beneficiary's link",
    "/rendez-vous/gerer/{token}/deplacer": "the beneficiary's link",
    "/rendez-vous/gerer/{token}/annuler": "the beneficiary's link (test_booking_journey.py)",
    "/s/{code}": "an SMS's short link, a redirect",
    "/logos/{code}": "an image, public (tests/admin/test_operator_identity_routes.py)",
    "/documents/{token}": "the beneficiary's link",
    "/documents/{token}/pdf": "a PDF",
    "/mon-espace/{token}": "the beneficiary's link (test_personal_space.py)",
    "/mon-espace/{token}/documents/{version_id}": "the beneficiary's link (test_personal_space.py)",
    "/mon-espace/{token}/documents/{version_id}/pdf": "a PDF",
    "/partenaire/orientations/{token}": "the partner's link",
    "/enquete/{token}": "the beneficiary's link (test_survey_answer.py)",
    "/enquete/desinscription/{token}": "the beneficiary's link (test_survey_answer.py)",
    "/compte/mot-de-passe/{token}": "an invitation or reset link, signed out",
    "/login/verification": "the login's second step, signed out (test_two_factor_journey.py)",
    "/login/activation": "the login's second step, signed out (test_two_factor_journey.py)",
    "/partenaires/export.csv": "a CSV file",
    "/admin/journal.csv": "a CSV file",
    "/attachments/{attachment_id}/download": "a file",
    "/deliverables/{deliverable_id}/preview": "a PDF",
    "/deliverables/{deliverable_id}/versions/{number}/pdf": "a PDF",
    "/rapports/activite/{section}.{fmt}": "a CSV or spreadsheet file",
    "/rapports/national/{section}.{fmt}": "a CSV or spreadsheet file",
    "/rapports/enquetes/{section}.{fmt}": "a CSV or spreadsheet file",
    "/rapports/enquetes/commentaires.{fmt}": "a CSV or spreadsheet file",
    "/rapports/etat-de-service.{fmt}": "a CSV or spreadsheet file",
    "/rapports/etat-de-service/{unit_id:int}.{fmt}": "a CSV or spreadsheet file",
    "/rapports/controles/{campaign_id}/dossier-de-preuves.zip": "a ZIP file",
    "/controle/campagnes/{campaign_id}/dossier-de-preuves.zip": "a ZIP file",
    "/controle/campagnes/{campaign_id}/population.txt": "a text file",
    "/controle/campagnes/{campaign_id}/historique.csv": "a CSV file",
    "/rapports/controles/{campaign_id}/historique.csv": "a CSV file",
    "/admin/uo4/export/{table}.{fmt}": "a CSV or spreadsheet file",
    "/admin/protection-donnees/registre.{fmt}": "a CSV or spreadsheet file",
    "/mentions-information": "public, no staff page (tests/privacy/test_notice_and_register.py)",
    "/mentions-information/{code}": "public, no staff page (tests/privacy)",
    "/rapports/controles/{campaign_id}/progression": "the pack's progress, polled by htmx",
    "/admin/droits/{request_id}/archive": "the access archive's progress, polled by htmx",
    "/admin/droits/archives/{archive_id}.zip": "a ZIP file",
    "/cases/{case_id}/dossier.zip": "a ZIP file",
    "/admin/archives-livrables/decompte": "the archive form's count, asked by htmx",
    "/admin/archives-livrables/{archive_id}/progression": "the archive's progress, polled by htmx",
    "/admin/archives-livrables/{archive_id}/archive.zip": "a ZIP file",
}
COMMENT = (
    "Un accompagnement très utile : la conseillère a pris le temps de reprendre tout mon "
    "parcours, et j'ai maintenant un projet de formation clair.\nMerci !"
)
# What a page needs in its query string to show what it is for.
QUERIES = {"/search": "?q=mar"}

# The page's own width and every table scroller whose content is wider than its box.
OVERFLOWS = """() => {
  const page = document.documentElement;
  const found = [];
  if (page.scrollWidth > window.innerWidth) found.push(`the page (${page.scrollWidth} px)`);
  for (const box of document.querySelectorAll('.table-scroll')) {
    if (box.scrollWidth > box.clientWidth + 1) {
      const caption = box.querySelector('caption');
      const name = (caption ? caption.textContent : box.getAttribute('aria-label') || 'a table').trim();
      found.push(`table « ${name} » (${box.scrollWidth} px in ${box.clientWidth})`);
    }
  }
  return found;
}"""


def staff_pages(app) -> list[str]:
    """The path templates of the staff pages: HTML GET routes, not the API's."""
    paths = []
    for route in api_routes(app):
        if not isinstance(route, APIRoute) or "GET" not in route.methods:
            continue
        if route.path.startswith("/api/") or route.path in NOT_STAFF_PAGES:
            continue
        paths.append(route.path)
    return sorted(set(paths))


def _parameter(part: str) -> str:
    """An id (`{case_id}`, `{number}`) is digits; any other parameter (`{kind}`), a word."""
    name = part[1:-1].split(":")[0]
    return r"[0-9]+" if name.endswith("id") or name == "number" else r"[a-z0-9_]+"


def matcher(template: str) -> re.Pattern:
    """`/cases/{case_id}` -> a pattern that matches `/cases/12`."""
    parts = re.split(r"(\{[^}]+\})", template)
    regex = "".join(_parameter(part) if part.startswith("{") else re.escape(part) for part in parts)
    return re.compile(f"^{regex}$")


@pytest.fixture(scope="module")
def demo_url(database_url, tmp_path_factory, _chromium_available):
    """The demo data (both operators, every role) served on a database of its own, with one
    self-check and two official control campaigns (one reviewed, one open) so that their
    pages exist."""
    with scratch_database(database_url, "tables", tmp_path_factory.mktemp("tables")) as url:
        engine = build_engine(url)
        try:
            with engine.begin() as conn:
                command.upgrade(alembic_config(conn), "head")
            with Session(engine) as session:
                seed_demo(session=session)
                session.commit()
                manager = session.exec(
                    select(StaffUser).where(StaffUser.email == ACCOUNTS["manager"])
                ).one()
                today = date.today()
                create_campaign(
                    session=session,
                    actor=manager,
                    request=CampaignCreate(
                        period_start=today - timedelta(days=365),
                        period_end=today,
                        sample_size=3,
                    ),
                )
                controller = session.exec(
                    select(StaffUser).where(StaffUser.email == ACCOUNTS["controller"])
                ).one()
                official = OfficialCampaignCreate(
                    operator_id=manager.operator_id,
                    period_start=today - timedelta(days=365),
                    period_end=today,
                    sample_size=3,
                    public_value="Tirage public du jour : 4 8 15 16 23 42",
                )
                reviewed = open_official_campaign(
                    session=session, actor=controller, request=official
                )
                review_all(session, reviewed, manager, controller)
                # Still open, and listed first on the operator's side: its « Soumettre »
                # is found there; the findings to answer are linked from the campaigns' list.
                open_official_campaign(
                    session=session, actor=another_controller(session), request=official
                )
                # Answered surveys with comments, so that the results page shows its tables full.
                counsellor = session.exec(
                    select(StaffUser).where(StaffUser.email == ACCOUNTS["counsellor"])
                ).one()
                sent = datetime.now(UTC) - timedelta(days=2)
                for positive in (True, False, True):
                    invite(session, counsellor, sent_at=sent, positive=positive, comment=COMMENT)
                rights_requests(session)
                deliverables_archive(session, manager)
                session.commit()
            with serving(engine) as base:
                yield base
        finally:
            engine.dispose()


def rights_requests(session) -> None:
    """An overdue access request and an erasure request due soon, so that the queue and a
    request's page are listed."""
    admin = session.exec(select(StaffUser).where(StaffUser.email == ACCOUNTS["operator admin"]))
    admin = admin.one()
    person = session.exec(
        select(Beneficiary).where(Beneficiary.operator_id == admin.operator_id).limit(1)
    ).one()
    today = date.today()
    for kind, received_on in (
        (RightKind.ACCESS, today - timedelta(days=40)),
        (RightKind.ERASURE, today - timedelta(days=27)),
    ):
        data = RightsRequestCreate(
            beneficiary_id=person.id, kind=kind, received_on=received_on, received_via="email"
        )
        record_request(session=session, actor=admin, data=data)


def deliverables_archive(session, manager) -> None:
    """An archive of the year's deliverables asked by the manager: listed, its page linked."""
    today = date.today()
    archive = DeliverableArchive(
        operator_id=manager.operator_id,
        requested_by_id=manager.id,
        filters={
            "start": (today - timedelta(days=365)).isoformat(),
            "end": today.isoformat(),
            "content": ArchiveContent.ISSUED_VERSIONS.value,
        },
        documents_total=120,
    )
    session.add(archive)
    session.flush()


def another_controller(session) -> StaffUser:
    colleague = StaffUser(
        email="controleuse2@demo",
        full_name="Contrôleuse deux",
        role=Role.CONTROLLER.value,
        control_team="Contrôle — autre équipe",  # not the crawling controller's
        password_hash="!",  # never signs in
    )
    session.add(colleague)
    session.flush()
    return colleague


def review_all(session, campaign, manager, controller) -> None:
    """Submitted, then every unit reviewed (the first not conform): the pages to review a
    unit, to answer the finding and to close the campaign are all linked."""
    submit_campaign(session=session, actor=manager, campaign_id=campaign.id)
    for position, episode_id in enumerate(drawn_ids(session, campaign.id)):
        verdict = {"verdict": "conform"}
        if position == 0:
            verdict = {"verdict": "non_conform", "reason": "missing_proof", "comment": "Absente"}
        review_unit(
            session=session,
            actor=controller,
            campaign_id=campaign.id,
            episode_id=episode_id,
            review=UnitReview.model_validate(verdict),
        )


def sign_in_demo(page, base: str, email: str) -> None:
    page.goto(f"{base}/login")
    page.get_by_label("Adresse e-mail").fill(email)
    page.get_by_label("Mot de passe").fill(DEMO_PASSWORD)
    page.get_by_label("Mot de passe").press("Enter")
    page.wait_for_load_state()


def opens(page, base: str, template: str, path: str) -> bool:
    """Whether this account opens `path` as an HTML page."""
    response = page.goto(base + path + QUERIES.get(template, ""))
    return (
        response is not None
        and response.status == 200
        and "text/html" in response.headers.get("content-type", "")
    )


def crawl(page, base: str, templates: list[str]) -> dict[str, str]:
    """One address for each page template this account can open, found by following the
    links of the pages it opens, from its home page; then the pages no link leads to (a form's
    target, a panel a case page loads with htmx): those without an id in their path, and those
    under a page found (`/cases/{case_id}/plan` under `/cases/12`)."""
    patterns = {template: matcher(template) for template in templates}
    found: dict[str, str] = {}
    queue, seen = ["/"], set()
    while queue:
        path = queue.pop(0)
        if path in seen:
            continue
        seen.add(path)
        template = next((t for t, p in patterns.items() if p.match(path)), None)
        if template is None or template in found or not opens(page, base, template, path):
            continue
        found[template] = path
        for href in page.eval_on_selector_all("a[href]", "links => links.map(a => a.href)"):
            link = urlsplit(href)
            if link.netloc == urlsplit(base).netloc and link.path not in seen:
                queue.append(link.path)
    for template in templates:
        if template in found:
            continue
        parents = [t for t in found if template.startswith(t + "/")]
        if "{" not in template:
            path = template
        elif parents and "{" not in template[len(max(parents, key=len)) :]:
            parent = max(parents, key=len)
            path = found[parent] + template[len(parent) :]
        else:
            continue
        if opens(page, base, template, path):
            found[template] = path
    return found


def test_no_staff_page_scrolls_sideways_at_1366_nor_at_390_px(browser, demo_url):
    from app.main import create_app

    templates = staff_pages(create_app())
    visited: set[str] = set()
    checked: set[str] = set()
    overflowing: list[str] = []
    for role, email in ACCOUNTS.items():
        context = browser.new_context(
            viewport={"width": 1366, "height": 768}, locale="fr-FR", timezone_id="Europe/Paris"
        )
        page = context.new_page()
        try:
            sign_in_demo(page, demo_url, email)
            pages = crawl(page, demo_url, templates)
            visited.update(pages)
            for width, height in SCREENS:
                page.set_viewport_size({"width": width, "height": height})
                for template, path in sorted(pages.items()):
                    page.goto(demo_url + path + QUERIES.get(template, ""))
                    for what in page.evaluate(OVERFLOWS):
                        overflowing.append(f"{role}, {width} px, {path}: {what}")
                    if width < 640 and template not in checked:
                        check_accessibility(page)  # tables turned into cards included
                        checked.add(template)
        finally:
            context.close()
    assert overflowing == [], "Pages wider than the screen:\n" + "\n".join(overflowing)
    # Every staff page was seen by some role: a page no link leads to is named here.
    assert sorted(set(templates) - visited) == []


def test_the_crawl_starts_from_routes_and_leaves_files_out():
    from app.main import create_app

    templates = staff_pages(create_app())
    assert "/preuves-manquantes" in templates and "/partenaires/{partner_id}" in templates
    assert not any(t.endswith((".csv", ".zip", "/pdf")) for t in templates)
    assert matcher("/cases/{case_id}/plan").match("/cases/12/plan")
    assert not matcher("/cases/{case_id}").match("/cases/12/plan")
    assert matcher("/admin/enquetes/{kind}").match("/admin/enquetes/fin_niveau_1")
    assert not matcher("/admin/uo4/{action_id}").match("/admin/uo4/nouvelle")
