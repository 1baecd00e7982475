"""The savepoint helpers: a step of a request done whole or not at all, and what runs only once
the transaction commits (app/core/db.py)."""

import logging

import pytest
from sqlmodel import Session, select

from app.core.db import REFUSED_BY_THE_DATABASE, all_or_nothing, once_committed, savepoint
from app.core.errors import Conflict, Invalid
from app.models.operators import Operator
from tests.factories import make_operator


def _codes(session: Session) -> set[str]:
    return set(session.exec(select(Operator.code)))


def test_a_failed_block_is_rolled_back_and_earlier_work_kept(session):
    make_operator(session, "ARA")
    with pytest.raises(Invalid), savepoint(session):
        make_operator(session, "BRE", "Bretagne")
        raise Invalid({"name": "Refusé"})
    assert _codes(session) == {"ARA"}
    make_operator(session, "OCC", "Occitanie")  # the transaction goes on
    assert _codes(session) == {"ARA", "OCC"}


def test_a_row_the_database_refuses_is_a_conflict_and_earlier_work_kept(session):
    make_operator(session, "ARA")
    with pytest.raises(Conflict) as refused, savepoint(session):
        make_operator(session, "BRE", "Bretagne")
        # operators.code is unique
        session.add(Operator(code="BRE", name="Bretagne bis", region_code="53"))
        session.flush()
    assert str(refused.value) == REFUSED_BY_THE_DATABASE
    assert _codes(session) == {"ARA"}


@all_or_nothing
def _open_two(*, session: Session, codes: tuple[str, str], fail: bool = False) -> Operator:
    make_operator(session, codes[0], f"Opérateur {codes[0]}")
    if fail:
        raise Invalid({"code": "Refusé"})
    return make_operator(session, codes[1], f"Opérateur {codes[1]}")


def test_a_decorated_service_runs_whole_or_not_at_all(session):
    with pytest.raises(Invalid):
        _open_two(session=session, codes=("ARA", "BRE"), fail=True)
    assert _codes(session) == set()
    assert _open_two(session=session, codes=("OCC", "PDL")).code == "PDL"
    assert _codes(session) == {"OCC", "PDL"}


def test_a_decorated_service_given_its_session_by_position_fails_before_running(session):
    ran = []

    @all_or_nothing
    def action(session: Session) -> None:
        ran.append(session)

    with pytest.raises(KeyError, match="session"):
        action(session)
    assert ran == []


def test_an_action_runs_once_the_transaction_commits_and_not_for_what_rolled_back(session):
    ran = []
    once_committed(session, lambda: ran.append("kept"))
    with pytest.raises(Invalid), savepoint(session):
        once_committed(session, lambda: ran.append("rolled back with its savepoint"))
        raise Invalid({"name": "Refusé"})
    with savepoint(session):
        once_committed(session, lambda: ran.append("released savepoint"))
    assert ran == []  # a savepoint released is not the commit
    session.commit()
    assert ran == ["kept", "released savepoint"]
    session.commit()
    assert ran == ["kept", "released savepoint"]  # once


def test_a_transaction_rolled_back_runs_none_of_its_actions(session):
    ran = []
    once_committed(session, lambda: ran.append("dropped"))
    session.rollback()
    session.commit()
    assert ran == []


def test_an_action_that_fails_is_logged_and_the_others_still_run(session, caplog):
    ran = []
    once_committed(session, lambda: 1 / 0)
    once_committed(session, lambda: ran.append("next"))
    with caplog.at_level(logging.ERROR, logger="app.core.db"):
        session.commit()
    assert ran == ["next"]
    assert [r.getMessage() for r in caplog.records] == ["action after commit failed"]
