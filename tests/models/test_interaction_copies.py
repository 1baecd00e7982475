"""Each interaction keeps its episode's unit and its case's person through every write."""

from sqlmodel import select

from app.models.cases import Episode, Interaction
from app.models.catalogue import ServiceUnit
from tests.factories import (
    make_case,
    make_episode,
    make_interaction,
    make_operator,
    make_staff,
)


def stored(session, interaction) -> tuple:
    session.expire(interaction)
    row = session.exec(
        select(Interaction.unit_id, Interaction.beneficiary_id).where(
            Interaction.id == interaction.id
        )
    ).one()
    return tuple(row)


def unit_of(session, episode: Episode) -> int:
    return session.get(ServiceUnit, episode.unit_id).id


def test_an_interaction_in_a_unit_keeps_that_unit_and_the_person(session):
    counsellor = make_staff(session, make_operator(session))
    case = make_case(session, counsellor)
    episode = make_episode(session, counsellor, case, "UO1")

    interaction = make_interaction(session, counsellor, case, episode_id=episode.id)

    assert stored(session, interaction) == (unit_of(session, episode), case.beneficiary_id)


def test_an_interaction_outside_any_unit_keeps_no_unit(session):
    counsellor = make_staff(session, make_operator(session))
    case = make_case(session, counsellor)

    interaction = make_interaction(session, counsellor, case)

    assert stored(session, interaction) == (None, case.beneficiary_id)


def test_moving_an_interaction_to_another_episode_follows_its_unit(session):
    counsellor = make_staff(session, make_operator(session))
    case = make_case(session, counsellor)
    first = make_episode(session, counsellor, case, "UO1")
    second = make_episode(session, counsellor, case, "UO2.1")
    interaction = make_interaction(session, counsellor, case, episode_id=first.id)

    interaction.episode_id = second.id
    session.add(interaction)
    session.flush()
    assert stored(session, interaction)[0] == unit_of(session, second)

    interaction.episode_id = None
    session.add(interaction)
    session.flush()
    assert stored(session, interaction)[0] is None
