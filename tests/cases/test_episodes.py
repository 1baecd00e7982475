"""Episodes: a start the rules warn about is asked first; one started by mistake is cancelled."""

from datetime import timedelta

import pytest
from sqlmodel import select

from app.core.config import get_settings
from app.core.errors import Conflict, Invalid, NeedsConfirmation, NotFound
from app.models.base import utcnow
from app.models.cases import CaseClose, Episode, EpisodeEnd, EpisodeStart, InteractionCreate
from app.models.deliverables import DeliverableDraft
from app.models.nomenclatures import CloseReason, InteractionChannel, Role
from app.services.cases import episodes, interactions
from app.services.cases import lifecycle as cases
from app.services.deliverables.documents import start_draft
from tests.factories import (
    deliverable_kind,
    make_case,
    make_deliverable,
    make_episode,
    make_interaction,
    make_staff,
    unit_id,
)


def ask(session, actor, case, code):
    """Start `code` as the case page does: asking first when the rules warn."""
    return episodes.start_episode(
        session=session,
        actor=actor,
        case_id=case.id,
        data=EpisodeStart(unit_id=unit_id(session, code)),
        confirmed=False,
    )


def cancel(session, actor, episode):
    return episodes.cancel_episode(
        session=session, actor=actor, case_id=episode.case_id, episode_id=episode.id
    )


def started_days_ago(session, episode, days: float) -> Episode:
    episode.started_at = utcnow() - timedelta(days=days)
    session.add(episode)
    session.flush()
    return episode


# ---- asking before starting -----------------------------------------------------------------


def test_starting_a_unit_already_under_way_asks_first_and_starts_nothing(session, counsellor, case):
    make_episode(session, counsellor, case, "UO1")
    with pytest.raises(NeedsConfirmation) as asked:
        ask(session, counsellor, case, "UO1")
    assert asked.value.warnings == ["Un épisode UO1 est déjà en cours sur ce dossier."]
    assert len(session.exec(select(Episode).where(Episode.case_id == case.id)).all()) == 1


def test_a_unit_out_of_order_asks_first(session, counsellor, case):
    with pytest.raises(NeedsConfirmation) as asked:
        ask(session, counsellor, case, "UO2.2")
    assert asked.value.warnings == ["UO2.2 sans UO2.1 préalable."]


def test_a_start_without_warning_is_not_asked(session, counsellor, case):
    episode, warnings = ask(session, counsellor, case, "UO1")
    assert episode.id is not None and warnings == []


def test_a_confirmed_start_goes_ahead_with_its_warnings(session, counsellor, case):
    make_episode(session, counsellor, case, "UO1")
    episode, warnings = episodes.start_episode(
        session=session,
        actor=counsellor,
        case_id=case.id,
        data=EpisodeStart(unit_id=unit_id(session, "UO1")),
        confirmed=True,
    )
    assert episode.id is not None
    assert warnings == ["Un épisode UO1 est déjà en cours sur ce dossier."]


def test_a_cancelled_episode_no_longer_warns(session, counsellor, case):
    cancel(session, counsellor, make_episode(session, counsellor, case, "UO1"))
    episode, warnings = ask(session, counsellor, case, "UO1")
    assert episode.id is not None and warnings == []


# ---- cancelling ------------------------------------------------------------------------------


def test_an_episode_started_by_mistake_is_cancelled_by_whom_and_when(session, counsellor, case):
    episode = make_episode(session, counsellor, case, "UO2.1")
    before = utcnow()
    cancelled = cancel(session, counsellor, episode)
    assert cancelled.cancelled_by_id == counsellor.id
    assert before <= cancelled.cancelled_at <= utcnow()
    assert cancelled.is_cancelled and not cancelled.is_open
    listed = episodes.episodes_of_case(session=session, actor=counsellor, case_id=case.id)
    assert [e.id for e in listed] == [episode.id]  # kept, for the case's history


def test_a_manager_may_cancel_too(session, ara, counsellor, case):
    manager = make_staff(session, ara, Role.MANAGER)
    episode = cancel(session, manager, make_episode(session, counsellor, case))
    assert episode.cancelled_by_id == manager.id


def test_an_ended_episode_with_nothing_attached_may_be_cancelled(session, counsellor, case):
    episode = make_episode(session, counsellor, case)
    episodes.end_episode(
        session=session, actor=counsellor, episode_id=episode.id, data=EpisodeEnd()
    )
    assert cancel(session, counsellor, episode).is_cancelled


def test_cancelling_is_refused_saying_what_is_attached(session, counsellor, case):
    episode = make_episode(session, counsellor, case)
    make_interaction(session, counsellor, case, episode_id=episode.id)
    make_interaction(session, counsellor, case, episode_id=episode.id)
    make_deliverable(session, case, "document_synthese", episode=episode, issued=False)
    with pytest.raises(Conflict) as refused:
        cancel(session, counsellor, episode)
    assert refused.value.message == (
        "2 entretiens et 1 livrable sont rattachés à cette unité : elle ne peut pas être annulée."
    )
    session.refresh(episode)
    assert episode.cancelled_at is None


def test_one_interview_is_said_in_the_singular(session, counsellor, case):
    episode = make_episode(session, counsellor, case)
    make_interaction(session, counsellor, case, episode_id=episode.id)
    with pytest.raises(Conflict) as refused:
        cancel(session, counsellor, episode)
    assert refused.value.message == (
        "1 entretien est rattaché à cette unité : elle ne peut pas être annulée."
    )


def test_cancelling_after_the_window_is_refused(session, counsellor, case):
    days = get_settings().episode_cancel_days
    episode = started_days_ago(session, make_episode(session, counsellor, case), days + 1)
    with pytest.raises(Conflict) as refused:
        cancel(session, counsellor, episode)
    assert refused.value.message == (
        f"Cette unité a démarré il y a plus de {days} jours : elle ne peut plus être annulée."
    )


def test_the_window_is_a_setting(session, counsellor, case, monkeypatch):
    monkeypatch.setattr(get_settings(), "episode_cancel_days", 1)
    episode = started_days_ago(session, make_episode(session, counsellor, case), 2)
    with pytest.raises(Conflict, match="plus d'un jour"):
        cancel(session, counsellor, episode)
    monkeypatch.setattr(get_settings(), "episode_cancel_days", 3)
    assert cancel(session, counsellor, episode).is_cancelled


def test_an_episode_cannot_be_cancelled_twice(session, counsellor, case):
    episode = cancel(session, counsellor, make_episode(session, counsellor, case))
    with pytest.raises(Conflict, match="déjà annulée"):
        cancel(session, counsellor, episode)


def test_cancelling_on_a_closed_case_is_refused(session, counsellor, case):
    episode = make_episode(session, counsellor, case)
    cases.close_case(
        session=session,
        actor=counsellor,
        case_id=case.id,
        data=CaseClose(reason=CloseReason.COMPLETED),
    )
    with pytest.raises(Conflict, match="rouvrez-le"):
        cancel(session, counsellor, episode)


def test_cancelling_through_another_case_is_not_found(session, counsellor, case):
    episode = make_episode(session, counsellor, case)
    other = make_case(session, counsellor)
    with pytest.raises(NotFound):
        episodes.cancel_episode(
            session=session, actor=counsellor, case_id=other.id, episode_id=episode.id
        )


def test_another_operators_staff_cannot_cancel(session, bre, counsellor, case):
    episode = make_episode(session, counsellor, case)
    with pytest.raises(NotFound):
        cancel(session, make_staff(session, bre), episode)


# ---- a cancelled episode takes nothing more ----------------------------------------------------


def test_a_cancelled_episode_cannot_be_ended(session, counsellor, case):
    episode = cancel(session, counsellor, make_episode(session, counsellor, case))
    with pytest.raises(Conflict, match="annulée"):
        episodes.end_episode(
            session=session, actor=counsellor, episode_id=episode.id, data=EpisodeEnd()
        )


def test_no_interview_is_linked_to_a_cancelled_episode(session, counsellor, case):
    episode = cancel(session, counsellor, make_episode(session, counsellor, case))
    data = InteractionCreate(
        occurred_at=utcnow() - timedelta(minutes=5),
        duration_minutes=30,
        channel=InteractionChannel.PHONE,
        episode_id=episode.id,
    )
    with pytest.raises(Invalid) as refused:
        interactions.record_interaction(
            session=session, actor=counsellor, case_id=case.id, data=data
        )
    assert refused.value.fields == {"episode_id": "Cette unité a été annulée"}


def test_no_deliverable_proves_a_cancelled_episode(session, counsellor, case):
    episode = cancel(session, counsellor, make_episode(session, counsellor, case))
    kind = deliverable_kind(session, case.operator_id)
    with pytest.raises(Invalid) as refused:
        start_draft(
            session=session,
            actor=counsellor,
            case_id=case.id,
            data=DeliverableDraft(kind_id=kind.id, episode_id=episode.id),
        )
    assert refused.value.fields == {"episode_id": "Cette unité a été annulée"}


def test_closing_the_case_leaves_a_cancelled_episode_as_it_was(session, counsellor, case):
    episode = cancel(session, counsellor, make_episode(session, counsellor, case))
    cases.close_case(
        session=session,
        actor=counsellor,
        case_id=case.id,
        data=CaseClose(reason=CloseReason.COMPLETED),
    )
    session.refresh(episode)
    assert episode.ended_at is None and episode.outcome == ""
