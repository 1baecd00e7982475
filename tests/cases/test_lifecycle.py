from datetime import timedelta

import pytest

from app.core.errors import Conflict, NotFound
from app.models.base import utcnow
from app.models.cases import CaseClose, EpisodeEnd, EpisodeStart, InteractionCreate
from app.models.nomenclatures import CloseReason, InteractionChannel, Role
from app.services.cases import episodes, interactions
from app.services.cases import lifecycle as cases
from tests.factories import make_case, make_operator, make_staff, unit_id


def start(session, actor, case, code):
    return episodes.start_episode(
        session=session,
        actor=actor,
        case_id=case.id,
        data=EpisodeStart(unit_id=unit_id(session, code)),
    )


def test_case_reference_names_operator_and_year(session, counsellor):
    case = make_case(session, counsellor)
    assert case.reference == f"ARA-{case.opened_at.year}-{case.id:06d}"


def test_the_global_search_finds_a_case_by_any_part_of_its_reference_with_digits(
    session, counsellor
):
    case = make_case(session, counsellor)
    _code, year, number = case.reference.split("-")

    for typed in (case.reference, case.reference.lower(), number, f"{year}-{number[:3]}"):
        found = cases.find_cases(session=session, actor=counsellor, reference=typed)
        assert [row.case.id for row in found] == [case.id], typed
    # Every reference starts with the operator's code: without a digit, nothing is a match.
    assert cases.find_cases(session=session, actor=counsellor, reference="ARA") == []


def test_units_start_in_any_order_and_again(session, counsellor):
    case = make_case(session, counsellor)
    for code in ("UO1", "UO2.1", "UO1", "UO2.2", "UO2.1"):
        episode, _ = start(session, counsellor, case, code)
        episodes.end_episode(
            session=session, actor=counsellor, episode_id=episode.id, data=EpisodeEnd(outcome="ok")
        )
    found = episodes.episodes_of_case(session=session, actor=counsellor, case_id=case.id)
    assert len(found) == 5


def test_level_two_without_its_predecessor_warns_but_starts(session, counsellor):
    case = make_case(session, counsellor)
    episode, warnings = start(session, counsellor, case, "UO2.2")
    assert episode.id is not None
    assert warnings == ["UO2.2 sans UO2.1 préalable."]


def test_starting_a_running_unit_again_warns(session, counsellor):
    case = make_case(session, counsellor)
    start(session, counsellor, case, "UO1")
    _, warnings = start(session, counsellor, case, "UO1")
    assert warnings == ["Un épisode UO1 est déjà en cours sur ce dossier."]


def test_interaction_outside_any_unit_is_recorded(session, counsellor):
    case = make_case(session, counsellor)
    data = InteractionCreate(
        occurred_at=utcnow() - timedelta(hours=1),
        duration_minutes=20,
        channel=InteractionChannel.PHONE,
        summary="Point rapide",
    )
    interaction = interactions.record_interaction(
        session=session, actor=counsellor, case_id=case.id, data=data
    )
    assert interaction.episode_id is None
    listed = interactions.interactions_of_case(session=session, actor=counsellor, case_id=case.id)
    assert listed == [interaction]


def test_closed_case_refuses_new_episode_until_reopened(session, counsellor):
    case = make_case(session, counsellor)
    cases.close_case(
        session=session,
        actor=counsellor,
        case_id=case.id,
        data=CaseClose(reason=CloseReason.COMPLETED),
    )
    with pytest.raises(Conflict):
        start(session, counsellor, case, "UO1")
    cases.reopen_case(session=session, actor=counsellor, case_id=case.id)
    episode, _ = start(session, counsellor, case, "UO1")
    assert episode.case_id == case.id


def test_counsellor_of_other_operator_gets_not_found(session, counsellor):
    case = make_case(session, counsellor)
    other = make_staff(session, make_operator(session, "BRE", "Bretagne"))
    with pytest.raises(NotFound):
        cases.get_case(session=session, actor=other, case_id=case.id)


def test_national_observer_sees_no_case(session, counsellor):
    case = make_case(session, counsellor)
    observer = make_staff(session, None, Role.NATIONAL_OBSERVER)
    with pytest.raises(NotFound):
        cases.get_case(session=session, actor=observer, case_id=case.id)


def test_closing_a_case_ends_the_units_under_way(session, counsellor):
    case = make_case(session, counsellor)
    episode, _ = start(session, counsellor, case, "UO2.1")
    cases.close_case(
        session=session,
        actor=counsellor,
        case_id=case.id,
        data=CaseClose(reason=CloseReason.WITHDRAWN),
    )
    assert episode.ended_at == case.closed_at
    assert episode.outcome == "Terminée à la clôture du dossier"
