"""Episodes: any unit starts at any time, in any order, as often as needed — we warn, never block.

A form asks before starting a unit the rules warn about; an episode started by mistake, with
nothing recorded under it yet, may be cancelled for a few days (FILROUGE_EPISODE_CANCEL_DAYS)."""

from datetime import datetime, timedelta

from sqlalchemy import update
from sqlmodel import Session, col, func, select

from app.core.config import get_settings
from app.core.db import all_or_nothing
from app.core.errors import Conflict, Invalid, NeedsConfirmation, NotFound
from app.models.base import utcnow
from app.models.cases import Case, Episode, EpisodeEnd, EpisodePublic, EpisodeStart, Interaction
from app.models.catalogue import ServiceUnit
from app.models.control import ControlSampleUnit
from app.models.deliverables import Deliverable
from app.models.staff import StaffUser
from app.services.access.scope import load_owned
from app.services.admin.catalogue import get_unit, list_units
from app.services.admin.markets import episode_lot_id
from app.services.cases.lifecycle import get_case, touch
from app.services.surveys.invitations import on_episode_cancelled, on_episode_ended


def missing_predecessor(
    unit: ServiceUnit, units: list[ServiceUnit], earlier_unit_ids: set[int]
) -> str | None:
    """« UO2.2 sans UO2.1 préalable » when a level-2 unit comes before the unit that precedes it."""
    if unit.level < 2:
        return None
    before = [u for u in units if u.level >= 1 and u.position < unit.position]
    if before and before[-1].id not in earlier_unit_ids:
        return f"{unit.code} sans {before[-1].code} préalable"
    return None


def order_warnings(*, session: Session, case: Case, unit: ServiceUnit) -> list[str]:
    """Advice about starting `unit` now on `case`; never a refusal."""
    previous = session.exec(
        select(Episode.unit_id, Episode.ended_at).where(
            Episode.case_id == case.id, col(Episode.cancelled_at).is_(None)
        )
    ).all()
    warnings = []
    if any(unit_id == unit.id and ended is None for unit_id, ended in previous):
        warnings.append(f"Un épisode {unit.code} est déjà en cours sur ce dossier.")
    missing = missing_predecessor(unit, list_units(session=session), {u for u, _ in previous})
    if missing:
        warnings.append(missing + ".")
    return warnings


@all_or_nothing
def start_episode(
    *,
    session: Session,
    actor: StaffUser,
    case_id: int,
    data: EpisodeStart,
    confirmed: bool = True,
) -> tuple[Episode, list[str]]:
    """Start delivering a unit on an open case; returns the episode and any warnings.

    Unless `confirmed`, a start the rules warn about raises NeedsConfirmation with the
    warnings instead, so that a form asks first; the API starts at once and returns them."""
    case = get_case(session=session, actor=actor, case_id=case_id)
    if not case.is_open:
        raise Conflict("Ce dossier est clos : rouvrez-le pour démarrer une unité.")
    unit = get_unit(session=session, unit_id=data.unit_id)
    warnings = order_warnings(session=session, case=case, unit=unit)
    if warnings and not confirmed:
        raise NeedsConfirmation(warnings)
    started_at = data.started_at or utcnow()
    episode = Episode(
        operator_id=case.operator_id,
        case_id=case.id,
        unit_id=unit.id,
        started_at=started_at,
        started_by_id=actor.id,
        # The market it starts under, for good: a later market or price never changes it.
        lot_id=episode_lot_id(session, case.operator_id, started_at),
    )
    touch(case, started_at)
    session.add_all([episode, case])
    session.flush()
    return episode, warnings


def get_episode(*, session: Session, actor: StaffUser, episode_id: int) -> Episode:
    return load_owned(session, Episode, episode_id, actor)


@all_or_nothing
def end_episode(
    *,
    session: Session,
    actor: StaffUser,
    episode_id: int,
    data: EpisodeEnd,
    case_id: int | None = None,
) -> Episode:
    """End a running episode; `case_id`, when the caller knows it, must be the episode's."""
    episode = get_episode(session=session, actor=actor, episode_id=episode_id)
    if case_id is not None and episode.case_id != case_id:
        raise NotFound()
    if episode.is_cancelled:
        raise Conflict("Cette unité a été annulée.")
    if episode.ended_at is not None:
        raise Conflict("Cet épisode est déjà terminé.")
    ended_at = data.ended_at or utcnow()
    if ended_at < episode.started_at:
        raise Invalid({"ended_at": "La fin ne peut précéder le début de l'épisode"})
    # Conditional, so that of two people ending it at the same moment only one does (on
    # PostgreSQL both would otherwise read it running and both write their end).
    ended = session.exec(
        update(Episode)
        .where(col(Episode.id) == episode.id, col(Episode.ended_at).is_(None))
        .values(ended_at=ended_at, outcome=data.outcome)
        .execution_options(synchronize_session=False)
    ).rowcount
    if ended != 1:
        raise Conflict("Cet épisode est déjà terminé.")
    session.refresh(episode)
    case = session.get(Case, episode.case_id)
    touch(case, ended_at)
    session.add(case)
    session.flush()
    on_episode_ended(session=session, episode=episode)
    return episode


def cancellable_until(episode: Episode) -> datetime:
    """The moment after which an episode can no longer be cancelled."""
    return episode.started_at + timedelta(days=get_settings().episode_cancel_days)


def _attached_work(session: Session, episode: Episode) -> str:
    """What is recorded under the episode, as a sentence's subject and verb, e.g. « 2 entretiens
    et 1 livrable sont rattachés »; empty when nothing is."""
    parts = []
    for model, singular, plural in (
        (Interaction, "entretien", "entretiens"),
        (Deliverable, "livrable", "livrables"),
        (ControlSampleUnit, "tirage de contrôle", "tirages de contrôle"),
    ):
        n = session.exec(select(func.count()).where(model.episode_id == episode.id)).one()
        if n:
            parts.append(f"{n} {singular if n == 1 else plural}")
    if not parts:
        return ""
    if len(parts) == 1 and parts[0].startswith("1 "):
        return f"{parts[0]} est rattaché"
    listed = ", ".join(parts[:-1]) + " et " + parts[-1] if len(parts) > 1 else parts[0]
    return f"{listed} sont rattachés"


def _more_than(days: int) -> str:
    return "plus d'un jour" if days == 1 else f"plus de {days} jours"


@all_or_nothing
def cancel_episode(
    *, session: Session, actor: StaffUser, episode_id: int, case_id: int | None = None
) -> Episode:
    """Cancel an episode started by mistake: it counts nowhere any more, its case's history
    keeps it. Refused once something is recorded under it, or after the window; `case_id`,
    when the caller knows it, must be the episode's."""
    episode = get_episode(session=session, actor=actor, episode_id=episode_id)
    if case_id is not None and episode.case_id != case_id:
        raise NotFound()
    if episode.is_cancelled:
        raise Conflict("Cette unité est déjà annulée.")
    case = session.get(Case, episode.case_id)
    if not case.is_open:
        raise Conflict("Ce dossier est clos : rouvrez-le pour annuler une unité.")
    now = utcnow()
    if now > cancellable_until(episode):
        days = get_settings().episode_cancel_days
        raise Conflict(
            f"Cette unité a démarré il y a {_more_than(days)} : elle ne peut plus être annulée."
        )
    attached = _attached_work(session, episode)
    if attached:
        raise Conflict(f"{attached} à cette unité : elle ne peut pas être annulée.")
    episode.cancelled_at = now
    episode.cancelled_by_id = actor.id
    touch(case, now)
    session.add_all([episode, case])
    session.flush()
    on_episode_cancelled(session=session, episode=episode)
    return episode


def episodes_of_case(*, session: Session, actor: StaffUser, case_id: int) -> list[Episode]:
    case = get_case(session=session, actor=actor, case_id=case_id)
    statement = select(Episode).where(Episode.case_id == case.id).order_by(Episode.started_at)
    return list(session.exec(statement))


def episode_public(*, session: Session, episode: Episode) -> EpisodePublic:
    """An episode as the API gives it, with its unit's code."""
    unit = session.get(ServiceUnit, episode.unit_id)
    return EpisodePublic.model_validate({**episode.model_dump(), "unit_code": unit.code})


def public_episodes_of_case(
    *, session: Session, actor: StaffUser, case_id: int
) -> list[EpisodePublic]:
    found = episodes_of_case(session=session, actor=actor, case_id=case_id)
    return [episode_public(session=session, episode=episode) for episode in found]
