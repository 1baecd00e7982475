"""The unit ledger: counts per unit that reconcile with the episodes and the proof rule."""

from datetime import UTC, date, datetime, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app.core.errors import Forbidden, Invalid, NotFound
from app.models.cases import Episode
from app.models.catalogue import ServiceUnit
from app.models.nomenclatures import Role
from app.services.control.proofs import proof_status_for_episodes
from app.services.reports.ledger import ledger_cases, previous_month, unit_ledger
from tests.factories import (
    delivered,
    make_case,
    make_operator,
    make_site,
    make_staff,
    unit_id,
)

CODES = ["UO0", "UO1", "UO2.1", "UO2.2"]
NOVEMBER = (date(2026, 11, 1), date(2026, 11, 30))


def line(ledger, code):
    return next(found for found in ledger.lines if found.code == code)


def november(session, actor, **filters):
    return unit_ledger(session=session, actor=actor, start=NOVEMBER[0], end=NOVEMBER[1], **filters)


# ---- reconciliation ------------------------------------------------------------------------

episode_specs = st.lists(
    st.tuples(
        st.sampled_from(CODES),
        st.sampled_from(["none", "draft", "issued", "acknowledged"]),
        st.integers(min_value=-3, max_value=33),  # day of November; outside 1–30 is out
    ),
    max_size=8,
)


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(specs=episode_specs)
def test_ledger_counts_reconcile_with_the_episodes_and_the_proof_rule(
    session, counsellor, manager, specs
):
    savepoint = session.begin_nested()
    try:
        episodes = [
            delivered(
                session,
                counsellor,
                code,
                datetime(2026, 11, 1, 12, tzinfo=UTC) + timedelta(days=day - 1),
                proofs=proofs,
            )
            for code, proofs, day in specs
        ]
        inside = [e for e, (_, _, day) in zip(episodes, specs, strict=True) if 1 <= day <= 30]
        status = proof_status_for_episodes(
            session=session, operator_id=counsellor.operator_id, episodes=inside
        )
        ledger = november(session, manager)
        for code in CODES:
            unit = unit_id(session, code)
            of_unit = [e for e in inside if e.unit_id == unit]
            found = line(ledger, code)
            assert found.delivered == found.complete + found.incomplete == len(of_unit)
            assert found.complete == sum(status[e.id].complete for e in of_unit)
            assert found.billable_count == found.complete  # all default units are billable
            _unit, rows, total = ledger_cases(
                session=session, actor=manager, unit_id=unit, start=NOVEMBER[0], end=NOVEMBER[1]
            )
            assert total == len(rows) == found.delivered
            assert sum(row.complete for row in rows) == found.complete
            assert all(row.complete == row.proofs.complete for row in rows)
        assert ledger.totals.delivered == len(inside)
    finally:
        savepoint.rollback()


def test_an_acknowledged_deliverable_completes_and_an_issued_one_does_not(
    session, counsellor, manager
):
    when = datetime(2026, 11, 10, 9, tzinfo=UTC)
    delivered(session, counsellor, "UO1", when, proofs="acknowledged")
    delivered(session, counsellor, "UO1", when, proofs="issued")
    delivered(session, counsellor, "UO1", when, proofs="draft")
    found = line(november(session, manager), "UO1")
    assert (found.delivered, found.complete, found.incomplete) == (3, 1, 2)


def test_a_unit_requiring_no_proof_is_complete(session, counsellor, manager):
    delivered(session, counsellor, "UO0", datetime(2026, 11, 10, 9, tzinfo=UTC))
    assert line(november(session, manager), "UO0").complete == 1


def test_a_non_billable_unit_counts_no_billable(session, counsellor, manager):
    unit = session.get(ServiceUnit, unit_id(session, "UO1"))
    unit.billable = False
    session.add(unit)
    delivered(
        session, counsellor, "UO1", datetime(2026, 11, 10, 9, tzinfo=UTC), proofs="acknowledged"
    )
    ledger = november(session, manager)
    assert (line(ledger, "UO1").complete, line(ledger, "UO1").billable_count) == (1, 0)
    assert ledger.totals.billable_count == 0


def test_open_episodes_are_not_delivered(session, counsellor, manager):
    case = make_case(session, counsellor)
    session.add(
        Episode(
            operator_id=case.operator_id,
            case_id=case.id,
            unit_id=unit_id(session, "UO1"),
            started_at=datetime(2026, 11, 10, tzinfo=UTC),
        )
    )
    session.flush()
    assert november(session, manager).totals.delivered == 0


# ---- the period, in the operator's time zone -------------------------------------------------


def test_period_starts_at_local_midnight(session, counsellor, manager):
    # 31 October 23:30 UTC is 1 November 00:30 in Paris: inside November.
    delivered(session, counsellor, "UO1", datetime(2026, 10, 31, 23, 30, tzinfo=UTC))
    # 31 October 22:30 UTC is 31 October 23:30 in Paris: outside.
    delivered(session, counsellor, "UO1", datetime(2026, 10, 31, 22, 30, tzinfo=UTC))
    assert line(november(session, manager), "UO1").delivered == 1


def test_period_ends_at_local_midnight_after_the_last_day(session, counsellor, manager):
    # 30 November 22:59 UTC is 23:59 in Paris: inside; 23:00 UTC is 1 December: outside.
    delivered(session, counsellor, "UO1", datetime(2026, 11, 30, 22, 59, tzinfo=UTC))
    delivered(session, counsellor, "UO1", datetime(2026, 11, 30, 23, 0, tzinfo=UTC))
    assert line(november(session, manager), "UO1").delivered == 1


def test_period_follows_an_overseas_operator(session, ara, counsellor, manager):
    ara.time_zone = "Indian/Reunion"  # UTC+4
    session.add(ara)
    delivered(session, counsellor, "UO1", datetime(2026, 10, 31, 20, 30, tzinfo=UTC))
    assert line(november(session, manager), "UO1").delivered == 1


def test_an_end_before_the_start_is_refused(session, manager):
    with pytest.raises(Invalid):
        unit_ledger(session=session, actor=manager, start=date(2026, 11, 2), end=date(2026, 11, 1))


def test_previous_month_is_the_default_period():
    assert previous_month(date(2027, 1, 15)) == (date(2026, 12, 1), date(2026, 12, 31))
    assert previous_month(date(2026, 3, 1)) == (date(2026, 2, 1), date(2026, 2, 28))


# ---- scope ----------------------------------------------------------------------------------


def test_site_filter_keeps_the_site_cases(session, ara, counsellor, manager):
    lyon = make_site(session, ara)
    when = datetime(2026, 11, 10, 9, tzinfo=UTC)
    delivered(
        session, counsellor, "UO1", when, case=make_case(session, counsellor, site_id=lyon.id)
    )
    delivered(session, counsellor, "UO1", when)
    assert line(november(session, manager, site_id=lyon.id), "UO1").delivered == 1


def test_another_operator_episodes_are_not_counted(session, counsellor, manager):
    idf = make_operator(session, "IDF", "Île-de-France")
    delivered(session, make_staff(session, idf), "UO1", datetime(2026, 11, 10, 9, tzinfo=UTC))
    assert november(session, manager).totals.delivered == 0
    assert november(session, make_staff(session, idf, Role.MANAGER)).totals.delivered == 1


def test_counsellor_is_refused_the_ledger(session, counsellor):
    with pytest.raises(Forbidden):
        november(session, counsellor)
    with pytest.raises(Forbidden):
        ledger_cases(
            session=session,
            actor=counsellor,
            unit_id=unit_id(session, "UO1"),
            start=NOVEMBER[0],
            end=NOVEMBER[1],
            complete=None,
        )


def test_operator_admin_reads_the_ledger(session, ara, counsellor):
    delivered(session, counsellor, "UO1", datetime(2026, 11, 10, 9, tzinfo=UTC))
    admin = make_staff(session, ara, Role.OPERATOR_ADMIN)
    assert november(session, admin).totals.delivered == 1


def test_national_observer_gets_404(session):
    observer = make_staff(session, None, Role.NATIONAL_OBSERVER)
    with pytest.raises(NotFound):
        november(session, observer)


def test_drill_down_filters_by_proof_state(session, counsellor, manager):
    when = datetime(2026, 11, 10, 9, tzinfo=UTC)
    done = delivered(session, counsellor, "UO1", when, proofs="acknowledged")
    pending = delivered(session, counsellor, "UO1", when)
    for complete, expected in ((True, done), (False, pending)):
        _unit, rows, total = ledger_cases(
            session=session,
            actor=manager,
            unit_id=unit_id(session, "UO1"),
            start=NOVEMBER[0],
            end=NOVEMBER[1],
            complete=complete,
        )
        assert total == 1 and [row.episode.id for row in rows] == [expected.id]


def test_drill_down_is_limited_but_counts_all(session, counsellor, manager):
    when = datetime(2026, 11, 10, 9, tzinfo=UTC)
    for _ in range(3):
        delivered(session, counsellor, "UO1", when)
    _unit, rows, total = ledger_cases(
        session=session,
        actor=manager,
        unit_id=unit_id(session, "UO1"),
        start=NOVEMBER[0],
        end=NOVEMBER[1],
        complete=None,
        limit=2,
    )
    assert (len(rows), total) == (2, 3)
