"""What a new draft says before the counsellor types anything: the work recorded on the case.

« Le chemin produit le parchemin » : each section of a kind is filled from what was recorded
for its episode (or the whole case): the request and situation, the shared summary of each
interview with its date, the units delivered, the referrals and what came of them, the action
plan's objective and steps. Private notes never leave the case."""

import unicodedata
from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session, col, or_, select

from app.core.dates import format_date, format_day
from app.models.beneficiaries import Beneficiary
from app.models.cases import Case, Episode, Interaction
from app.models.catalogue import DeliverableKind, ServiceUnit
from app.models.deliverables import ActionStep, StepStatus
from app.models.nomenclatures import (
    DiplomaLevel,
    EmploymentStatus,
    InteractionChannel,
    RequestMotive,
    StepOwner,
)
from app.services.cases.lifecycle import case_time_zone
from app.services.deliverables.action_plan import plan_objective
from app.services.referrals.views import referral_lines

_SETTLED = (StepStatus.DONE.value, StepStatus.DROPPED.value)


@dataclass
class _Scope:
    """The stretch of the case a draft covers: one episode, or everything (episode None)."""

    case: Case
    episode: Episode | None
    time_zone: str


def prefilled_sections(
    session: Session, case: Case, kind: DeliverableKind, episode_id: int | None
) -> list[dict]:
    """The kind's sections, each filled from what the case recorded."""
    episode = session.get(Episode, episode_id) if episode_id is not None else None
    scope = _Scope(case, episode, case_time_zone(session, case))
    sections = []
    if kind.includes_request:
        sections.append(_section("demande", "Votre demande", _request(session, case)))
    if kind.includes_interactions:
        body = _interaction_digest(session, scope)
        sections.append(_section("entretiens", "Ce que nous avons travaillé ensemble", body))
        units = _units_delivered(session, scope)
        if units:
            sections.append(_section("unites", "Étapes de l'accompagnement", units))
    if kind.includes_referrals:
        lines = referral_lines(session=session, case_id=case.id)
        if lines:
            sections.append(_section("orientations", "Orientations proposées", "\n".join(lines)))
    for position, title in enumerate(kind.extra_section_titles):
        body = _recorded_answer(session, scope, title)
        sections.append(_section(f"libre-{position + 1}", title, body))
    return sections


def _section(key: str, title: str, body: str) -> dict:
    return {"key": key, "title": title, "body": body}


# ---- the request --------------------------------------------------------------------------


def _request(session: Session, case: Case) -> str:
    """The motive, the request in the person's words, and their situation when it was known."""
    paragraphs = [f"Motif : {RequestMotive(case.motive).label}."]
    if case.request_text.strip():
        paragraphs.append(case.request_text.strip())
    beneficiary = session.get(Beneficiary, case.beneficiary_id)
    situation = []
    if beneficiary.employment_status:
        situation.append(EmploymentStatus(beneficiary.employment_status).label)
    if beneficiary.diploma_level:
        situation.append(f"diplôme : {DiplomaLevel(beneficiary.diploma_level).label}")
    if situation:
        paragraphs.append(f"Situation : {' ; '.join(situation)}.")
    return "\n\n".join(paragraphs)


# ---- interviews and units -----------------------------------------------------------------


def _interaction_digest(session: Session, scope: _Scope) -> str:
    """One paragraph per interview with a shared summary, oldest first, dated in French.

    For an episode: its own interviews, and those recorded outside any unit (hors UO) while
    it was the latest unit started — an interview typed before the unit was started belongs
    to it too. Interviews of other units are theirs."""
    query = select(Interaction).where(
        Interaction.case_id == scope.case.id, Interaction.summary != ""
    )
    if scope.episode is not None:
        unattached = Interaction.episode_id.is_(None)
        since = _previous_start(session, scope.episode)
        if since is not None:
            unattached = unattached & (Interaction.occurred_at >= since)
        if scope.episode.ended_at is not None:
            unattached = unattached & (Interaction.occurred_at <= scope.episode.ended_at)
        query = query.where(or_(Interaction.episode_id == scope.episode.id, unattached))
    paragraphs = []
    for interaction in session.exec(query.order_by(Interaction.occurred_at, Interaction.id)):
        channel = InteractionChannel(interaction.channel).label.lower()
        day = format_date(interaction.occurred_at, scope.time_zone)
        paragraphs.append(f"Entretien du {day} ({channel}) : {interaction.summary}")
    return "\n\n".join(paragraphs)


def _previous_start(session: Session, episode: Episode) -> datetime | None:
    """When the unit before this one started (None: this is the case's first)."""
    query = select(Episode.started_at).where(
        Episode.case_id == episode.case_id,
        Episode.id != episode.id,
        Episode.started_at < episode.started_at,
        col(Episode.cancelled_at).is_(None),
    )
    return session.exec(query.order_by(col(Episode.started_at).desc())).first()


def _units_delivered(session: Session, scope: _Scope) -> str:
    """A list of the units delivered so far (up to the episode's own), with their dates."""
    query = (
        select(Episode, ServiceUnit)
        .join(ServiceUnit, col(ServiceUnit.id) == Episode.unit_id)
        .where(Episode.case_id == scope.case.id, col(Episode.cancelled_at).is_(None))
    )
    if scope.episode is not None:
        query = query.where(Episode.started_at <= scope.episode.started_at)
    lines = []
    for episode, unit in session.exec(query.order_by(Episode.started_at, Episode.id)):
        start = format_date(episode.started_at, scope.time_zone)
        if episode.ended_at is None:
            when = f"en cours depuis le {start}"
        else:
            end = format_date(episode.ended_at, scope.time_zone)
            when = f"le {start}" if end == start else f"du {start} au {end}"
        outcome = f" — {episode.outcome}" if episode.outcome.strip() else ""
        lines.append(f"- {unit.code} {unit.label} : {when}{outcome}")
    return "\n".join(lines)


# ---- the action plan, in the kind's own sections ------------------------------------------


def _recorded_answer(session: Session, scope: _Scope, title: str) -> str:
    """A section the kind adds is pre-filled when its title names something recorded: the
    plan's objective (« Objectif », « Projet retenu »), its open steps (« Prochaines étapes »)
    or how its steps went (« Bilan de la mise en œuvre »). Other sections start empty."""
    name = _plain(title)
    if name.startswith("objectif") or name == "projet retenu":
        return plan_objective(session, scope.case.id)
    if name == "prochaines etapes":
        steps = [s for s in _steps(session, scope) if s.status not in _SETTLED]
        return "\n".join(f"- {_step_line(step)}" for step in steps)
    if name.startswith("bilan"):
        steps = _steps(session, scope)
        return "\n".join(
            f"- {_step_line(step)} : {StepStatus(step.status).label.lower()}" for step in steps
        )
    return ""


def _steps(session: Session, scope: _Scope) -> list[ActionStep]:
    query = select(ActionStep).where(ActionStep.case_id == scope.case.id)
    return list(session.exec(query.order_by(ActionStep.position, ActionStep.id)))


def _step_line(step: ActionStep) -> str:
    who = StepOwner(step.owner).label.lower()
    due = f", avant le {format_day(step.due_on)}" if step.due_on else ""
    return f"{step.description} ({who}{due})"


def _plain(title: str) -> str:
    """A title without accents, case or ligatures, to recognise it however it was typed."""
    decomposed = unicodedata.normalize("NFKD", title.lower().replace("œ", "oe"))
    return " ".join("".join(c for c in decomposed if not unicodedata.combining(c)).split())
