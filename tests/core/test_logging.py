"""app/core/logging.py: the line format, the configuration, and what a traceback may not quote."""

import contextvars
import io
import json
import logging

import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError

from app.core.logging import (
    _StderrHandler,
    bind_request_id,
    build_handler,
    configure_logging,
    redact,
)


def _write(fmt: str, emit) -> str:
    stream = io.StringIO()
    logger = logging.getLogger("app.essai.format")
    handler = build_handler(fmt, stream)
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)
    try:
        contextvars.copy_context().run(emit, logger)  # the request id bound stays in there
    finally:
        logger.removeHandler(handler)
        logger.setLevel(logging.NOTSET)
    return stream.getvalue()


def test_a_json_line_holds_level_logger_message_request_id_and_fields():
    def emit(logger):
        bind_request_id("req-1")
        logger.warning("case %d closed", 12, extra={"case_id": 12})

    [raw] = _write("json", emit).splitlines()
    line = json.loads(raw)

    assert line["level"] == "WARNING" and line["logger"] == "app.essai.format"
    assert (line["message"], line["request_id"], line["case_id"]) == ("case 12 closed", "req-1", 12)
    assert line["time"].endswith("+00:00")


def test_a_traceback_is_one_json_field_of_one_line():
    def emit(logger):
        try:
            raise ValueError("boom")
        except ValueError:
            logger.exception("it failed")

    [raw] = _write("json", emit).splitlines()
    exception = json.loads(raw)["exception"]

    assert exception.startswith("Traceback (most recent call last)")
    assert exception.endswith("ValueError: boom")


def test_the_console_format_reads_as_one_sentence_with_its_fields():
    def emit(logger):
        bind_request_id("req-2")
        logger.info("GET /cases/{case_id} 200", extra={"status": 200, "case_count": 3})

    line = _write("console", emit)

    assert line.endswith("INFO    [req-2] GET /cases/{case_id} 200 case_count=3\n")


@pytest.mark.parametrize(
    ("quoted", "hidden"),
    [
        ("SMTPRecipientsRefused: {'zoe.martin@exemple.fr': (550, b'unknown')}", "zoe.martin"),
        ("ValueError: invalid phone 06 12 34 56 78", "06 12 34 56 78"),
        ("ValueError: invalid phone +33612345678", "612345678"),
        (
            "DETAIL:  Key (lower(email::text))=(zoe.martin@exemple.fr) already exists.",
            "zoe.martin",
        ),
        ("DETAIL:  Key (nir)=(Durand Zoé) already exists.", "Durand"),
    ],
)
def test_what_an_error_quotes_is_hidden_in_its_traceback(quoted, hidden):
    assert hidden not in redact(quoted)


def test_the_logged_traceback_is_redacted():
    def emit(logger):
        try:
            raise ValueError("refused: zoe.martin@exemple.fr")
        except ValueError:
            logger.exception("sending failed")

    assert "zoe.martin" not in _write("json", emit)
    assert "zoe.martin" not in _write("console", emit)


def test_a_logged_database_error_quotes_none_of_the_values(session):
    """Parameters are hidden by SQLAlchemy (SQLite and PostgreSQL), the failing row that
    PostgreSQL's DETAIL quotes by the formatter."""
    with pytest.raises(IntegrityError) as error:
        session.execute(
            text("INSERT INTO operators (code, name, region_code) VALUES (:code, :name, NULL)"),
            {"code": "ZZ", "name": "Zoé Martin, 12 rue des Lilas"},
        )

    def emit(logger):
        try:
            raise error.value
        except IntegrityError:
            logger.exception("insert failed")

    written = _write("json", emit)
    assert "[SQL parameters hidden" in written
    assert "Zoé Martin" not in written and "Lilas" not in written


def test_configuring_again_replaces_its_handler_and_keeps_the_others(monkeypatch):
    root = logging.getLogger()
    monkeypatch.setattr(root, "handlers", list(root.handlers))
    other = logging.NullHandler()
    root.addHandler(other)

    configure_logging(level="DEBUG")
    configure_logging(level="WARNING")

    assert sum(isinstance(handler, _StderrHandler) for handler in root.handlers) == 1
    assert other in root.handlers
    assert logging.getLogger("app").level == logging.WARNING
    assert logging.getLogger("uvicorn").level == logging.WARNING
    assert root.level == logging.WARNING  # SQLAlchemy at INFO would log every statement
    configure_logging()


def test_uvicorns_own_configuration_gives_way_to_the_apps(monkeypatch):
    """`uvicorn app.main:app` configures its loggers before it imports the app."""
    server = logging.getLogger("uvicorn")
    monkeypatch.setattr(server, "handlers", [logging.NullHandler()])
    monkeypatch.setattr(server, "propagate", False)

    configure_logging()

    assert server.handlers == [] and server.propagate
