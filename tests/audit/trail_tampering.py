"""Altering the trail behind the app's back, as an intruder with the database's rights would:
the append-only triggers are lifted for one statement, in the caller's transaction."""

from sqlalchemy import Connection, text

_SQLITE_TRIGGERS = {
    "audit_events_no_update": "BEFORE UPDATE ON audit_events",
    "audit_events_no_delete": "BEFORE DELETE ON audit_events",
}


def tamper(connection: Connection, statement: str) -> None:
    """Run `statement` on audit_events with its triggers out of the way."""
    if connection.dialect.name == "postgresql":
        connection.execute(text("ALTER TABLE audit_events DISABLE TRIGGER USER"))
        connection.execute(text(statement))
        connection.execute(text("ALTER TABLE audit_events ENABLE TRIGGER USER"))
        return
    saved = {
        name: connection.execute(
            text("SELECT sql FROM sqlite_master WHERE type = 'trigger' AND name = :name"),
            {"name": name},
        ).scalar_one()
        for name in _SQLITE_TRIGGERS
    }
    for name in saved:
        connection.execute(text(f"DROP TRIGGER {name}"))
    connection.execute(text(statement))
    for sql in saved.values():
        connection.execute(text(sql))
