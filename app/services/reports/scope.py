"""What every figure of a report is counted over: the operator (or all of them), the period as
UTC bounds of local days, and the optional site and referent filters; with the date arithmetic
and medians the engines write differently."""

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import ColumnElement
from sqlmodel import Session, and_, col, func, select

from app.models.cases import Case
from app.services.access.scope import owned_by
from app.services.reports.periods import local_midnight


@dataclass
class ReportScope:
    """The operator, the period as UTC bounds of local days, and the optional filters."""

    operator_id: int | None  # None: every operator (the national view)
    time_zone: str
    start: date
    end: date
    site_id: int | None = None
    counsellor_id: int | None = None

    @property
    def lo(self) -> datetime:
        return local_midnight(self.start, self.time_zone)

    @property
    def hi(self) -> datetime:
        return local_midnight(self.end + timedelta(days=1), self.time_zone)

    def within(self, column) -> ColumnElement[bool]:
        return and_(column >= self.lo, column < self.hi)

    def owns(self, model) -> list:
        """The tenant condition on a table's rows; none across operators (the national view
        counts every operator's rows together, and never shows one)."""
        return [] if self.operator_id is None else [owned_by(model, self.operator_id)]

    def of_cases(self, statement, case_id_column):
        """Rows attached to a case, joined to it only when the site or referent filters them."""
        if self.site_id is None and self.counsellor_id is None:
            return statement
        return statement.join(Case, col(Case.id) == case_id_column).where(*self.cases())

    def cases(self) -> list:
        """Case-attached rows are filtered by their case's site and referent."""
        conditions = self.owns(Case)
        if self.site_id is not None:
            conditions.append(Case.site_id == self.site_id)
        if self.counsellor_id is not None:
            conditions.append(Case.referent_id == self.counsellor_id)
        return conditions


def days_between(session: Session, later, earlier):
    """Days from `earlier` to `later`, with their fraction: date arithmetic differs by engine."""
    if session.get_bind().dialect.name == "sqlite":
        return func.julianday(later) - func.julianday(earlier)
    return func.extract("epoch", later - earlier) / 86400


def count_and_median(session: Session, days) -> tuple[int, float | None]:
    """How many values of a subquery's column, and their median rounded to a tenth, computed
    by the database."""
    if session.get_bind().dialect.name == "postgresql":
        median = func.percentile_cont(0.5).within_group(days)
        cases, value = session.exec(select(func.count(), median)).one()
        return cases, None if value is None else round(float(value), 1)
    # SQLite has no percentile: the one or two middle values, without loading every row.
    cases = session.exec(select(func.count()).select_from(days.table)).one()
    if not cases:
        return 0, None
    middle = select(days).order_by(days).offset((cases - 1) // 2).limit(2 - cases % 2)
    return cases, sorted_median([float(value) for value in session.exec(middle)])


def sorted_median(values: list[float]) -> float | None:
    """The median of values already in order, rounded to a tenth (SQLite's, in Python)."""
    if not values:
        return None
    middle = values[(len(values) - 1) // 2 : len(values) // 2 + 1]
    return round(sum(middle) / len(middle), 1)
