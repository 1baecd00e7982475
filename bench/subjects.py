"""Who and what the benchmark works on, picked from the database itself: the counsellor with the
most open cases, their busiest case, the busiest operator's manager, the national observer…"""

import math
from dataclasses import dataclass
from datetime import date, timedelta

from bench.database import RawDatabase

PACK_CASES = 1000


@dataclass
class Subjects:
    counsellor: str
    case_id: int
    open_case_ids: list[int]
    search_term: str
    manager: str | None
    observer: str | None
    operator_id: int
    operator_code: str
    report_year: int
    pack_period: tuple[date, date] | None
    pack_units: int
    pack_cases_expected: int


def pick_subjects(db: RawDatabase) -> Subjects:
    counsellor_id, counsellor = _busiest_counsellor(db)
    open_cases = [
        row[0]
        for row in db.rows(
            "SELECT c.id FROM cases c WHERE c.referent_id = %s AND c.status = 'open'"
            " ORDER BY c.last_activity_at DESC LIMIT 50",
            counsellor_id,
        )
    ]
    case_id, last_name = db.rows(
        "SELECT c.id, b.last_name FROM cases c JOIN beneficiaries b ON b.id = c.beneficiary_id"
        " WHERE c.referent_id = %s AND c.status = 'open'"
        " ORDER BY (SELECT count(*) FROM interactions i WHERE i.case_id = c.id) DESC, c.id"
        " LIMIT 1",
        counsellor_id,
    )[0]
    operator_id, operator_code = db.rows(
        "SELECT o.id, o.code FROM operators o JOIN cases c ON c.operator_id = o.id"
        " GROUP BY o.id, o.code ORDER BY count(*) DESC, o.id LIMIT 1"
    )[0]
    period, units, cases = _pack_period(db, operator_id)
    return Subjects(
        counsellor=counsellor,
        case_id=case_id,
        open_case_ids=open_cases,
        search_term=last_name,
        manager=_staff(db, "manager", operator_id),
        observer=_staff(db, "national_observer", None),
        operator_id=operator_id,
        operator_code=operator_code,
        report_year=_busiest_year(db, operator_id),
        pack_period=period,
        pack_units=units,
        pack_cases_expected=cases,
    )


def _busiest_counsellor(db: RawDatabase) -> tuple[int, str]:
    found = db.rows(
        "SELECT s.id, s.email FROM staff_users s JOIN cases c ON c.referent_id = s.id"
        " WHERE s.role = 'counsellor' AND s.active = %s AND c.status = 'open'"
        " GROUP BY s.id, s.email ORDER BY count(*) DESC, s.id LIMIT 1",
        True,
    )
    if not found:
        raise SystemExit("no counsellor with open cases: load a dataset first")
    return found[0]


def _staff(db: RawDatabase, role: str, operator_id: int | None) -> str | None:
    where = "operator_id = %s" if operator_id else "operator_id IS NULL"
    params = (operator_id,) if operator_id else ()
    return db.scalar(
        f"SELECT email FROM staff_users WHERE role = %s AND active = %s AND {where}"
        " ORDER BY id LIMIT 1",
        role,
        True,
        *params,
    )


def _busiest_year(db: RawDatabase, operator_id: int) -> int:
    """The calendar year in which the operator opened the most cases."""
    first, last = db.rows(
        "SELECT min(opened_at), max(opened_at) FROM cases WHERE operator_id = %s", operator_id
    )[0]
    years = range(_day(first).year, _day(last).year + 1)
    counts = {
        year: db.scalar(
            "SELECT count(*) FROM cases WHERE operator_id = %s AND opened_at >= %s"
            " AND opened_at < %s",
            operator_id,
            _bound(db, date(year, 1, 1)),
            _bound(db, date(year + 1, 1, 1)),
        )
        for year in years
    }
    return max(counts, key=lambda year: (counts[year], year))


def _pack_period(db: RawDatabase, operator_id: int) -> tuple[tuple[date, date] | None, int, int]:
    """The whole span of the operator's ended billable units, and how many units to draw so
    that the sample covers about PACK_CASES cases."""
    first, last, units, cases = db.rows(
        "SELECT min(e.ended_at), max(e.ended_at), count(*), count(DISTINCT e.case_id)"
        " FROM episodes e JOIN service_units u ON u.id = e.unit_id"
        " WHERE e.operator_id = %s AND e.ended_at IS NOT NULL AND u.billable = %s",
        operator_id,
        True,
    )[0]
    if not units:
        return None, 0, 0
    period = (_day(first) - timedelta(days=1), _day(last) + timedelta(days=1))
    if cases <= PACK_CASES:
        return period, units, cases
    # Units drawn at random hit distinct cases with probability 1 - (1 - k/U)^(U/C): solve
    # for the k that covers PACK_CASES cases on average.
    share = 1 - (1 - PACK_CASES / cases) ** (cases / units)
    return period, min(units, math.ceil(units * share)), PACK_CASES


def _day(value) -> date:
    """A stored timestamp's day: SQLite gives text, psycopg a datetime."""
    return date.fromisoformat(str(value)[:10])


def _bound(db: RawDatabase, day: date):
    """A day as the engine compares it with a stored timestamp."""
    return day.isoformat() if db.engine == "sqlite" else day
