"""Episodes: any unit starts at any time, in any order, as often as needed — we warn, never block."""

from sqlmodel import Session, select

from app.core.db import all_or_nothing
from app.core.errors import Conflict, Invalid, NotFound
from app.models.base import utcnow
from app.models.cases import Case, Episode, EpisodeEnd, EpisodePublic, EpisodeStart
from app.models.catalogue import ServiceUnit
from app.models.staff import StaffUser
from app.services.access.scope import load_owned
from app.services.admin.catalogue import get_unit, list_units
from app.services.cases.lifecycle import get_case, touch


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
        select(Episode.unit_id, Episode.ended_at).where(Episode.case_id == case.id)
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
    *, session: Session, actor: StaffUser, case_id: int, data: EpisodeStart
) -> tuple[Episode, list[str]]:
    """Start delivering a unit on an open case; returns the episode and any warnings."""
    case = get_case(session=session, actor=actor, case_id=case_id)
    if not case.is_open:
        raise Conflict("Ce dossier est clos : rouvrez-le pour démarrer une unité.")
    unit = get_unit(session=session, unit_id=data.unit_id)
    warnings = order_warnings(session=session, case=case, unit=unit)
    started_at = data.started_at or utcnow()
    episode = Episode(
        operator_id=case.operator_id,
        case_id=case.id,
        unit_id=unit.id,
        started_at=started_at,
        started_by_id=actor.id,
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
    if episode.ended_at is not None:
        raise Conflict("Cet épisode est déjà terminé.")
    ended_at = data.ended_at or utcnow()
    if ended_at < episode.started_at:
        raise Invalid({"ended_at": "La fin ne peut précéder le début de l'épisode"})
    episode.ended_at = ended_at
    episode.outcome = data.outcome
    case = session.get(Case, episode.case_id)
    touch(case, ended_at)
    session.add_all([episode, case])
    session.flush()
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
