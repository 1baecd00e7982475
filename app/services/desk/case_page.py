"""Everything the case page shows, gathered in a fixed number of queries: the header always,
and the one section that is open (the history, units, referrals, documents, attachments,
appointments or the case's own details)."""

from dataclasses import dataclass, field
from datetime import datetime
from math import ceil

from sqlmodel import Session, select

from app.core.dates import format_date
from app.models.appointments import Appointment
from app.models.base import utcnow
from app.models.beneficiaries import Beneficiary
from app.models.cases import Case, Episode, Interaction
from app.models.catalogue import DeliverableKind, ServiceUnit
from app.models.deliverables import Deliverable, DeliverableVersion
from app.models.operators import Site
from app.models.staff import StaffUser
from app.services.access.scope import owned_by
from app.services.admin.staff import Colleague, list_colleagues, list_counsellors
from app.services.booking.calendar import CaseBooking, load_case_booking, next_case_appointment
from app.services.cases.episodes import cancellable_until, missing_predecessor
from app.services.cases.lifecycle import case_time_zone, get_case
from app.services.cases.private_notes import follows_case, reads_private_notes
from app.services.control.proofs import EpisodeProofs, proof_status_for_episodes
from app.services.deliverables.action_plan import PlanView, load_plan
from app.services.deliverables.attachments import AttachmentPanel, attachment_panel
from app.services.deliverables.documents import versions_by_deliverable
from app.services.referrals.views import (
    ReferralPanel,
    ReferralTimelineEntry,
    referral_panel,
    referral_timeline_entries,
    referrals_of_case,
)
from app.services.surveys.case_surveys import CaseSurveys, case_surveys

# The sections of the case page, in the order of its tabs: (code in the URL, label).
SECTIONS = {
    "historique": "Historique",
    "unites": "Unités",
    "orientations": "Orientations",
    "documents": "Documents",
    "pieces-jointes": "Pièces jointes",
    "rendez-vous": "Rendez-vous",
    "dossier": "Dossier",
}
DEFAULT_SECTION = "historique"

# What the history can be narrowed to: (code in the URL, label, kinds of entries shown).
TIMELINE_FILTERS = {
    "tout": ("Tout", None),
    "entretiens": ("Entretiens", {"interaction"}),
    "unites": ("Unités", {"episode_started", "episode_ended", "episode_cancelled"}),
    "documents": ("Documents", {"version_issued", "acknowledged"}),
    "orientations": ("Orientations", {"referral"}),
}
DEFAULT_FILTER = "tout"
TIMELINE_PAGE_SIZE = 20


@dataclass(frozen=True)
class CaseSight:
    """Which part of the case is shown: the open section, and the history's filter and page.
    Unknown codes fall back to the defaults (an old or mistyped link still opens the case)."""

    section: str = DEFAULT_SECTION
    filter: str = DEFAULT_FILTER
    page: int = 1

    @classmethod
    def read(cls, section: str = "", filter: str = "", page: int = 1) -> "CaseSight":
        return cls(
            section if section in SECTIONS else DEFAULT_SECTION,
            filter if filter in TIMELINE_FILTERS else DEFAULT_FILTER,
            page,
        )

    def url(self, case_id: int, **changes) -> str:
        """The case page's address for this sight with `changes`, defaults left out."""
        values = {"section": self.section, "filtre": self.filter, "page": self.page}
        values.update({("filtre" if k == "filter" else k): v for k, v in changes.items()})
        if values["section"] != "historique":
            values["filtre"], values["page"] = DEFAULT_FILTER, 1
        query = [
            f"{name}={value}"
            for name, value, default in (
                ("section", values["section"], DEFAULT_SECTION),
                ("filtre", values["filtre"], DEFAULT_FILTER),
                ("page", values["page"], 1),
            )
            if value != default
        ]
        return f"/cases/{case_id}" + ("?" + "&".join(query) if query else "")


@dataclass
class TimelineEntry:
    at: datetime
    # "episode_started", "episode_ended", "episode_cancelled", "interaction", "version_issued",
    # "acknowledged" or "referral"
    kind: str
    episode: Episode | None = None
    interaction: Interaction | None = None
    unit: ServiceUnit | None = None
    author: StaffUser | None = None
    deliverable: Deliverable | None = None
    version: DeliverableVersion | None = None
    referral: ReferralTimelineEntry | None = None

    @property
    def anchor(self) -> str:
        """The entry's id in the page, stable from one rendering to the next (links aim at it)."""
        if self.kind == "interaction":
            return f"historique-entretien-{self.interaction.id}"
        if self.kind in ("version_issued", "acknowledged"):
            word = "livrable" if self.kind == "version_issued" else "lecture"
            return f"historique-{word}-{self.version.id}"
        if self.kind == "referral":
            return f"historique-orientation-{self.referral.event.id}"
        return f"historique-{EPISODE_WORDS[self.kind]}-{self.episode.id}"


EPISODE_WORDS = {
    "episode_started": "debut",
    "episode_ended": "fin",
    "episode_cancelled": "annulation",
}


def interaction_anchor(interaction_id: int) -> str:
    return f"historique-entretien-{interaction_id}"


def episode_anchor(kind: str, episode_id: int) -> str:
    return f"historique-{EPISODE_WORDS[kind]}-{episode_id}"


@dataclass
class CaseView:
    case: Case
    beneficiary: Beneficiary
    referent: Colleague | StaffUser | None
    site: Site | None
    time_zone: str
    units: list[ServiceUnit]
    episodes: list[Episode]  # cancelled ones too: the history shows them
    running: list[Episode]
    colleagues: list[Colleague]  # who may become referent: the active counsellors
    timeline: list[TimelineEntry] = field(default_factory=list)
    unit_by_id: dict[int, ServiceUnit] = field(default_factory=dict)
    order_warnings: dict[int, list[str]] = field(default_factory=dict)
    # Episodes a counsellor may still cancel (started by mistake): offered in the history.
    cancellable: set[int] = field(default_factory=set)
    deliverables: list[Deliverable] = field(default_factory=list)
    versions: dict[int, list[DeliverableVersion]] = field(default_factory=dict)
    kinds: list[DeliverableKind] = field(default_factory=list)
    proofs: dict[int, EpisodeProofs] = field(default_factory=dict)
    plan: PlanView | None = None
    attachments: AttachmentPanel | None = None
    referrals: ReferralPanel | None = None
    booking: CaseBooking | None = None
    # The surveys' states (never their answers), with the units.
    surveys: CaseSurveys | None = None
    sight: CaseSight = field(default_factory=CaseSight)
    next_appointment: Appointment | None = None
    # The history (when open): every entry, and the page of the filtered ones shown.
    full_timeline: list[TimelineEntry] = field(default_factory=list)
    timeline_total: int = 0
    timeline_pages: int = 1
    # The reader is one of the case's counsellors or their manager (cases/private_notes.py).
    private_notes_shown: bool = False
    # « Télécharger le dossier », offered to those who follow the case (private_notes.py).
    case_file_offered: bool = False

    @property
    def missing_proofs(self) -> int:
        """Proofs still to produce on the counted units (the header's count)."""
        return sum(len(p.missing) for p in self.proofs.values())

    def url(self, **changes) -> str:
        return self.sight.url(self.case.id, **changes)

    def link_to(self, anchor: str) -> str:
        """A link to a history entry: within the page when it is shown, else to its page of
        the whole history."""
        if any(entry.anchor == anchor for entry in self.timeline):
            return f"#{anchor}"
        anchors = [entry.anchor for entry in self.full_timeline]
        page = anchors.index(anchor) // TIMELINE_PAGE_SIZE + 1 if anchor in anchors else 1
        sight = CaseSight(DEFAULT_SECTION, DEFAULT_FILTER, page)
        return f"{sight.url(self.case.id)}#{anchor}"

    @property
    def episode_by_id(self) -> dict[int, Episode]:
        return {e.id: e for e in self.episodes}

    @property
    def startable_units(self) -> list[ServiceUnit]:
        return [u for u in self.units if not u.is_triage]

    @property
    def episode_options(self) -> list[tuple[int, str]]:
        """Episodes an interaction can be linked to, running ones first."""
        ordered = sorted(
            (e for e in self.episodes if not e.is_cancelled),
            key=lambda e: (e.ended_at is not None, -e.started_at.timestamp()),
        )
        options = []
        for e in ordered:
            unit = self.unit_by_id[e.unit_id]
            state = (
                "en cours"
                if e.is_open
                else f"terminée le {format_date(e.ended_at, self.time_zone)}"
            )
            options.append((e.id, f"{unit.code} — {unit.label} ({state})"))
        return options


def load_case_view(
    *, session: Session, actor: StaffUser, case_id: int, sight: CaseSight | None = None
) -> CaseView:
    """The header's facts, and the data of the open section only."""
    sight = sight or CaseSight()
    case = get_case(session=session, actor=actor, case_id=case_id)
    # Every unit in one read: the active ones are offered (as list_units orders them), any one
    # names an episode.
    every_unit = list(session.exec(select(ServiceUnit).order_by(ServiceUnit.position)))
    units = [u for u in every_unit if u.active]
    unit_by_id = {u.id: u for u in every_unit}
    episodes = list(
        session.exec(select(Episode).where(Episode.case_id == case.id).order_by(Episode.started_at))
    )
    counted = [e for e in episodes if not e.is_cancelled]
    colleagues = list_colleagues(session=session, operator_id=case.operator_id)
    staff_by_id = {s.id: s for s in colleagues}
    for e in episodes:  # whoever cancelled one is named, even a manager or a former colleague
        if e.cancelled_by_id and e.cancelled_by_id not in staff_by_id:
            staff_by_id[e.cancelled_by_id] = session.get(StaffUser, e.cancelled_by_id)
    site = session.get(Site, case.site_id) if case.site_id else None
    section = sight.section
    view = CaseView(
        case=case,
        beneficiary=session.get(Beneficiary, case.beneficiary_id),
        referent=staff_by_id.get(case.referent_id)
        or (session.get(StaffUser, case.referent_id) if case.referent_id else None),
        site=site,
        time_zone=case_time_zone(session, case),
        units=units,
        episodes=episodes,
        running=[e for e in counted if e.ended_at is None],
        colleagues=(
            list_counsellors(session=session, operator_id=case.operator_id)
            if section == "dossier"
            else []
        ),
        unit_by_id=unit_by_id,
        sight=sight,
    )
    view.proofs = proof_status_for_episodes(
        session=session, operator_id=case.operator_id, episodes=counted
    )
    view.next_appointment = next_case_appointment(session=session, case=case)
    view.order_warnings = _historical_warnings(counted, units, unit_by_id)
    if section in ("historique", "documents"):
        view.deliverables = list(
            session.exec(
                select(Deliverable).where(Deliverable.case_id == case.id).order_by(Deliverable.id)
            )
        )
        view.versions = versions_by_deliverable(session, [d.id for d in view.deliverables])
    if section == "historique":
        _load_history(session, actor, view, staff_by_id)
        view.private_notes_shown = reads_private_notes(session=session, actor=actor, case=case)
    elif section == "documents":
        view.case_file_offered = follows_case(session=session, actor=actor, case=case)
        view.kinds = list(
            session.exec(
                select(DeliverableKind)
                .where(
                    owned_by(DeliverableKind, case.operator_id), DeliverableKind.active.is_(True)
                )
                .order_by(DeliverableKind.position, DeliverableKind.id)
            )
        )
        view.plan = load_plan(session=session, actor=actor, case_id=case.id)
    elif section == "unites":
        view.surveys = case_surveys(session=session, case=case, beneficiary=view.beneficiary)
    elif section == "orientations":
        view.referrals = referral_panel(session=session, actor=actor, case_id=case.id)
    elif section == "pieces-jointes":
        view.attachments = attachment_panel(session=session, actor=actor, case_id=case.id)
    elif section == "rendez-vous":
        view.booking = load_case_booking(session=session, actor=actor, case_id=case.id)
    return view


def _load_history(session, actor, view: CaseView, staff_by_id) -> None:
    """The whole history, then the page of it the sight asks for (the last one at most)."""
    case = view.case
    interactions = list(session.exec(select(Interaction).where(Interaction.case_id == case.id)))
    referrals = referrals_of_case(session=session, actor=actor, case_id=case.id)
    documents = _document_entries(view, staff_by_id) + [
        TimelineEntry(r.at, "referral", author=r.author, referral=r)
        for r in referral_timeline_entries(session=session, rows=referrals)
    ]
    view.full_timeline = _timeline(
        view.episodes, interactions, view.unit_by_id, staff_by_id, documents
    )
    kinds = TIMELINE_FILTERS[view.sight.filter][1]
    shown = [e for e in view.full_timeline if kinds is None or e.kind in kinds]
    view.timeline_total = len(shown)
    view.timeline_pages = max(1, ceil(len(shown) / TIMELINE_PAGE_SIZE))
    page = min(view.sight.page, view.timeline_pages)
    view.sight = CaseSight(view.sight.section, view.sight.filter, page)
    start = (page - 1) * TIMELINE_PAGE_SIZE
    view.timeline = shown[start : start + TIMELINE_PAGE_SIZE]
    if case.is_open:
        now = utcnow()
        view.cancellable = {
            e.id for e in view.episodes if not e.is_cancelled and now <= cancellable_until(e)
        }


def _historical_warnings(episodes, units, unit_by_id) -> dict[int, list[str]]:
    """For each episode, the order advice that applied when it started."""
    warnings: dict[int, list[str]] = {}
    for episode in episodes:
        earlier = {e.unit_id for e in episodes if e.started_at < episode.started_at}
        missing = missing_predecessor(unit_by_id[episode.unit_id], units, earlier)
        if missing:
            warnings[episode.id] = [missing]
    return warnings


def _timeline(episodes, interactions, unit_by_id, staff_by_id, documents) -> list[TimelineEntry]:
    entries = list(documents)
    for e in episodes:
        unit = unit_by_id.get(e.unit_id)
        author = staff_by_id.get(e.started_by_id)
        entries.append(TimelineEntry(e.started_at, "episode_started", e, None, unit, author))
        if e.ended_at:
            entries.append(TimelineEntry(e.ended_at, "episode_ended", e, None, unit, author))
        if e.cancelled_at:
            canceller = staff_by_id.get(e.cancelled_by_id)
            entries.append(
                TimelineEntry(e.cancelled_at, "episode_cancelled", e, None, unit, canceller)
            )
    episode_by_id = {e.id: e for e in episodes}
    for i in interactions:
        episode = episode_by_id.get(i.episode_id)
        unit = unit_by_id.get(episode.unit_id) if episode else None
        author = staff_by_id.get(i.counsellor_id)
        entries.append(TimelineEntry(i.occurred_at, "interaction", None, i, unit, author))
    # Forms record minutes while the server stamps seconds: within one minute, show the end of
    # a unit above the interactions, and those above the start of the unit.
    rank = {"episode_started": 0, "episode_ended": 2, "episode_cancelled": 3}
    return sorted(
        entries,
        key=lambda entry: (
            entry.at.replace(second=0, microsecond=0),
            rank.get(entry.kind, 1),
            entry.at,
        ),
        reverse=True,
    )


def _document_entries(view: CaseView, staff_by_id) -> list[TimelineEntry]:
    """Issued versions and acknowledgements, for the case's history."""
    entries = []
    by_id = {d.id: d for d in view.deliverables}
    for deliverable_id, versions in view.versions.items():
        for v in versions:
            author = staff_by_id.get(v.issued_by_id)
            deliverable = by_id[deliverable_id]
            entries.append(
                TimelineEntry(
                    v.issued_at, "version_issued", author=author, deliverable=deliverable, version=v
                )
            )
            if v.acknowledged_at:
                entries.append(
                    TimelineEntry(
                        v.acknowledged_at, "acknowledged", deliverable=deliverable, version=v
                    )
                )
    return entries
