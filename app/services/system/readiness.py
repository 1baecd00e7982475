"""Whether this process can serve (/readyz): the database answers, its schema is the one the
code expects (alembic's revision at the scripts' head), and the file storage takes a write."""

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.engine import Engine

import app
from app.core.storage import get_storage

MIGRATIONS_DIR = Path(app.__file__).parent.parent / "migrations"
PROBE = b"filrouge readiness probe\n"


@dataclass
class Check:
    name: str
    ok: bool
    detail: str = ""


@lru_cache
def script_heads() -> frozenset[str]:
    """The revisions the code expects, read once: the scripts do not change while it runs."""
    return frozenset(ScriptDirectory(str(MIGRATIONS_DIR)).get_heads())


def check_database(engine: Engine) -> list[Check]:
    """The database answers, and its revision is the scripts' head (a deploy whose migrate
    step has not run yet, or a node of an older version against a newer database, is not
    ready). No check of the schema past the revision: the migrations are tested."""
    try:
        with engine.connect() as conn:
            current = frozenset(MigrationContext.configure(conn).get_current_heads())
    except Exception as exc:  # unreachable, refused, timed out: not ready, whatever the cause
        return [
            Check("database", False, f"{type(exc).__name__}"),
            Check("migrations", False, "non vérifiées"),
        ]
    expected = script_heads()
    detail = "" if current == expected else f"base à {_listed(current)}, code à {_listed(expected)}"
    return [Check("database", True), Check("migrations", current == expected, detail)]


def check_storage() -> Check:
    """A small object written and deleted through the storage interface."""
    storage = get_storage(probe=True)
    try:
        storage.delete(storage.save(PROBE))
    except Exception as exc:  # a full disk, a read-only mount, an object store away
        return Check("storage", False, type(exc).__name__)
    return Check("storage", True)


def readiness(engine: Engine) -> list[Check]:
    return [*check_database(engine), check_storage()]


def _listed(revisions: frozenset[str]) -> str:
    return ", ".join(sorted(revisions)) or "vide"
