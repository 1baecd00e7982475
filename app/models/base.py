"""Column types and small field helpers shared by every table."""

from datetime import UTC, datetime
from enum import StrEnum

from sqlalchemy import DateTime
from sqlalchemy.types import TypeDecorator
from sqlmodel import CheckConstraint, SQLModel

# Named constraints so that migrations can drop them on every engine.
SQLModel.metadata.naming_convention = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def utcnow() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator):
    """Timestamps are stored in UTC and always come back time-zone aware (SQLite forgets)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def check_in(
    column: str, states: type[StrEnum], *, name: str, nullable: bool = False
) -> CheckConstraint:
    """The CHECK constraint that keeps `column` among the values of `states`, written from the
    enum so that a value added in Python without its migration shows in `alembic check`."""
    values = ", ".join(f"'{state.value}'" for state in states)
    allowed = f"{column} IN ({values})"
    return CheckConstraint(f"{column} IS NULL OR {allowed}" if nullable else allowed, name=name)
