import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from app.core.errors import Conflict
from app.synthetic import generate
from app.synthetic.plan import NATIONAL, make_plan
from tests.synthetic.conftest import SCALE


def _scalar(generated, sql: str):
    with generated.engine.connect() as connection:
        return connection.execute(text(sql)).scalar_one()


def test_row_counts_follow_the_scale(generated):
    counts = generated.report.counts
    assert counts["beneficiaries"] == round(NATIONAL["beneficiaries"] * SCALE)
    for table, key, tolerance in [
        ("cases", "cases", 0.1),
        ("interactions", "interactions", 0.2),
        ("appointments", "appointments", 0.2),
        ("deliverable_versions", "deliverables", 0.25),
    ]:
        expected = NATIONAL[key] * SCALE
        assert abs(counts[table] - expected) <= expected * tolerance, table
        assert _scalar(generated, f"SELECT COUNT(*) FROM {table}") == counts[table]


def test_a_small_scale_keeps_at_least_one_operator_and_site():
    plan = make_plan(0.00001)
    assert len(plan.operators) == 1
    assert plan.operators[0].sites == 1 and plan.operators[0].counsellors == 1


def test_one_operator_scale_is_one_operator():
    plan = make_plan(0.06)
    assert [o.region.code for o in plan.operators] == ["ARA"]
    assert plan.beneficiaries == 42_000


def test_every_foreign_key_holds(generated):
    with generated.engine.connect() as connection:
        if connection.dialect.name == "sqlite":
            assert connection.exec_driver_sql("PRAGMA foreign_key_check").fetchall() == []
        # PostgreSQL checked every row while loading (COPY fires the foreign key triggers).
        orphans = connection.execute(
            text(
                "SELECT COUNT(*) FROM interactions i LEFT JOIN cases c ON c.id = i.case_id"
                " WHERE c.id IS NULL"
            )
        ).scalar_one()
    assert orphans == 0


def test_no_counsellor_has_overlapping_appointments(generated):
    overlaps = _scalar(
        generated,
        "SELECT COUNT(*) FROM appointments a JOIN appointments b"
        " ON a.counsellor_id = b.counsellor_id AND a.id < b.id"
        " AND a.starts_at < b.blocks_until AND b.starts_at < a.blocks_until"
        " WHERE a.status <> 'cancelled' AND b.status <> 'cancelled'",
    )
    assert overlaps == 0


def test_appointments_have_every_status(generated):
    with generated.engine.connect() as connection:
        rows = dict(connection.execute(text("SELECT status, COUNT(*) FROM appointments GROUP BY status")).all())  # fmt: skip
    assert {"honoured", "no_show", "cancelled", "booked"} <= set(rows)
    assert 0.04 < rows["no_show"] / sum(rows.values()) < 0.12


def test_more_women_than_men(generated):
    women = _scalar(generated, "SELECT COUNT(*) FROM beneficiaries WHERE sex = 'F'")
    men = _scalar(generated, "SELECT COUNT(*) FROM beneficiaries WHERE sex = 'M'")
    assert women > 1.3 * men


def test_health_retail_and_manufacturing_are_the_largest_sectors(generated):
    with generated.engine.connect() as connection:
        rows = connection.execute(
            text(
                "SELECT naf_section FROM beneficiaries WHERE naf_section IS NOT NULL"
                " GROUP BY naf_section ORDER BY COUNT(*) DESC LIMIT 3"
            )
        ).scalars()
        assert set(rows) == {"Q", "G", "C"}


def test_level_1_is_far_more_frequent_than_level_2(generated):
    def episodes(level: int) -> int:
        return _scalar(
            generated,
            "SELECT COUNT(*) FROM episodes e JOIN service_units u ON u.id = e.unit_id"
            f" WHERE u.level = {level}",
        )

    assert episodes(1) > 2 * episodes(2) > 0


def test_some_interactions_are_outside_any_unit(generated):
    hors = _scalar(generated, "SELECT COUNT(*) FROM interactions WHERE episode_id IS NULL")
    share = hors / generated.report.counts["interactions"]
    assert 0.04 < share < 0.2


def test_most_old_cases_are_closed_and_some_recent_ones_open(generated):
    old_open = _scalar(
        generated,
        "SELECT COUNT(*) FROM cases WHERE status = 'open' AND opened_at < '2024-06-01'",
    )
    old = _scalar(generated, "SELECT COUNT(*) FROM cases WHERE opened_at < '2024-06-01'")
    assert old_open < 0.15 * old
    assert _scalar(generated, "SELECT COUNT(*) FROM cases WHERE status = 'open'") > 0


def test_versions_point_at_a_real_placeholder_pdf(generated):
    from app.core.storage import get_storage, sha256_of

    with generated.engine.connect() as connection:
        key, sha256, size = connection.execute(
            text("SELECT storage_key, sha256, size_bytes FROM deliverable_versions LIMIT 1")
        ).one()
    pdf = get_storage().read(key)
    assert pdf.startswith(b"%PDF") and len(pdf) == size and sha256_of(pdf) == sha256


def test_versions_are_numbered_for_the_documents_feed_in_issue_order(generated):
    """Each operator's versions numbered 1, 2, 3… in (issued_at, id) order, as the app would
    have numbered them issuing them one by one."""
    with generated.engine.connect() as connection:
        rows = connection.execute(
            text(
                "SELECT operator_id, feed_seq FROM deliverable_versions"
                " ORDER BY operator_id, issued_at, id"
            )
        ).all()
    assert rows
    numbers: dict[int, list[int]] = {}
    for operator_id, feed_seq in rows:
        numbers.setdefault(operator_id, []).append(feed_seq)
    assert all(seq == list(range(1, len(seq) + 1)) for seq in numbers.values())


def test_a_database_with_operators_is_refused(generated):
    with pytest.raises(Conflict):
        generate(engine=generated.engine, scale=SCALE)


def test_the_database_still_refuses_overlapping_appointments(generated):
    columns = (
        "operator_id, appointment_type_id, counsellor_id, site_id, mode, starts_at, ends_at,"
        " blocks_until, status, beneficiary_id, booked_via, request_text, ics_sequence,"
        " created_at, updated_at"
    )
    copy = (
        f"INSERT INTO appointments (reference, ics_uid, {columns})"
        f" SELECT 'RDV-COPY', 'copy@filrouge', {columns} FROM appointments"
        " WHERE id = (SELECT MIN(id) FROM appointments WHERE status = 'honoured')"
    )
    with generated.engine.connect() as connection:
        with pytest.raises(DBAPIError):
            connection.execute(text(copy))
        connection.rollback()
