"""Scratch databases (tests/conftest.py) are dropped even while PostgreSQL's own workers are
still in them for a moment, and a real error is not hidden by the retries."""

from contextlib import contextmanager

import pytest
from sqlalchemy.exc import DBAPIError

from tests.conftest import drop_database


class PostgresError(Exception):
    def __init__(self, sqlstate: str) -> None:
        super().__init__(sqlstate)
        self.sqlstate = sqlstate


class Server:
    """Answers DROP DATABASE with the given errors first, then succeeds."""

    def __init__(self, *errors: str) -> None:
        self.errors = list(errors)
        self.drops = 0

    @contextmanager
    def connect(self):
        yield self

    def execute(self, statement) -> None:
        self.drops += 1
        if self.errors:
            raise DBAPIError(str(statement), None, PostgresError(self.errors.pop(0)))


def test_a_drop_refused_while_a_worker_is_in_the_database_is_tried_again():
    server, pauses = Server("42501", "55006"), []

    drop_database(server, "filrouge_test_x", pause=pauses.append)

    assert server.drops == 3
    assert pauses == [1.0, 1.0]


def test_the_drop_gives_up_after_a_few_attempts():
    server, pauses = Server(*["42501"] * 9), []

    with pytest.raises(DBAPIError):
        drop_database(server, "filrouge_test_x", attempts=5, pause=pauses.append)

    assert server.drops == 5
    assert len(pauses) == 4


def test_any_other_error_is_raised_at_once():
    server, pauses = Server("42P01"), []

    with pytest.raises(DBAPIError):
        drop_database(server, "filrouge_test_x", pause=pauses.append)

    assert (server.drops, pauses) == (1, [])
