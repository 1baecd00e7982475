"""Interactions (actes): dated contacts, within an episode or outside any unit (hors UO)."""

from sqlmodel import Session, select

from app.core.db import all_or_nothing
from app.core.errors import Conflict, Invalid
from app.models.cases import Episode, Interaction, InteractionCreate, InteractionPublic
from app.models.staff import StaffUser
from app.services.access.scope import load_owned
from app.services.cases.lifecycle import get_case, touch
from app.services.cases.private_notes import reads_private_notes


@all_or_nothing
def record_interaction(
    *, session: Session, actor: StaffUser, case_id: int, data: InteractionCreate
) -> Interaction:
    """Record a contact by the actor; an episode, when given, must belong to the same case."""
    case = get_case(session=session, actor=actor, case_id=case_id)
    if not case.is_open:
        raise Conflict("Ce dossier est clos : rouvrez-le pour enregistrer un entretien.")
    if data.episode_id is not None:
        episode = session.get(Episode, data.episode_id)
        if episode is None or episode.case_id != case.id:
            raise Invalid({"episode_id": "Cet épisode n'appartient pas au dossier"})
        if episode.is_cancelled:
            raise Invalid({"episode_id": "Cette unité a été annulée"})
    interaction = Interaction(
        operator_id=case.operator_id,
        case_id=case.id,
        counsellor_id=actor.id,
        **data.model_dump(),
    )
    touch(case, data.occurred_at)
    session.add_all([interaction, case])
    session.flush()
    return interaction


def get_interaction(*, session: Session, actor: StaffUser, interaction_id: int) -> Interaction:
    return load_owned(session, Interaction, interaction_id, actor)


def interactions_of_case(*, session: Session, actor: StaffUser, case_id: int) -> list[Interaction]:
    case = get_case(session=session, actor=actor, case_id=case_id)
    statement = (
        select(Interaction).where(Interaction.case_id == case.id).order_by(Interaction.occurred_at)
    )
    return list(session.exec(statement))


def public_interactions_of_case(
    *, session: Session, actor: StaffUser, case_id: int
) -> list[InteractionPublic]:
    """The case's interactions as the API answers them: their private notes only for the
    case's counsellors and their managers (None for anyone else)."""
    found = interactions_of_case(session=session, actor=actor, case_id=case_id)
    case = get_case(session=session, actor=actor, case_id=case_id)
    shown = reads_private_notes(session=session, actor=actor, case=case)
    public = [InteractionPublic.model_validate(i) for i in found]
    for interaction in public if not shown else []:
        interaction.private_notes = None
    return public
