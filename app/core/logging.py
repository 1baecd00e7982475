"""Logging, configured once per process: one JSON object per line on stderr (or a console
format for a developer), each line carrying the id of the request it was written for.

The standard library's logging, with a formatter of our own: the server's lines (uvicorn),
SQLAlchemy's and every other library's go through the same handler, so they come out in the
same format and carry the request id too, with no dependency to add.

What goes into a line is the caller's care: ids of rows, counts, route templates — never a
name, an e-mail address, a phone number or typed text, which a journey through the app
checks (tests/web/test_logs_hold_no_personal_data.py)."""

import json
import logging
import re
import sys
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Literal

from app.core.config import get_settings

LogFormat = Literal["json", "console"]

# The request being served. Sync endpoints and dependencies run in anyio's thread pool, which
# copies the context into the worker thread: what a service logs there carries the id too.
_request_id: ContextVar[str | None] = ContextVar("request_id", default=None)

# The loggers whose level FILROUGE_LOG_LEVEL sets: the app's and the server's. Every other
# library says warnings and errors only (SQLAlchemy at INFO would write every statement).
OWN_LOGGERS = ("app", "uvicorn")
OTHERS_LEVEL = logging.WARNING

# Attributes every LogRecord has; anything else on a record came from `extra=` and is shown.
_STANDARD = set(vars(logging.LogRecord("", 0, "", 0, "", (), None))) | {
    "message",
    "asctime",
    "request_id",
    "taskName",
    "color_message",  # uvicorn's message again, with terminal colours
}


# A traceback's last line is an error's message, which the app does not write: a library may
# quote what it was given. Database errors leave out their parameters (app/core/db.py), but
# PostgreSQL's DETAIL still quotes a key's values or the whole failing row; an SMTP refusal
# quotes the address.
_VALUES = r"\((?:[^()]|\([^()]*\))*\)"  # "(…)", with parentheses one level deep inside
_QUOTED = [
    (re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+"), "<e-mail>"),
    (re.compile(r"(?:\+33|\b0)\s*[1-9](?:[\s.-]*\d{2}){4}\b"), "<téléphone>"),
    (re.compile(rf"(\b[Kk]ey {_VALUES})={_VALUES}"), r"\1=(…)"),
    (re.compile(r"(Failing row contains ).*"), r"\1(…)."),
]


def redact(text: str) -> str:
    """`text` with e-mail addresses, French phone numbers and PostgreSQL's key values hidden."""
    for pattern, replacement in _QUOTED:
        text = pattern.sub(replacement, text)
    return text


def bind_request_id(request_id: str) -> None:
    """The id that the lines written from now on, in this context, carry."""
    _request_id.set(request_id)


def current_request_id() -> str | None:
    return _request_id.get()


class RequestIdFilter(logging.Filter):
    """Puts the current request id on each record a handler receives, wherever it came from."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = _request_id.get()
        return True


def _fields(record: logging.LogRecord) -> dict:
    return {k: v for k, v in vars(record).items() if k not in _STANDARD and not k.startswith("_")}


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time (UTC), level, logger, message, request_id when there is
    one, the record's `extra` fields, and the traceback as one string."""

    def format(self, record: logging.LogRecord) -> str:
        line = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        if request_id := getattr(record, "request_id", None):
            line["request_id"] = request_id
        line |= _fields(record)
        if record.exc_info:
            line["exception"] = redact(self.formatException(record.exc_info))
        if record.stack_info:
            line["stack"] = self.formatStack(record.stack_info)
        return json.dumps(line, ensure_ascii=False, default=str)


# The access line's fields, which its message already reads out (app/web/middleware.py).
_ACCESS_FIELDS = {"method", "route", "status", "duration_ms"}


class ConsoleFormatter(logging.Formatter):
    """For a developer's terminal (`make run`): time, level, request id, message, fields."""

    def format(self, record: logging.LogRecord) -> str:
        moment = datetime.fromtimestamp(record.created).strftime("%H:%M:%S")
        request_id = getattr(record, "request_id", None)
        parts = [moment, f"{record.levelname:<7}", f"[{request_id}]" if request_id else "-"]
        parts.append(record.getMessage())
        fields = _fields(record).items()
        parts += [f"{name}={value}" for name, value in fields if name not in _ACCESS_FIELDS]
        text = " ".join(parts)
        if record.exc_info:
            text += "\n" + redact(self.formatException(record.exc_info))
        if record.stack_info:
            text += "\n" + self.formatStack(record.stack_info)
        return text


class _StderrHandler(logging.StreamHandler):
    """Writes to sys.stderr as it is at each line, not as it was when configured (pytest and
    typer's test runner replace it)."""

    @property
    def stream(self):  # type: ignore[override]
        return sys.stderr

    @stream.setter
    def stream(self, _value) -> None:
        pass


def build_handler(
    fmt: LogFormat = "json", stream=None, level: int = logging.NOTSET
) -> logging.Handler:
    """A handler that writes lines in `fmt`, with the request id, to `stream` (stderr)."""
    handler = _StderrHandler() if stream is None else logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter() if fmt == "json" else ConsoleFormatter())
    handler.addFilter(RequestIdFilter())
    handler.setLevel(level)
    return handler


def configure_logging(*, level: str | None = None, fmt: LogFormat | None = None) -> None:
    """Send every line to stderr in the configured format; the app and the server at
    FILROUGE_LOG_LEVEL, other libraries at WARNING. Called again, it replaces its handler
    (create_app runs in tests many times) and leaves any other handler alone (pytest's)."""
    settings = get_settings()
    root = logging.getLogger()
    for handler in root.handlers[:]:
        if isinstance(handler, _StderrHandler):
            root.removeHandler(handler)
    root.addHandler(build_handler(fmt or settings.log_format))
    root.setLevel(OTHERS_LEVEL)
    for name in OWN_LOGGERS:
        logging.getLogger(name).setLevel(level or settings.log_level)
    # uvicorn started with its own logging configuration (`uvicorn app.main:app`) gave its
    # loggers handlers of their own: its lines come here instead. Its access log, if it was
    # left on, keeps its own (`filrouge serve` turns it off: RequestLog writes that line).
    for name in ("uvicorn", "uvicorn.error"):
        logging.getLogger(name).handlers.clear()
        logging.getLogger(name).propagate = True
