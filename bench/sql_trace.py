"""The benchmark's hooks, installed by bench/app.py only: an empty route and a per-request
record of the SQL sent to the driver, so that `bench/run.py` can measure its two floors.

The app itself (`app.main:app`, `filrouge serve`) never imports this module."""

import base64
import json
import os
import tempfile
import time
import uuid
from contextvars import ContextVar
from datetime import date, datetime, timedelta
from datetime import time as clock
from decimal import Decimal
from pathlib import Path
from typing import Any

from fastapi import FastAPI
from fastapi.responses import PlainTextResponse, Response
from sqlalchemy import event
from sqlalchemy.engine import Engine

# The last traced request, as JSON in a file: with several web processes, the request that
# asks for it may reach another process than the traced one.
FILE_ENV_VAR = "BENCH_SQL_TRACE_FILE"
TRACE_HEADER = b"x-bench-trace"

# The statements of the traced request in progress (None when the request is not traced).
# Sync endpoints run in a thread pool that copies the context, so they append to this list.
_current: ContextVar[list[dict[str, Any]] | None] = ContextVar("sql_trace", default=None)


def install(app: FastAPI) -> None:
    """Listen to every engine's cursor, trace requests that ask for it, add the bench routes."""
    event.listen(Engine, "before_cursor_execute", _before_execute)
    event.listen(Engine, "after_cursor_execute", _after_execute)
    app.add_middleware(TraceMiddleware)
    app.add_api_route("/bench/empty", _empty, methods=["GET"], include_in_schema=False)
    app.add_api_route("/bench/last-trace", _last_trace, methods=["GET"], include_in_schema=False)


def _before_execute(conn, _cursor, statement, parameters, _context, executemany) -> None:
    trace = _current.get()
    if trace is not None:
        try:
            params = encode(parameters)
        except TypeError as exc:  # recorded, so that the benchmark says which one it missed
            params = {"$unsupported": str(exc)}
        # A batch of insertmanyvalues is flagged executemany yet sent as one execute().
        many = bool(executemany) and isinstance(parameters, list)
        trace.append({"sql": statement, "params": params, "many": many, "ms": None})
        conn.info["bench_started"] = time.perf_counter()


def _after_execute(conn, _cursor, _statement, _parameters, _context, _executemany) -> None:
    trace = _current.get()
    started = conn.info.pop("bench_started", None)
    if trace and started is not None:
        trace[-1]["ms"] = (time.perf_counter() - started) * 1000


class TraceMiddleware:
    """Pure ASGI, so that the context variable set here is the one the endpoint sees."""

    def __init__(self, app) -> None:
        self.app = app

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http" or (TRACE_HEADER, b"1") not in scope["headers"]:
            await self.app(scope, receive, send)
            return
        trace: list[dict[str, Any]] = []
        token = _current.set(trace)
        try:
            await self.app(scope, receive, send)
        finally:
            _current.reset(token)
            _save_last({"path": scope["path"], "statements": trace})


def _empty() -> PlainTextResponse:
    """Does nothing: the cost of the framework, middleware and HTTP alone."""
    return PlainTextResponse("")


def _trace_file() -> Path:
    default = Path(tempfile.gettempdir()) / "filrouge-sql-trace.json"
    return Path(os.environ.get(FILE_ENV_VAR) or default)


def _save_last(trace: dict[str, Any]) -> None:
    target = _trace_file()
    partial = target.with_name(f"{target.name}.{os.getpid()}")
    partial.write_text(json.dumps(trace))
    partial.replace(target)  # atomic: a reader never sees half a trace


def _last_trace() -> Response:
    try:
        body = _trace_file().read_text()
    except FileNotFoundError:
        body = json.dumps({"path": None, "statements": []})
    return Response(body, media_type="application/json")


# ---- parameters as JSON, with their Python types kept -------------------------------------


def encode(value: Any) -> Any:
    """DB-API parameters as JSON; datetimes, bytes etc. tagged so that `decode` restores them."""
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, dict):
        return {"$dict": {key: encode(item) for key, item in value.items()}}
    if isinstance(value, list | tuple):
        return [encode(item) for item in value]
    for tag, kind in _TAGS.items():
        if isinstance(value, kind):
            return {tag: _DUMP[tag](value)}
    if type(value).__module__.startswith("psycopg") and type(value).__name__ in _PSYCOPG_JSON:
        return {"$" + type(value).__name__: value.obj}  # psycopg's Json / Jsonb wrappers
    raise TypeError(f"cannot trace a parameter of type {type(value).__name__}")


def decode(value: Any) -> Any:
    if isinstance(value, list):
        return tuple(decode(item) for item in value)
    if isinstance(value, dict):
        ((tag, raw),) = value.items()
        if tag == "$dict":
            return {key: decode(item) for key, item in raw.items()}
        if tag[1:] in _PSYCOPG_JSON:
            from psycopg.types import json

            return getattr(json, tag[1:])(raw)
        return _LOAD[tag](raw)
    return value


_PSYCOPG_JSON = {"Json", "Jsonb"}
# datetime before date: a datetime is a date too.
_TAGS = {
    "$datetime": datetime,
    "$date": date,
    "$time": clock,
    "$timedelta": timedelta,
    "$decimal": Decimal,
    "$uuid": uuid.UUID,
    "$bytes": bytes | bytearray | memoryview,
}
_DUMP = {
    "$datetime": datetime.isoformat,
    "$date": date.isoformat,
    "$time": clock.isoformat,
    "$timedelta": timedelta.total_seconds,
    "$decimal": str,
    "$uuid": str,
    "$bytes": lambda raw: base64.b64encode(bytes(raw)).decode(),
}
_LOAD = {
    "$datetime": datetime.fromisoformat,
    "$date": date.fromisoformat,
    "$time": clock.fromisoformat,
    "$timedelta": lambda seconds: timedelta(seconds=seconds),
    "$decimal": Decimal,
    "$uuid": uuid.UUID,
    "$bytes": base64.b64decode,
    "$unsupported": lambda reason: _refuse(reason),
}


def _refuse(reason: str):
    raise TypeError(reason)
