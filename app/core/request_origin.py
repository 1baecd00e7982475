"""Where the request being served came from (client address, user agent), for the audit
trail's entries: bound by the web layer (app/web/audit.py) for every request, so that a
service records it without being handed the request; empty for the worker and the CLI."""

from contextvars import ContextVar
from dataclasses import dataclass


@dataclass(frozen=True)
class Origin:
    """Where a request came from, as the trail keeps it."""

    ip: str = ""
    user_agent: str = ""


_origin: ContextVar[Origin | None] = ContextVar("request_origin", default=None)


def bind_origin(origin: Origin) -> None:
    _origin.set(origin)


def current_origin() -> Origin:
    return _origin.get() or Origin()
