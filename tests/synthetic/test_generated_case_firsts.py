"""The generated cases carry their firsts as the app keeps them, and the activity report's
median delay read from them equals the one worked out from the rows."""

import statistics
from datetime import date, datetime, time
from zoneinfo import ZoneInfo

from sqlmodel import Session, col, select

from app.models.case_firsts import FIRSTS, refresh_case_firsts
from app.models.cases import Case
from app.services.reports.activity import report_sections
from tests.old_firsts import firsts_from_rows, levels_from_rows, stored_firsts, stored_levels

PARIS = ZoneInfo("Europe/Paris")
YEAR = 2025  # a whole year inside the generated history


def test_every_generated_case_keeps_its_firsts(generated):
    with generated.engine.connect() as connection:
        expected, stored = firsts_from_rows(connection), stored_firsts(connection)

    assert stored == expected
    assert any(visit is not None for _contact, visit in stored.values())


def test_every_generated_case_keeps_its_levels(generated):
    with generated.engine.connect() as connection:
        expected, stored = levels_from_rows(connection), stored_levels(connection)

    assert stored == expected
    # Entries, some reaching level 2, and redirected requests that never entered level 1.
    levels = list(stored.values())
    assert any(level_2 is not None for _, level_2, _ in levels)
    assert any(level_1 is None for level_1, _, _ in levels)
    assert sum(interview is not None for _, _, interview in levels) > 100


def test_the_generated_firsts_are_those_the_app_computes(generated):
    """What the generator writes equals what refresh_case_firsts recomputes from the rows."""
    columns = [col(getattr(Case, name)) for name in FIRSTS]
    statement = select(Case.id, *columns).order_by(Case.id)
    with generated.engine.connect() as connection:
        transaction = connection.begin()
        try:
            written = connection.execute(statement).all()
            refresh_case_firsts(connection, [case_id for case_id, *_ in written])
            computed = connection.execute(statement).all()
        finally:
            transaction.rollback()

    assert len(written) > 100
    assert computed == written


def test_the_report_median_equals_the_one_worked_out_from_the_rows(generated):
    lo = datetime.combine(date(YEAR, 1, 1), time(), PARIS)
    hi = datetime.combine(date(YEAR + 1, 1, 1), time(), PARIS)
    with Session(generated.engine) as session:
        firsts = firsts_from_rows(session)
        opened = session.exec(
            select(Case.id).where(Case.opened_at >= lo, Case.opened_at < hi)
        ).all()
        sections = report_sections(
            session=session,
            operator_id=None,
            time_zone="Europe/Paris",
            start=date(YEAR, 1, 1),
            end=date(YEAR, 12, 31),
        )
    days = [
        (visit - contact).total_seconds() / 86400
        for contact, visit in (firsts[case_id] for case_id in opened)
        if visit is not None
    ]
    median = next(section for section in sections if section.key == "delai").rows[0][1]

    assert len(days) > 100
    assert (median.cases, median.days) == (len(days), round(statistics.median(days), 1))


def test_the_report_delay_to_level_1_equals_the_one_worked_out_from_the_rows(generated):
    lo = datetime.combine(date(YEAR, 1, 1), time(), PARIS)
    hi = datetime.combine(date(YEAR + 1, 1, 1), time(), PARIS)
    with Session(generated.engine) as session:
        contacts, levels = firsts_from_rows(session), levels_from_rows(session)
        sections = report_sections(
            session=session,
            operator_id=None,
            time_zone="Europe/Paris",
            start=date(YEAR, 1, 1),
            end=date(YEAR, 12, 31),
        )
    days = [
        (interview - contacts[case_id][0]).total_seconds() / 86400
        for case_id, (entry, _, interview) in levels.items()
        if entry is not None and lo <= entry < hi and interview is not None
    ]
    median, within = (row[1] for row in report_section(sections, "delai-niveau-1").rows)

    assert len(days) > 100
    assert (median.cases, median.days) == (len(days), round(statistics.median(days), 1))
    assert (within.part, within.whole) == (sum(d <= 10 for d in days), len(days))


def report_section(sections, key: str):
    return next(section for section in sections if section.key == key)
