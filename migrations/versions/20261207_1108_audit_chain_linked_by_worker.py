"""The audit chain linked by the worker rather than by the requests (issue 20, item 1): an entry
is inserted with its id from a sequence and no chain fields (`seq`, `previous_hash`, `hash`),
then linked once; the chain's head and checkpoint count by `seq`. The triggers now let through
that one linking UPDATE per entry, with every other column unchanged, and a purge's DELETE only
of linked entries. Existing entries were chained in id order: their `seq` is their id.

Revision ID: d6b960784414
Revises: 6a2c414ba8ba
Create Date: 2026-12-07 11:08:45.925978+00:00
"""

import hashlib
import json
from collections.abc import Sequence
from datetime import UTC

import sqlalchemy as sa
from alembic import op

import app.models.base

revision: str = "d6b960784414"
down_revision: str | None = "6a2c414ba8ba"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_REFUSE = "audit_events are written once: only the retention purge removes them"
_LINK_FIELDS = ("seq", "previous_hash", "hash")
# Every column but the link fields: the linking UPDATE must leave them as they are. A migration
# adding a column to audit_events must add it here and write the SQLite trigger again.
_KEPT = (
    "id",
    "at",
    "actor_id",
    "actor_role",
    "action",
    "record_type",
    "record_id",
    "beneficiary_id",
    "operator_id",
    "ip",
    "user_agent",
    "reason",
)


def upgrade() -> None:
    postgresql = op.get_bind().dialect.name == "postgresql"
    _drop_triggers(postgresql)
    with op.batch_alter_table("audit_events", schema=None) as batch_op:
        batch_op.add_column(sa.Column("seq", sa.Integer(), nullable=True))
        batch_op.alter_column("previous_hash", existing_type=sa.String(length=64), nullable=True)
        batch_op.alter_column("hash", existing_type=sa.String(length=64), nullable=True)
        batch_op.create_unique_constraint(batch_op.f("uq_audit_events_seq"), ["seq"])
    op.execute("UPDATE audit_events SET seq = id")
    op.execute("ALTER TABLE audit_chain RENAME COLUMN head_id TO head_seq")
    op.execute("ALTER TABLE audit_chain RENAME COLUMN checkpoint_id TO checkpoint_seq")
    if postgresql:
        # On SQLite the integer primary key already numbers a row inserted without an id.
        op.execute("CREATE SEQUENCE audit_events_id_seq OWNED BY audit_events.id")
        op.execute(
            "SELECT setval('audit_events_id_seq', COALESCE(MAX(id), 0) + 1, false) FROM audit_events"
        )
        op.execute(
            "ALTER TABLE audit_events ALTER COLUMN id SET DEFAULT nextval('audit_events_id_seq')"
        )
        _linked_once_postgresql()
    else:
        _linked_once_sqlite()


def _linking_only(old: str, new: str) -> str:
    """SQL true when an UPDATE only links an unlinked entry (SQLite's IS: NULL-safe equality)."""
    unlinked = " AND ".join(f"{old}.{field} IS NULL" for field in _LINK_FIELDS)
    linked = " AND ".join(f"{new}.{field} IS NOT NULL" for field in _LINK_FIELDS)
    return f"{unlinked} AND {linked}"


def _linked_once_postgresql() -> None:
    permitted = (
        "OLD.seq IS NOT NULL AND EXISTS (SELECT 1 FROM audit_purge_permits WHERE OLD.at < cutoff)"
    )
    # to_jsonb: every column but the link fields, including any added later, must stay as it was.
    unchanged = (
        f"to_jsonb(NEW) - '{{{','.join(_LINK_FIELDS)}}}'::text[]"
        f" = to_jsonb(OLD) - '{{{','.join(_LINK_FIELDS)}}}'::text[]"
    )
    op.execute(
        "CREATE FUNCTION audit_events_append_only() RETURNS trigger LANGUAGE plpgsql AS $$"
        f" BEGIN IF TG_OP = 'DELETE' AND {permitted} THEN RETURN OLD; END IF;"
        f" IF TG_OP = 'UPDATE' AND {_linking_only('OLD', 'NEW')} AND {unchanged}"
        " THEN RETURN NEW; END IF;"
        f" RAISE EXCEPTION '{_REFUSE}'; END; $$"
    )
    _postgresql_triggers()


def _linked_once_sqlite() -> None:
    unchanged = " AND ".join(f"NEW.{column} IS OLD.{column}" for column in _KEPT)
    op.execute(
        "CREATE TRIGGER audit_events_no_update BEFORE UPDATE ON audit_events"
        f" WHEN NOT ({_linking_only('OLD', 'NEW')} AND {unchanged})"
        f" BEGIN SELECT RAISE(ABORT, '{_REFUSE}'); END"
    )
    permitted = (
        "OLD.seq IS NOT NULL AND EXISTS (SELECT 1 FROM audit_purge_permits WHERE OLD.at < cutoff)"
    )
    op.execute(
        "CREATE TRIGGER audit_events_no_delete BEFORE DELETE ON audit_events"
        f" WHEN NOT ({permitted}) BEGIN SELECT RAISE(ABORT, '{_REFUSE}'); END"
    )


def _postgresql_triggers() -> None:
    op.execute(
        "CREATE TRIGGER audit_events_append_only BEFORE UPDATE OR DELETE ON audit_events"
        " FOR EACH ROW EXECUTE FUNCTION audit_events_append_only()"
    )
    op.execute(
        "CREATE TRIGGER audit_events_no_truncate BEFORE TRUNCATE ON audit_events"
        " FOR EACH STATEMENT EXECUTE FUNCTION audit_events_append_only()"
    )


def _drop_triggers(postgresql: bool) -> None:
    if postgresql:
        op.execute("DROP TRIGGER audit_events_append_only ON audit_events")
        op.execute("DROP TRIGGER audit_events_no_truncate ON audit_events")
        op.execute("DROP FUNCTION audit_events_append_only()")
    else:
        op.execute("DROP TRIGGER audit_events_no_update")
        op.execute("DROP TRIGGER audit_events_no_delete")


def downgrade() -> None:
    """Back to entries numbered in chain order: the former chain walks by id, and its hashes
    cover the ids. The entries waiting are linked, then the chain is numbered and hashed again
    from its checkpoint in `seq` order (the same hash, over the new ids)."""
    postgresql = op.get_bind().dialect.name == "postgresql"
    _drop_triggers(postgresql)
    _renumber_in_chain_order()
    if postgresql:
        op.execute("ALTER TABLE audit_events ALTER COLUMN id DROP DEFAULT")
        op.execute("DROP SEQUENCE audit_events_id_seq")
    op.execute("ALTER TABLE audit_chain RENAME COLUMN checkpoint_seq TO checkpoint_id")
    op.execute("ALTER TABLE audit_chain RENAME COLUMN head_seq TO head_id")
    with op.batch_alter_table("audit_events", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("uq_audit_events_seq"), type_="unique")
        batch_op.alter_column("hash", existing_type=sa.String(length=64), nullable=False)
        batch_op.alter_column("previous_hash", existing_type=sa.String(length=64), nullable=False)
        batch_op.drop_column("seq")
    _written_once(postgresql)


# The entries as this revision leaves them, with the app's time type (UTC, on both engines).
_events = sa.table(
    "audit_events",
    *(sa.column(name) for name in _KEPT if name != "at"),
    sa.column("at", app.models.base.UTCDateTime(timezone=True)),
    *(sa.column(name) for name in _LINK_FIELDS),
)


def _renumber_in_chain_order() -> None:
    bind = op.get_bind()
    checkpoint, previous = bind.execute(
        sa.text("SELECT checkpoint_seq, checkpoint_hash FROM audit_chain")
    ).one()
    order = (_events.c.seq.is_(None), _events.c.seq, _events.c.id)
    rows = [row._asdict() for row in bind.execute(sa.select(_events).order_by(*order))]
    # Out of the way first, so that no new id meets an old one (the primary key).
    bind.execute(sa.text("UPDATE audit_events SET id = -id, seq = NULL, hash = NULL"))
    for number, row in enumerate(rows, start=checkpoint + 1):
        old_id = row["id"]
        row.update(id=number, previous_hash=previous)
        previous = _hash(row)
        bind.execute(
            _events.update()
            .where(_events.c.id == -old_id)
            .values(id=number, seq=number, previous_hash=row["previous_hash"], hash=previous)
        )
    head = checkpoint + len(rows)
    bind.execute(
        sa.text("UPDATE audit_chain SET head_seq = :head, head_hash = :hash"),
        {"head": head, "hash": previous},
    )


def _hash(row: dict) -> str:
    """The entry's SHA-256 as app/services/audit/trail.py's `entry_hash` computes it (written
    out here: a migration must not change when the app does)."""
    fields = {name: row[name] for name in (*_KEPT, "previous_hash")}
    fields["at"] = row["at"].astimezone(UTC).isoformat(timespec="microseconds")
    canonical = json.dumps(fields, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()


def _written_once(postgresql: bool) -> None:
    """The previous revision's triggers: no UPDATE at all, a DELETE only under a permit."""
    permitted = "EXISTS (SELECT 1 FROM audit_purge_permits WHERE OLD.at < cutoff)"
    if postgresql:
        op.execute(
            "CREATE FUNCTION audit_events_append_only() RETURNS trigger LANGUAGE plpgsql AS $$"
            f" BEGIN IF TG_OP = 'DELETE' AND {permitted} THEN RETURN OLD; END IF;"
            f" RAISE EXCEPTION '{_REFUSE}'; END; $$"
        )
        _postgresql_triggers()
        return
    op.execute(
        "CREATE TRIGGER audit_events_no_update BEFORE UPDATE ON audit_events"
        f" BEGIN SELECT RAISE(ABORT, '{_REFUSE}'); END"
    )
    op.execute(
        f"CREATE TRIGGER audit_events_no_delete BEFORE DELETE ON audit_events WHEN NOT {permitted}"
        f" BEGIN SELECT RAISE(ABORT, '{_REFUSE}'); END"
    )
