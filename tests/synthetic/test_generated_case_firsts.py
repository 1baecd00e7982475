"""The generated cases carry their firsts as the app keeps them, and the activity report's
median delay read from them equals the one worked out from the rows."""

import statistics
from datetime import date, datetime, time
from zoneinfo import ZoneInfo

from sqlmodel import Session, select

from app.models.cases import Case
from app.services.reports.activity import report_sections
from tests.old_firsts import firsts_from_rows, stored_firsts

PARIS = ZoneInfo("Europe/Paris")
YEAR = 2025  # a whole year inside the generated history


def test_every_generated_case_keeps_its_firsts(generated):
    with generated.engine.connect() as connection:
        expected, stored = firsts_from_rows(connection), stored_firsts(connection)

    assert stored == expected
    assert any(visit is not None for _contact, visit in stored.values())


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
