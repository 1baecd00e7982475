"""The national view: every operator's figures, for national observers only, with no count
from 1 to 10 left to read or to work out."""

from datetime import UTC, date, datetime, timedelta
from itertools import count
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app.core.errors import Forbidden, Invalid
from app.models.appointments import Appointment
from app.models.beneficiaries import Beneficiary
from app.models.cases import Case, Episode, Interaction
from app.models.nomenclatures import Role
from app.services.reports.activity import report_sections
from app.services.reports.national import TIME_ZONE, national_report, suppress
from app.services.reports.tables import Median, Section, Share
from app.services.surveys.results import SurveyTallies, Tally, levels_section
from tests.factories import (
    make_appointment_type,
    make_case,
    make_episode,
    make_interaction,
    make_operator,
    make_site,
    make_staff,
    report_rows,
    unit_id,
)

START, END = date(2025, 1, 1), date(2025, 12, 31)
OPENED = datetime(2025, 2, 3, 9, tzinfo=UTC)
OPERATORS = (("ARA", "Auvergne-Rhône-Alpes"), ("BRE", "Bretagne"), ("OCC", "Occitanie"))
_refs = count(1)


def national(session, actor, start=START, end=END, **filters):
    return national_report(session=session, actor=actor, start=start, end=end, **filters)


# ---- suppression of one section ---------------------------------------------------------------


def masked(*rows) -> list[tuple]:
    return suppress(Section("t", "Tableau", ["Libellé", "A", "B"], list(rows))).rows


def test_counts_from_one_to_ten_are_hidden_and_zero_stays():
    assert masked(("x", 0, 11), ("y", 0, 40)) == [("x", 0, 11), ("y", 0, 40)]
    assert masked(("x", 10, 0), ("y", 1, 0)) == [("x", None, 0), ("y", None, 0)]


def test_a_lone_hidden_cell_takes_the_smallest_other_of_its_column_along():
    found = masked(("x", 3, 0), ("y", 50, 0), ("z", 12, 0))
    assert found == [("x", None, 0), ("y", 50, 0), ("z", None, 0)]


def test_a_row_that_holds_its_total_takes_the_smallest_other_of_its_row_along():
    """Orientations and their outcomes: the row's total less its shown cells would give the
    hidden one back."""
    section = Section("t", "Tableau", ["Libellé", "Total", "A", "B"], [])
    section.rows = [("x", 25, 5, 20), ("y", 70, 30, 40), ("z", 90, 30, 60)]

    found = suppress(section).rows

    # Column A hides y's 30 (the first smallest); rows x and y then hide their B.
    assert found == [("x", 25, None, None), ("y", 70, None, None), ("z", 90, 30, 60)]


def test_a_row_without_its_total_keeps_the_cells_that_give_nothing_away():
    """The units table: 34 level-2 units started and 5 ended tell nothing of each other; the
    column of ended units, whose total is shown, hides its smallest other cell."""
    section = Section("unites", "Unités", ["Unité", "Libellé", "Commencées", "Terminées"], [])
    section.rows = [
        ("UO1", "Niveau 1", 400, 380),
        ("UO2.1", "Niveau 2 — Conseil", 34, 5),
        ("UO2.2", "Niveau 2 — Mise en œuvre", 20, 12),
    ]

    found = suppress(section).rows

    assert found == [
        ("UO1", "Niveau 1", 400, 380),
        ("UO2.1", "Niveau 2 — Conseil", 34, None),
        ("UO2.2", "Niveau 2 — Mise en œuvre", 20, None),
    ]


def test_hidden_cells_adding_up_to_a_small_count_take_another_along():
    """Two ones hidden in a column whose total is shown would read as 2: both given away."""
    found = masked(("w", 1, 0), ("x", 1, 0), ("y", 30, 0), ("z", 50, 0))
    assert [row[1] for row in found] == [None, None, None, 50]


def test_the_level_two_surveys_keep_their_invitations_and_answers():
    """The synthetic year 2023: nine negative answers to the level-2 utility survey hid every
    level-2 row (the share's row whole, then its column, then their rows); hiding the positive
    answers (and the smallest other of their column) is enough."""
    tallies = SurveyTallies()
    tallies.levels.update(
        {
            ("satisfaction", 1): Tally(13682, 4721, 4252),
            ("satisfaction", 2): Tally(3533, 1239, 1094),
            ("utility", 1): Tally(3580, 767, 519),
            ("utility", 2): Tally(253, 60, 51),
        }
    )

    found = {row[0]: row[1:] for row in suppress(levels_section(tallies)).rows}

    assert found["Satisfaction en fin de niveau — niveau 2"] == (
        3533,
        1239,
        35.1,
        1094,
        88.3,
    )
    assert found["Utilité à six mois — niveau 2"] == (253, 60, 23.7, None, None)
    # The positive answers' column hides its smallest other cell, and the share resting on it.
    assert found["Utilité à six mois — niveau 1"] == (3580, 767, 21.4, None, None)
    assert None not in found["Satisfaction en fin de niveau — niveau 1"]


def test_a_share_resting_on_a_small_count_is_hidden():
    section = Section(
        "t", "Tableau", ["Libellé", "Taux"], [("a", Share(5, 40)), ("b", Share(20, 40))]
    )
    shares = [row[1] for row in suppress(section).rows]
    assert shares == [None, 20 / 40 * 100]


def test_a_share_whose_complement_is_small_is_hidden():
    section = Section("t", "Tableau", ["Libellé", "Taux"], [("a", Share(35, 40))])
    assert suppress(section).rows == [("a", None)]


def test_a_hidden_share_leaves_at_most_one_of_its_part_complement_and_whole_in_its_row():
    """34 invited, 30 without an answer: the 4 answers (hidden with their rate) would be
    34 − 30. The complement goes, then its column's smallest other, and the rate on it."""
    columns = ["Libellé", "Invitations", "Sans réponse", "Taux de réponse"]
    section = Section("t", "Tableau", columns, [])
    section.rows = [("a", 34, 30, Share(4, 34)), ("b", 50, 20, Share(30, 50))]

    assert suppress(section).rows == [("a", 34, None, None), ("b", 50, None, None)]


def test_a_median_on_fewer_than_eleven_cases_is_hidden():
    section = Section(
        "delai", "Délai", ["Indicateur", "Valeur", "Dossiers"], [("m", Median(4.5, 7), 7)]
    )
    assert suppress(section).rows == [("m", None, None)]


# ---- the national report against the rows ------------------------------------------------------

group = st.integers(0, 24)  # small and large groups alike
operator_spec = st.fixed_dictionaries(
    {
        "women": group,
        "men": group,
        "acts": group,
        "level_2": group,
        "honoured": group,
        "no_show": group,
    }
)
# Where the people live: near the operator's site in Lyon, far from it, or unknown.
POSTCODES = ("69003", "13001", None)


def insert_operator_rows(session, operator, spec) -> dict:
    """People entering level 1 (one case each, its UO1 started when it opens), the first
    `acts` of them seen within their UO1, the first `level_2` of them going on to UO2.1;
    appointments; returns the true counts."""
    counsellor = make_staff(session, operator)
    kind = make_appointment_type(session, operator)
    make_site(session, operator, postcode="69001")
    cases, level_1 = [], []
    for i, sex in enumerate(["F"] * spec["women"] + ["M"] * spec["men"]):
        person = Beneficiary(
            operator_id=operator.id,
            first_name="Zoé",
            last_name=f"N{next(_refs)}",
            sex=sex,
            postcode=POSTCODES[i % len(POSTCODES)],
        )
        session.add(person)
        session.flush()
        opened_at = OPENED + timedelta(days=3 * i)
        case = Case(
            operator_id=operator.id,
            reference=f"N-{next(_refs):06d}",
            beneficiary_id=person.id,
            referent_id=counsellor.id,
            channel="telephone",
            motive="reconversion",
            opened_at=opened_at,
            last_activity_at=opened_at,
        )
        session.add(case)
        session.flush()
        cases.append(case)
        level_1.append(episode(session, case, "UO1", opened_at))
        if i < spec["level_2"]:
            episode(session, case, "UO2.1", opened_at + timedelta(days=30))
    for i, (case, uo1) in enumerate(zip(cases[: spec["acts"]], level_1, strict=False)):
        session.add(
            Interaction(
                operator_id=operator.id,
                case_id=case.id,
                episode_id=uo1.id,
                counsellor_id=counsellor.id,
                # From the same day to 19 days on: some within the 10-day target, some not.
                occurred_at=case.opened_at + timedelta(days=i % 20, hours=1),
                duration_minutes=30,
                channel="phone",
            )
        )
    statuses = ["honoured"] * spec["honoured"] + ["no_show"] * spec["no_show"]
    for i, status in enumerate(statuses):
        case = cases[i] if i < len(cases) else None
        starts_at = OPENED + timedelta(days=i, hours=i % 5)
        session.add(
            Appointment(
                operator_id=operator.id,
                reference=f"RDV-N{next(_refs)}",
                appointment_type_id=kind.id,
                counsellor_id=counsellor.id,
                mode="phone",
                starts_at=starts_at,
                ends_at=starts_at + timedelta(minutes=30),
                blocks_until=starts_at + timedelta(minutes=30),
                status=status,
                beneficiary_id=case.beneficiary_id if case else walk_in(session, operator),
                case_id=case.id if case else None,
                ics_uid=f"uid-n{next(_refs)}@test",
            )
        )
    session.flush()
    served = min(spec["acts"], len(cases))
    return {
        "entries": len(cases),
        "served": served,
        "women_served": min(spec["women"], served),
    }


def episode(session, case, code: str, started_at) -> Episode:
    row = Episode(
        operator_id=case.operator_id,
        case_id=case.id,
        unit_id=unit_id(session, code),
        started_at=started_at,
    )
    session.add(row)
    session.flush()
    return row


def walk_in(session, operator) -> int:
    """A person for an appointment booked without a case."""
    person = Beneficiary(operator_id=operator.id, first_name="Léa", last_name=f"S{next(_refs)}")
    session.add(person)
    session.flush()
    return person.id


def count_cells(raw: Section) -> list[list[tuple[int, int]]]:
    """The count cells of each column, and of each row holding its total (one of its counts
    the sum of the others), of the unsuppressed section: the lines whose total is known."""
    cells = [
        (i, j)
        for i, row in enumerate(raw.rows)
        for j, value in enumerate(row)
        if j and isinstance(value, int) and not isinstance(value, bool)
    ]
    columns = {j for _, j in cells}
    lines = [[c for c in cells if c[1] == j] for j in columns]
    rows = [[c for c in cells if c[0] == i] for i in range(len(raw.rows))]
    for row in rows:
        counts = [raw.rows[i][j] for i, j in row]
        if len(counts) > 1 and any(2 * n == sum(counts) for n in counts):
            lines.append(row)
    return lines


def assert_nothing_small_left(raw: Section, shown: Section) -> None:
    assert (shown.key, shown.columns, len(shown.rows)) == (raw.key, raw.columns, len(raw.rows))
    for true_row, row in zip(raw.rows, shown.rows, strict=True):
        assert row[0] == true_row[0]
        for value, truth in zip(row[1:], true_row[1:], strict=True):
            if value is None:
                continue
            assert value == truth  # what is shown is the true figure
            if isinstance(value, Share | Median):
                assert not any(0 < n < 11 for n in value.counts()), (raw.key, value)
            elif isinstance(value, int):
                assert not 0 < value < 11, (raw.key, value)
        # A share or a median resting on a hidden count (its part, whole or their difference)
        # is hidden, and so is a bare number beside one.
        concealed = {t for v, t in zip(row, true_row, strict=True) if v is None and type(t) is int}
        shown_counts = {v for v in row[1:] if type(v) is int}
        for value, truth in zip(row, true_row, strict=True):
            if isinstance(truth, Share | Median) and concealed & set(truth.counts()):
                assert value is None, (raw.key, truth)
            if isinstance(truth, float) and concealed:
                assert value is None, (raw.key, truth)
            if isinstance(truth, Share) and value is None:
                # Of its part, complement and whole, which add up, one at most is left shown.
                assert len(shown_counts & (set(truth.counts()) - {0})) <= 1, (raw.key, truth)
    # The summary's indicators are not parts of a total: a lone hidden one there gives nothing.
    lines = [] if raw.key == "synthese" else count_cells(raw)
    for line in lines:
        hidden = [(i, j) for i, j in line if shown.rows[i][j] is None]
        if len(hidden) == 1 or 0 < sum(raw.rows[i][j] for i, j in hidden) < 11:
            # Nothing to hide them behind: every other cell of the line is 0.
            others = [shown.rows[i][j] for i, j in line if (i, j) not in hidden]
            assert all(value == 0 for value in others), (raw.key, line)


@settings(
    max_examples=20,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(specs=st.lists(operator_spec, min_size=2, max_size=3))
def test_no_count_under_eleven_can_be_read_or_worked_out(session, observer, specs):
    savepoint = session.begin_nested()
    try:
        truths = {}
        for (code, name), spec in zip(OPERATORS, specs, strict=False):
            operator = make_operator(session, code, name)
            truths[name] = insert_operator_rows(session, operator, spec)

        found = national(session, observer)

        raw = report_sections(
            session=session,
            operator_id=None,
            time_zone=TIME_ZONE,
            start=START,
            end=END,
            by_operator=True,
        )
        assert [s.key for s in found.sections] == [s.key for s in raw]
        for true_section, shown in zip(raw, found.sections, strict=True):
            assert_nothing_small_left(true_section, shown)
        # And the unsuppressed cells are the counts of the generated rows.
        women = sum(truth["women_served"] for truth in truths.values())
        assert report_rows(found, "profil-sexe")["Femme"] in ((women,), (None,))
        for name, truth in truths.items():
            entries, served = report_rows(found, "operateurs")[name][:2]
            assert entries in (truth["entries"], None)
            assert served in (truth["served"], None)
    finally:
        savepoint.rollback()


# ---- who and what -----------------------------------------------------------------------------


def test_the_report_counts_every_operator(clock, session, observer):
    for code, name in OPERATORS[:2]:
        operator = make_operator(session, code, name)
        counsellor = make_staff(session, operator)
        for _ in range(6):
            case = make_case(session, counsellor)
            uo1 = make_episode(session, counsellor, case)
            make_interaction(session, counsellor, case, episode_id=uo1.id)
    # The episodes, started now, and the acts, an hour ago, are this year's.
    year = clock.astimezone(ZoneInfo(TIME_ZONE)).year

    found = national(session, observer, start=date(year, 1, 1), end=date(year, 12, 31))

    summary = report_rows(found, "synthese")
    assert summary["Entrées"] == summary["Personnes accompagnées"] == (12,)
    # Six each: hidden per operator, and the shares and delays resting on six; no redirection
    # (0 is no secret), and nobody with a known postcode to measure the coverage of (« — »).
    nothing_shown = (None, None, 0, None, None, Share(0, 0))
    assert report_rows(found, "operateurs") == {
        "Auvergne-Rhône-Alpes": nothing_shown,
        "Bretagne": nothing_shown,
    }


@pytest.mark.parametrize(
    ("start", "end"),
    [(date(2025, 1, 1), date(2025, 6, 30)), (date(2025, 2, 1), date(2026, 1, 31))],
)
def test_only_whole_calendar_years_can_be_read(session, observer, start, end):
    """Overlapping periods would give a hidden cell back by subtraction."""
    with pytest.raises(Invalid) as caught:
        national(session, observer, start=start, end=end)
    assert "année civile" in caught.value.fields["au"]


def test_a_share_with_a_small_complement_hides_its_part(session, observer):
    """60 acts of which 55 outside any unit: 5 inside would be read as 60 − 55. Hiding the 55
    is enough; its column then hides its smallest other cell, and the share resting on it."""
    section = Section("actes", "Actes", ["Canal", "Actes", "dont hors UO", "Part"], [])
    section.rows = [("Visio", 60, 55, Share(55, 60)), ("Sur site", 80, 20, Share(20, 80))]

    masked = suppress(section).rows

    assert masked == [("Visio", 60, None, None), ("Sur site", 80, None, None)]


@pytest.mark.parametrize(
    "role", [Role.COUNSELLOR, Role.MANAGER, Role.OPERATOR_ADMIN, Role.SYSADMIN]
)
def test_other_roles_are_refused(session, role):
    operator = None if role == Role.SYSADMIN else make_operator(session)
    with pytest.raises(Forbidden):
        national(session, make_staff(session, operator, role))


def test_a_period_ending_before_it_starts_is_invalid(session, observer):
    with pytest.raises(Invalid) as caught:
        national(session, observer, start=END, end=START)
    assert "au" in caught.value.fields
