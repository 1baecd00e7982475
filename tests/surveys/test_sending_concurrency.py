"""Ends at the same moment, on a database whose commits are real: one episode ended by several
requests at once is asked about once; two units of one case ending at once schedule one
utility survey; two worker passes at once send each invitation once."""

import threading
from collections.abc import Callable
from datetime import timedelta

import pytest
from alembic import command
from sqlmodel import Session, func, select

from app.core.db import build_engine
from app.core.errors import Conflict
from app.models.base import utcnow
from app.models.cases import EpisodeEnd, EpisodeStart
from app.models.outbox import OutboxMessage
from app.models.surveys import SurveyInvitation, SurveyKind
from app.services.cases import episodes
from app.services.surveys.invitations import send_due_surveys
from tests.conftest import alembic_config, scratch_database
from tests.factories import make_beneficiary, make_case, make_operator, make_staff, unit_id

THREADS = 8


@pytest.fixture(scope="module")
def committed_engine(database_url, tmp_path_factory):
    with scratch_database(database_url, "surveys", tmp_path_factory.mktemp("surveys")) as url:
        engine = build_engine(url)
        with engine.begin() as conn:
            command.upgrade(alembic_config(conn), "head")
        yield engine
        engine.dispose()


def _case_with_units(engine, code: str, units: list[str]):
    with Session(engine, expire_on_commit=False) as session:
        operator = make_operator(session, code=code, name=f"Opérateur {code}")
        counsellor = make_staff(session, operator)
        person = make_beneficiary(session, counsellor, survey_consent=True)
        case = make_case(session, counsellor, person)
        started = []
        for unit in units:
            episode, _ = episodes.start_episode(
                session=session,
                actor=counsellor,
                case_id=case.id,
                data=EpisodeStart(
                    unit_id=unit_id(session, unit), started_at=utcnow() - timedelta(days=1)
                ),
            )
            started.append(episode)
        session.commit()
    return counsellor, case, started


def _together(engine, actions: list[Callable[[Session], object]]) -> tuple[int, list]:
    """Run each action in its own thread and session, released together; (commits, errors)
    where a Conflict (« already ended ») is an expected refusal, not an error."""
    barrier = threading.Barrier(len(actions))
    committed = 0
    errors: list[BaseException] = []
    lock = threading.Lock()

    def run(action) -> None:
        nonlocal committed
        barrier.wait()
        try:
            with Session(engine, expire_on_commit=False) as session:
                action(session)
                session.commit()
            with lock:
                committed += 1
        except Conflict:
            pass
        except BaseException as exc:  # pragma: no cover - reported by the assertion
            with lock:
                errors.append(exc)

    threads = [threading.Thread(target=run, args=(action,)) for action in actions]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return committed, errors


def _count(engine, *conditions) -> int:
    with Session(engine) as session:
        return session.exec(
            select(func.count()).select_from(SurveyInvitation).where(*conditions)
        ).one()


def _messages(engine, case) -> int:
    with Session(engine) as session:
        return session.exec(select(func.count()).where(OutboxMessage.case_id == case.id)).one()


def _ender(counsellor, episode):
    def end(session):
        episodes.end_episode(
            session=session, actor=counsellor, episode_id=episode.id, data=EpisodeEnd()
        )

    return end


def test_an_episode_ended_by_several_requests_at_once_is_asked_about_once(committed_engine):
    counsellor, case, [episode] = _case_with_units(committed_engine, "ONCE", ["UO1"])
    committed, errors = _together(committed_engine, [_ender(counsellor, episode)] * THREADS)
    print(f"\n[{committed_engine.dialect.name}] ends committed={committed} of {THREADS}")
    assert errors == []
    assert committed == 1  # the others are told it is already ended
    assert (
        _count(
            committed_engine,
            SurveyInvitation.episode_id == episode.id,
            SurveyInvitation.kind == SurveyKind.END_LEVEL_1,
        )
        == 1
    )
    assert (
        _count(
            committed_engine,
            SurveyInvitation.case_id == case.id,
            SurveyInvitation.kind == SurveyKind.UTILITY,
        )
        == 1
    )
    assert _messages(committed_engine, case) == 1


def test_two_units_of_a_case_ending_at_once_schedule_one_utility_survey(committed_engine):
    counsellor, case, started = _case_with_units(committed_engine, "TWIN", ["UO1", "UO2.1"])
    committed, errors = _together(committed_engine, [_ender(counsellor, e) for e in started])
    assert (committed, errors) == (2, [])
    assert (
        _count(
            committed_engine,
            SurveyInvitation.case_id == case.id,
            SurveyInvitation.kind == SurveyKind.UTILITY,
        )
        == 1
    )
    assert _messages(committed_engine, case) == 2  # one per level


def test_two_worker_passes_at_once_send_each_survey_once(committed_engine):
    counsellor, case, [episode] = _case_with_units(committed_engine, "PASS", ["UO1"])
    _together(committed_engine, [_ender(counsellor, episode)])
    for days, messages in ((8, 2), (400, 3)):  # the reminder, then the utility survey
        later = utcnow() + timedelta(days=days)
        passes = [lambda session, at=later: send_due_surveys(session=session, now=at)] * 4
        committed, errors = _together(committed_engine, passes)
        assert (committed, errors) == (4, [])
        assert _messages(committed_engine, case) == messages


def test_the_worker_reminds_on_its_own_pass(committed_engine, time_machine):
    from app.worker import _housekeeping

    counsellor, case, [episode] = _case_with_units(committed_engine, "WORK", ["UO1"])
    _together(committed_engine, [_ender(counsellor, episode)])
    time_machine.move_to(utcnow() + timedelta(days=8), tick=False)
    said: list[str] = []
    _housekeeping(committed_engine, said.append)
    assert any("Enquêtes de satisfaction envoyées ou relancées : 1." in line for line in said)
    assert _messages(committed_engine, case) == 2
