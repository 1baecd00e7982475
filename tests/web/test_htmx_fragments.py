"""Every htmx fragment equals the part of the full page it replaces.

A route that answers `render(..., fragment=...)` sends the fragment alone when htmx asks
(`HX-Request: true`) and the whole page otherwise. What htmx swaps in must be what the page
shows there: the fragment equals the element of the full page whose id the form or link
targets (`hx-target`), the element itself for an `outerHTML` swap, its content for the default
`innerHTML` one. Sections of the case page (plan, referrals, attachments, booking) are swapped
into the case page's tab that shows them, and also have a page of their own (without
JavaScript): both are compared.

FRAGMENTS lists at least one case per fragment template; a test reads the app's routes and
fails when a `fragment=` is missing from it, so that a new fragment comes with its comparison.
PARTIALS does the same for routes that answer a partial template alone (a polled panel)."""

import ast
import re
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from html.parser import HTMLParser
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlmodel import Session

from app.core.dates import format_weekday
from app.models.cases import Episode
from app.models.deliverable_archives import DeliverableArchive
from app.models.nomenclatures import Role
from app.models.rights import RightKind, RightsRequestCreate
from app.services.privacy.access_archive import request_archive
from app.services.privacy.rights import record_request
from tests.conftest import ROOT
from tests.factories import (
    PDF,
    log_in,
    make_appointment,
    make_appointment_type,
    make_beneficiary,
    make_case,
    make_episode,
    make_interaction,
    make_openings,
    make_partner,
    make_site,
    make_staff,
    paris_today,
    unit_id,
)

HTMX = {"HX-Request": "true"}
PARIS = ZoneInfo("Europe/Paris")

# What the pages are asked for; the clock (tests/conftest.py) makes "today" a quiet Wednesday,
# whose agenda and free slots are the same in the fragment and in the page.
pytestmark = pytest.mark.usefixtures("clock", "storage_dir")


@dataclass(frozen=True)
class Fragment:
    template: str  # the `fragment=` the route renders
    role: Role  # who asks
    url: str  # the route, formatted with the world's ids
    target: str  # the id htmx swaps (hx-target)
    swap: str  # "innerHTML" (htmx's default) or "outerHTML"
    shows: str  # what the world put there, so that no comparison is between empty parts
    pages: tuple[str, ...] = ()  # other full pages that hold the same target, if any
    name: str = ""  # the test's id, where a template is listed twice
    own_page: bool = True  # False: the route answers the fragment alone, whoever asks

    def __str__(self) -> str:
        return self.name or self.template.rsplit("/", 1)[-1].removesuffix(".html")


CASE_PAGE = "/cases/{case}"
FRAGMENTS = [
    Fragment(
        "desk/case_page/_partials/case_body.html",
        Role.COUNSELLOR,
        CASE_PAGE,
        "case-body",
        "innerHTML",
        "Premier échange",
    ),
    Fragment(
        "deliverables/action_plan/_partials/plan.html",
        Role.COUNSELLOR,
        "/cases/{case}/plan",
        "plan-action",
        "outerHTML",
        "Contacter Transitions Pro",
        (CASE_PAGE + "?section=documents",),
    ),
    Fragment(
        "referrals/referrals/_partials/case_referrals.html",
        Role.COUNSELLOR,
        "/cases/{case}/referrals",
        "orientations",
        "outerHTML",
        "CIBC Lyon",
        (CASE_PAGE + "?section=orientations",),
    ),
    Fragment(
        "deliverables/attachments/_partials/attachments.html",
        Role.COUNSELLOR,
        "/cases/{case}/attachments",
        "pieces-jointes",
        "outerHTML",
        "bulletin.pdf",
        (CASE_PAGE + "?section=pieces-jointes",),
    ),
    Fragment(
        "booking/calendar/_partials/book_from_case.html",
        Role.COUNSELLOR,
        "/cases/{case}/rendez-vous",
        "case-booking",
        "outerHTML",
        "{appointment}",
        (CASE_PAGE + "?section=rendez-vous",),
    ),
    Fragment(
        "booking/calendar/_partials/book_from_case.html",
        Role.COUNSELLOR,
        "/cases/{case}/rendez-vous?{booking}",
        "case-booking",
        "outerHTML",
        "à 09 h 00",
        name="book_from_case-free_slots",
    ),
    Fragment(
        "booking/calendar/_partials/book_from_case.html",
        Role.COUNSELLOR,
        "/cases/{case}/rendez-vous?{booking}&semaine={next_week}",
        "case-booking",
        "outerHTML",
        "Semaine du {next_week_label}",
        name="book_from_case-next_week",
    ),
    Fragment(
        "booking/calendar/_partials/days.html",
        Role.COUNSELLOR,
        "/agenda?jour={day}",
        "agenda-days",
        "innerHTML",
        "15 h 00",
    ),
    Fragment(
        "cases/triage/_partials/matches.html",
        Role.COUNSELLOR,
        "/triage/new?q=Gu%C3%A9rin",
        "matches",
        "innerHTML",
        "GUÉRIN",
    ),
    Fragment(
        "desk/home/_partials/search_results.html",
        Role.COUNSELLOR,
        "/search?q=Gu%C3%A9rin",
        "search-results",
        "innerHTML",
        "GUÉRIN",
    ),
    Fragment(
        "referrals/partners/_partials/results.html",
        Role.COUNSELLOR,
        "/partenaires?q=CIBC",
        "partner-results",
        "innerHTML",
        "CIBC Lyon",
    ),
    Fragment(
        "messaging/messages/_partials/message_table.html",
        Role.MANAGER,
        "/messages",
        "messages-table",
        "innerHTML",
        "cibc@exemple.fr",
    ),
    Fragment(
        "control/proofs/_partials/missing_results.html",
        Role.MANAGER,
        "/preuves-manquantes",
        "missing-results",
        "innerHTML",
        "GUÉRIN",
    ),
    Fragment(
        "reports/ledger/_partials/ledger_results.html",
        Role.MANAGER,
        "/rapports/etat-de-service?du={month_start}&au={day}",
        "ledger-results",
        "innerHTML",
        "UO2.1",
    ),
]


# Routes that answer a partial template alone, with or without HX-Request (polled by the page).
PARTIALS = [
    Fragment(
        "control/campaigns/_partials/progress.html",
        Role.MANAGER,
        "/rapports/controles/{campaign}/progression",
        "pack-progress",
        "outerHTML",
        "Dossier de preuves",
        ("/rapports/controles/{campaign}",),
        own_page=False,
    ),
    Fragment(
        "admin/rights/_partials/archive.html",
        Role.OPERATOR_ADMIN,
        "/admin/droits/{rights_request}/archive",
        "archive",
        "outerHTML",
        "Archive des données de la personne",
        ("/admin/droits/{rights_request}",),
        own_page=False,
    ),
    Fragment(
        "deliverables/archives/_partials/progress.html",
        Role.MANAGER,
        "/admin/archives-livrables/{period_archive}/progression",
        "archive-progress",
        "outerHTML",
        "La préparation va commencer",
        ("/admin/archives-livrables/{period_archive}",),
        own_page=False,
    ),
    Fragment(
        "deliverables/archives/_partials/count.html",
        Role.MANAGER,
        "/admin/archives-livrables/decompte?du={year_start}&au={day}",
        "archive-count",
        "outerHTML",
        "Aucun document",
        ("/admin/archives-livrables",),
        own_page=False,
    ),
]
# Partials a route answers that no full page shows: nothing to compare them with.
NOT_ON_ANY_PAGE = {
    # The draft's autosave status: the editing page's status line is empty until a save.
    "deliverables/documents/_partials/draft_status.html",
}


# ---- the HTML of one element, as the page's text has it ---------------------------------------

# Drawn afresh for each rendering, by design: a booking form's key against double submission.
VOLATILE = re.compile(r'(name="idempotency_key" value=")[^"]*(")')


def steady(html: str) -> str:
    return VOLATILE.sub(r"\1…\2", html.strip())


VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source"}
VOID |= {"track", "wbr"}


class _ElementFinder(HTMLParser):
    """Finds the element with a given id: where its start tag begins, where its content begins
    and ends, and where its end tag ends (offsets in the text fed)."""

    def __init__(self, text: str, element_id: str):
        super().__init__(convert_charrefs=False)
        self.lines = [0]  # where each line starts; the parser counts lines by "\n" alone
        for line in text.split("\n"):
            self.lines.append(self.lines[-1] + len(line) + 1)
        self.element_id, self.depth, self.found = element_id, 0, 0
        self.span: tuple[int, int, int, int] | None = None
        self.feed(text)
        self.close()

    def _offset(self) -> int:
        line, column = self.getpos()
        return self.lines[line - 1] + column

    def handle_starttag(self, tag, attrs):
        if self.depth:
            self.depth += tag not in VOID
        elif dict(attrs).get("id") == self.element_id:
            self.found += 1
            self.tag, self.start = tag, self._offset()
            self.content_start = self.start + len(self.get_starttag_text())
            self.depth = 1

    def handle_endtag(self, tag):
        if self.depth and tag not in VOID:
            self.depth -= 1
            if not self.depth:
                assert tag == self.tag, f"<{self.tag} id={self.element_id}> closed by </{tag}>"
                end_tag = self._offset()
                self.span = (self.start, self.content_start, end_tag, end_tag + len(f"</{tag}>"))


def element_html(page: str, element_id: str, swap: str) -> str:
    finder = _ElementFinder(page, element_id)
    assert finder.found == 1, f"{finder.found} elements with id {element_id!r} in the page"
    assert finder.span, f"the element with id {element_id!r} is never closed"
    start, content_start, content_end, end = finder.span
    return page[start:end] if swap == "outerHTML" else page[content_start:content_end]


# ---- one operator's world, with something in every part ---------------------------------------


@pytest.fixture
def world(client, session: Session, ara, counsellor, case, csrf) -> dict[str, str]:
    """A case with a running unit, an interaction, a plan step, a referral sent to a partner,
    an attachment and an appointment today; an ended unit without its proofs; free slots."""
    site = make_site(session, ara)
    kind = make_appointment_type(session, ara, name="Premier rendez-vous CEP")
    make_openings(session, counsellor, site)
    beneficiary = make_beneficiary(session, counsellor, first_name="Hélène", last_name="Guérin")
    followed = make_case(session, counsellor, beneficiary)
    make_episode(session, counsellor, case, "UO1")
    make_interaction(session, counsellor, case, summary="Premier échange")
    today = paris_today()
    ended = datetime.combine(today - timedelta(days=1), time(9), tzinfo=PARIS)
    session.add(
        Episode(
            operator_id=ara.id,
            case_id=followed.id,
            unit_id=unit_id(session, "UO2.1"),
            started_at=ended - timedelta(days=2),
            ended_at=ended,
        )
    )
    appointment = make_appointment(
        session,
        starts_at=datetime.combine(today, time(15), tzinfo=PARIS),
        site=site,
        counsellor=counsellor,
        appointment_type=kind,
        case_id=case.id,
    )
    partner = make_partner(session, ara, name="CIBC Lyon", email="cibc@exemple.fr")
    session.flush()
    answers = [
        client.post(
            f"/cases/{case.id}/plan/steps",
            data={"description": "Contacter Transitions Pro", "owner": "beneficiary"}
            | {"due_on": "", "status": "todo", "csrf_token": csrf},
        ),
        client.post(
            f"/cases/{case.id}/referrals",
            data={"partner_id": partner.id, "purpose": "Bilan de compétences"}
            | {"shared_information": "Nom : Zoé", "consent": "1", "send_now": "1"}
            | {"follow_up_on": "", "csrf_token": csrf},
        ),
        client.post(
            f"/cases/{case.id}/attachments",
            data={"csrf_token": csrf, "description": "Bulletin"},
            files={"file": ("bulletin.pdf", PDF, "application/pdf")},
        ),
    ]
    assert [answer.status_code for answer in answers] == [200] * 3  # redirects followed
    next_week = today + timedelta(days=7 - today.weekday())
    return {
        "case": str(case.id),
        "appointment": appointment.reference,
        "booking": f"motif={kind.id}&mode=on_site&lieu={site.id}",
        "day": today.isoformat(),
        "next_week": next_week.isoformat(),
        "next_week_label": format_weekday(next_week),
        "month_start": today.replace(day=1).isoformat(),
        "year_start": today.replace(month=1, day=1).isoformat(),
    }


@pytest.fixture
def campaign(client, session, ara, world) -> str:
    """A control campaign drawn this month, its pack built: from a UO0 ended yesterday,
    billable as UO0 requires no proof (the world's ended UO2.1 lacks its proofs)."""
    ended = datetime.combine(paris_today() - timedelta(days=1), time(9), tzinfo=PARIS)
    case = make_case(session, make_staff(session, ara))
    session.add(
        Episode(
            operator_id=ara.id,
            case_id=case.id,
            unit_id=unit_id(session, "UO0"),
            started_at=ended - timedelta(hours=1),
            ended_at=ended,
        )
    )
    session.flush()
    csrf = log_in(client, session, make_staff(session, ara, Role.MANAGER))
    form = {"du": world["month_start"], "au": world["day"], "sample_size": "5"}
    drawn = client.post("/rapports/controles", data={**form, "sample_rate": "", "csrf_token": csrf})
    assert drawn.status_code == 200  # followed to the campaign's page
    return drawn.url.path.rsplit("/", 1)[1]


@pytest.fixture
def rights_request(session, ara, case) -> str:
    """An access request of the case's person, its archive queued (the panel then polls)."""
    admin = make_staff(session, ara, Role.OPERATOR_ADMIN)
    data = RightsRequestCreate(
        beneficiary_id=case.beneficiary_id,
        kind=RightKind.ACCESS,
        received_on=paris_today(),
        received_via="email",
    )
    request = record_request(session=session, actor=admin, data=data)
    request_archive(session=session, actor=admin, request_id=request.id)
    return str(request.id)


def period_archive(session, manager) -> str:
    """An archive of the deliverables the manager asked for, queued (the panel then polls)."""
    archive = DeliverableArchive(
        operator_id=manager.operator_id,
        requested_by_id=manager.id,
        filters={"start": "2026-01-01", "end": "2026-12-31", "content": "issued_versions"},
        documents_total=12,
    )
    session.add(archive)
    session.flush()
    return str(archive.id)


def staff_of(session, ara, counsellor, role: Role):
    return counsellor if role == Role.COUNSELLOR else make_staff(session, ara, role)


@pytest.mark.parametrize("fragment", FRAGMENTS + PARTIALS, ids=str)
def test_the_fragment_equals_its_part_of_the_full_page(
    request, client, session, ara, counsellor, world, fragment
):
    if "{campaign}" in fragment.url:
        world = {**world, "campaign": request.getfixturevalue("campaign")}
    if "{rights_request}" in fragment.url:
        world = {**world, "rights_request": request.getfixturevalue("rights_request")}
    user = staff_of(session, ara, counsellor, fragment.role)
    if "{period_archive}" in fragment.url:
        world = {**world, "period_archive": period_archive(session, user)}
    log_in(client, session, user)
    url = fragment.url.format(**world)

    swapped = client.get(url, headers=HTMX)
    assert swapped.status_code == 200, swapped.text
    assert "<html" not in swapped.text and fragment.shows.format(**world) in swapped.text
    pages = [page.format(**world) for page in fragment.pages]
    for page_url in [url, *pages] if fragment.own_page else pages:
        page = client.get(page_url)
        assert page.status_code == 200 and "<html" in page.text
        part = element_html(page.text, fragment.target, fragment.swap)
        assert steady(swapped.text) == steady(part), page_url


# ---- the list is complete -----------------------------------------------------------------------


def fragments_rendered_by_the_routes() -> set[str]:
    """Every `fragment=` of a call in app/routes: a string, or a module constant naming one."""
    found = set()
    for path in sorted(Path(ROOT / "app" / "routes").rglob("*.py")):
        tree = ast.parse(path.read_text())
        constants = {
            target.id: node.value.value
            for node in tree.body
            if isinstance(node, ast.Assign) and isinstance(node.value, ast.Constant)
            for target in node.targets
            if isinstance(target, ast.Name)
        }
        for node in ast.walk(tree):
            if isinstance(node, ast.Call):
                for keyword in node.keywords:
                    if keyword.arg == "fragment":
                        value = keyword.value
                        name = value.value if isinstance(value, ast.Constant) else None
                        name = name or constants.get(getattr(value, "id", None))
                        assert name, f"{path}: a fragment= this test cannot read"
                        found.add(name)
    return found


def partials_answered_by_the_routes() -> set[str]:
    """Every `render(request, "…/_partials/…", …)` in app/routes: a partial answered alone."""
    found = set()
    for path in sorted(Path(ROOT / "app" / "routes").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "render":
                template = node.args[1] if len(node.args) > 1 else None
                if isinstance(template, ast.Constant) and "/_partials/" in template.value:
                    found.add(template.value)
    return found


def test_every_partial_a_route_answers_alone_is_compared_or_shown_nowhere():
    listed = {partial.template for partial in PARTIALS} | NOT_ON_ANY_PAGE
    assert partials_answered_by_the_routes() == listed


def test_every_fragment_the_routes_render_is_compared():
    listed = {fragment.template for fragment in FRAGMENTS}
    rendered = fragments_rendered_by_the_routes()
    assert rendered, "no fragment= found in app/routes"
    assert rendered - listed == set(), "fragments without a comparison in FRAGMENTS"
    assert listed - rendered == set(), "FRAGMENTS lists templates no route renders"
