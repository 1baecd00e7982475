"""Each interaction keeps its episode's unit and its case's person, copied at every flush, so
that a period's people served, units and channels are counted from the interactions' own index
instead of joining every interaction of the period to its episode and its case.

An episode's unit never changes once started, nor a case's person, and an episode with work
recorded under it cannot be cancelled (app/services/cases/episodes.py): the copies only follow
the interaction's own `episode_id` and `case_id`. The synthetic generator writes them with its
rows (app/synthetic/case_story.py)."""

from sqlalchemy import event, inspect
from sqlalchemy.orm import Session

from app.models.cases import Case, Episode, Interaction


@event.listens_for(Session, "before_flush")
def _copy_unit_and_person(session: Session, _flush_context, _instances) -> None:
    for interaction in (*session.new, *session.dirty):
        if not isinstance(interaction, Interaction):
            continue
        state = inspect(interaction)
        moved = interaction in session.new or any(
            state.attrs[name].history.has_changes() for name in ("episode_id", "case_id")
        )
        if moved:
            episode = interaction.episode_id and session.get(Episode, interaction.episode_id)
            interaction.unit_id = episode.unit_id if episode else None
            case = session.get(Case, interaction.case_id)
            interaction.beneficiary_id = case.beneficiary_id if case else None
