"""The generated surveys (issue 17): one per ended level and kind, the utility survey six months
after the case's last level, answers valid against their version, the market's figures."""

import calendar
from collections import defaultdict
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import text
from sqlmodel import Session, select

from app.core.config import get_settings
from app.core.db import build_engine
from app.models.surveys import Question, QuestionType, SurveyQuestionnaire, SurveyResponse
from app.synthetic import generate
from tests.conftest import scratch_database

NOW = datetime(2026, 11, 20, 10, tzinfo=UTC)
MID_SCALE = 0.006  # 4,200 people, about 4,800 cases: the shares settle within a few points


def _rows(engine, sql: str) -> list:
    with engine.connect() as connection:
        return connection.execute(text(sql)).all()


def _plus_months(moment: datetime, months: int) -> datetime:
    year, month = divmod(moment.month - 1 + months, 12)
    year, month = moment.year + year, month + 1
    return moment.replace(year=year, month=month, day=min(moment.day, calendar.monthrange(year, month)[1]))  # fmt: skip


@pytest.fixture(scope="module")
def mid(database_url, tmp_path_factory):
    """A mid-size generation at a fixed "now", for the figures."""
    with scratch_database(database_url, "surveys", tmp_path_factory.mktemp("surveys")) as url:
        engine = build_engine(url)
        generate(engine=engine, scale=MID_SCALE, seed=17, now=NOW)
        yield engine
        engine.dispose()


# ---- invariants, on the package's small generation ------------------------------------------


def test_no_triage_episode_has_a_survey(generated):
    levels = _rows(
        generated.engine,
        "SELECT DISTINCT u.level FROM survey_invitations i JOIN episodes e ON e.id = i.episode_id"
        " JOIN service_units u ON u.id = e.unit_id",
    )
    assert sorted(level for (level,) in levels) == [1, 2]


def test_an_invitation_has_its_episode_level_and_case(generated):
    wrong = _rows(
        generated.engine,
        "SELECT i.id FROM survey_invitations i JOIN episodes e ON e.id = i.episode_id"
        " JOIN service_units u ON u.id = e.unit_id JOIN cases c ON c.id = i.case_id"
        " WHERE u.level <> i.level OR e.case_id <> i.case_id OR c.beneficiary_id <> i.beneficiary_id"
        " OR e.ended_at IS NULL OR i.operator_id <> c.operator_id",
    )
    assert wrong == []


def test_an_invitation_keeps_its_answers_figure_for_the_results(generated):
    wrong = _rows(
        generated.engine,
        "SELECT i.id FROM survey_invitations i LEFT JOIN survey_responses r"
        " ON r.invitation_id = i.id AND r.submitted_at IS NOT NULL"
        " WHERE (r.id IS NULL AND i.positive IS NOT NULL)"
        " OR (r.id IS NOT NULL AND i.positive IS NULL)"
        " OR (i.kind = 'utilite_6_mois' AND i.positive <> r.useful)"
        " OR (i.kind <> 'utilite_6_mois' AND i.positive <> r.satisfied)",
    )
    assert wrong == []
    counted = _rows(generated.engine, "SELECT count(*) FROM survey_invitations WHERE positive")
    assert counted[0][0] > 0


def test_at_most_one_survey_of_a_kind_per_episode(generated):
    twice = _rows(
        generated.engine,
        "SELECT kind, episode_id FROM survey_invitations GROUP BY kind, episode_id"
        " HAVING COUNT(*) > 1",
    )
    assert twice == []


def test_every_ended_level_of_a_person_who_agreed_is_surveyed_and_no_other(generated):
    rows = _rows(
        generated.engine,
        "SELECT b.survey_consent_at IS NOT NULL, b.survey_opt_out_at IS NOT NULL, COUNT(i.id)"
        " FROM episodes e JOIN service_units u ON u.id = e.unit_id AND u.level IN (1, 2)"
        " JOIN cases c ON c.id = e.case_id JOIN beneficiaries b ON b.id = c.beneficiary_id"
        " LEFT JOIN survey_invitations i ON i.episode_id = e.id AND i.kind <> 'utilite_6_mois'"
        " WHERE e.ended_at IS NOT NULL GROUP BY e.id, b.survey_consent_at, b.survey_opt_out_at",
    )
    asked = [n for agreed, _opted_out, n in rows if agreed]
    never = [n for agreed, opted_out, n in rows if not agreed and not opted_out]
    assert asked and set(asked) == {1}
    assert never and set(never) == {0}


def test_each_status_is_consistent_with_its_moments(generated):
    reminder = timedelta(days=get_settings().survey_reminder_days)
    link = timedelta(days=get_settings().survey_link_days)
    rows = _rows(
        generated.engine,
        "SELECT i.status, i.due_at, i.sent_at, i.reminded_at, i.answered_at, i.channel,"
        " i.questionnaire_id, i.link_nonce, b.email, r.submitted_at"
        " FROM survey_invitations i JOIN beneficiaries b ON b.id = i.beneficiary_id"
        " LEFT JOIN survey_responses r ON r.invitation_id = i.id",
    )
    statuses = defaultdict(int)
    for status, due, sent, reminded, answered, channel, questionnaire, nonce, email, submitted in rows:  # fmt: skip
        statuses[status] += 1
        if status == "programmee":
            assert sent is None and questionnaire is None and _aware(due) > generated.now
        elif status == "non_contactable":
            assert email is None and sent is None
        elif status in ("envoyee", "repondue"):
            assert channel == "email" and questionnaire is not None and _aware(sent) >= _aware(due)
            assert (status == "repondue") == (submitted is not None) == (nonce is None)
        if status == "repondue":
            assert _aware(answered) == _aware(submitted)
            assert _aware(sent) < _aware(answered) <= _aware(sent) + link
        if reminded is not None:
            assert _aware(reminded) >= _aware(sent) + reminder
            assert answered is None or _aware(answered) > _aware(reminded)
    assert {"programmee", "envoyee", "repondue", "non_contactable"} <= set(statuses)


def _aware(moment: datetime | str) -> datetime:
    """A moment read by plain SQL: text on SQLite, aware on PostgreSQL."""
    if isinstance(moment, str):
        moment = datetime.fromisoformat(moment)
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def test_the_utility_survey_follows_the_last_level_by_the_settings_months(generated):
    months = get_settings().survey_utility_months
    rows = _rows(
        generated.engine,
        "SELECT i.case_id, i.due_at, i.status, e.ended_at, e.id FROM survey_invitations i"
        " JOIN episodes e ON e.id = i.episode_id JOIN beneficiaries b ON b.id = i.beneficiary_id"
        " WHERE i.kind = 'utilite_6_mois' AND b.survey_opt_out_at IS NULL",
    )
    assert rows
    put_off = 0
    for _case, due, status, ended, _episode in rows:
        expected = _plus_months(_aware(ended), months)
        if _aware(due) != expected:
            # Fell due while the person is back in a level: the worker looks again tomorrow.
            assert status == "programmee" and expected <= generated.now
            assert generated.now < _aware(due) <= generated.now + timedelta(days=1)
            put_off += 1
    assert put_off < 0.1 * len(rows)
    # The last utility survey of a case is that of its last level-2 episode, else level-1 one.
    anchors = {}
    for case_id, ended, level, episode_id in _rows(
        generated.engine,
        "SELECT e.case_id, e.ended_at, u.level, e.id FROM episodes e"
        " JOIN service_units u ON u.id = e.unit_id WHERE u.level IN (1, 2)"
        " AND e.ended_at IS NOT NULL",
    ):
        anchors[case_id] = max(anchors.get(case_id, (0,)), (level, _aware(ended), episode_id))
    last = {}
    for case_id, due, _status, _ended, episode_id in rows:
        last[case_id] = max(last.get(case_id, (_aware(due), 0)), (_aware(due), episode_id))
    assert all(anchors[case_id][2] == episode for case_id, (_due, episode) in last.items())


def test_answers_are_valid_against_the_version_they_answered(generated):
    with Session(generated.engine) as session:
        versions = {q.id: q for q in session.exec(select(SurveyQuestionnaire))}
        responses = session.exec(select(SurveyResponse)).all()
    assert {q.version for q in versions.values()} == {1}
    assert responses
    for response in responses:
        questions = {q.key: q for q in versions[response.questionnaire_id].parsed_questions()}
        assert set(response.answers) <= set(questions)
        for key, value in response.answers.items():
            assert _valid(questions[key], value), (key, value)
        submitted = response.submitted_at is not None
        if submitted:
            assert all(q.key in response.answers for q in questions.values() if q.required)
        assert response.comment == response.answers.get("commentaire", "")
        measured = {q.measure: q for q in questions.values() if q.measure}
        expected = {
            measure: (response.answers[q.key] in q.positive) if submitted else None
            for measure, q in measured.items()
        }
        assert response.satisfied == expected.get("satisfaction")
        assert response.useful == expected.get("utilite")


def _valid(question: Question, value) -> bool:
    options = {o.value for o in question.options}
    if question.type == QuestionType.TEXT:
        return isinstance(value, str) and 0 < len(value) <= 200
    if question.type == QuestionType.MULTI:
        return bool(value) and set(value) <= options and ("rien" not in value or value == ["rien"])  # fmt: skip
    return value in options


def test_the_same_seed_gives_the_same_surveys(database_url, tmp_path_factory):
    tables = []
    for attempt in range(2):
        folder = tmp_path_factory.mktemp(f"again{attempt}")
        with scratch_database(database_url, f"again{attempt}", folder) as url:
            engine = build_engine(url)
            generate(engine=engine, scale=0.0002, seed=3, now=NOW)
            tables.append(
                [
                    _rows(engine, f"SELECT * FROM {table} ORDER BY id")
                    for table in ("survey_invitations", "survey_responses")
                ]
                + [
                    _rows(
                        engine,
                        "SELECT survey_consent_at, survey_opt_out_at FROM beneficiaries ORDER BY id",
                    )
                ]  # fmt: skip
            )
            engine.dispose()
    assert tables[0] == tables[1]
    assert tables[0][0] and tables[0][1]


# ---- the market's figures, on a mid-size generation -----------------------------------------


def _figures(engine) -> dict:
    """Per kind and level: (invited, answered, positive) of the surveys sent long enough ago
    for their link to have expired (their answers are all in)."""
    settled = NOW - timedelta(days=get_settings().survey_link_days)
    rows = _rows(
        engine,
        "SELECT i.kind, i.level, i.sent_at, r.submitted_at, r.satisfied, r.useful"
        " FROM survey_invitations i LEFT JOIN survey_responses r ON r.invitation_id = i.id"
        " WHERE i.sent_at IS NOT NULL",
    )
    figures = defaultdict(lambda: [0, 0, 0])
    for kind, level, sent, submitted, satisfied, useful in rows:
        if _aware(sent) >= settled:
            continue
        tally = figures[kind, level]
        tally[0] += 1
        if submitted is not None:
            tally[1] += 1
            tally[2] += bool(satisfied or useful)
    return figures


def test_response_rates_are_those_of_real_surveys(mid):
    figures = _figures(mid)
    for level in (1, 2):
        invited, answered, _ = figures[f"fin_niveau_{level}", level]
        assert 0.30 <= answered / invited <= 0.42, level
        invited, answered, _ = figures["utilite_6_mois", level]
        assert 0.17 <= answered / invited <= 0.28, level


@pytest.mark.parametrize(
    ("kind", "level", "target", "tolerance"),
    [
        ("fin_niveau_1", 1, 0.91, 0.03),
        ("fin_niveau_2", 2, 0.89, 0.05),
        ("utilite_6_mois", 1, 0.67, 0.07),
        ("utilite_6_mois", 2, 0.87, 0.08),
    ],
)
def test_satisfied_and_useful_shares_are_the_markets(mid, kind, level, target, tolerance):
    _invited, answered, positive = _figures(mid)[kind, level]
    assert answered >= 50
    assert abs(positive / answered - target) <= tolerance


def test_most_people_agree_to_be_asked_and_a_few_give_only_a_phone(mid):
    ((people, agreed, opted_out, with_email),) = _rows(
        mid,
        "SELECT COUNT(*), COUNT(survey_consent_at), COUNT(survey_opt_out_at), COUNT(email)"
        " FROM beneficiaries",
    )
    assert 0.81 <= agreed / people <= 0.89
    assert 0 < opted_out < 0.03 * people
    assert 0.01 <= 1 - with_email / people <= 0.05
    statuses = dict(_rows(mid, "SELECT status, COUNT(*) FROM survey_invitations GROUP BY status"))
    assert statuses["non_contactable"] < 0.06 * sum(statuses.values())
    assert statuses["desinscrite"] > 0


def test_an_opt_out_closes_every_survey_still_to_come_and_stops_new_ones(mid):
    rows = _rows(
        mid,
        "SELECT i.status, i.created_at, b.survey_opt_out_at, i.sent_at, i.reminded_at"
        " FROM survey_invitations i JOIN beneficiaries b ON b.id = i.beneficiary_id"
        " WHERE b.survey_opt_out_at IS NOT NULL",
    )
    assert rows
    assert {status for status, *_ in rows} <= {"desinscrite", "repondue", "non_contactable"}
    assert "desinscrite" in {status for status, *_ in rows}
    for _status, created, left, sent, reminded in rows:
        assert _aware(created) < _aware(left)
        assert sent is None or _aware(sent) < _aware(left)
        assert reminded is None or _aware(reminded) < _aware(left)


def test_some_answers_carry_one_of_a_few_short_comments(mid):
    rows = _rows(mid, "SELECT comment FROM survey_responses WHERE submitted_at IS NOT NULL")
    comments = [comment for (comment,) in rows if comment]
    assert 0.15 <= len(comments) / len(rows) <= 0.45
    assert 10 <= len(set(comments)) <= 40
    assert all(len(comment) <= 80 and "@" not in comment for comment in comments)


def test_half_finished_answers_are_saved_but_never_counted(mid):
    rows = _rows(
        mid,
        "SELECT i.status, r.satisfied, r.useful FROM survey_responses r"
        " JOIN survey_invitations i ON i.id = r.invitation_id WHERE r.submitted_at IS NULL",
    )
    assert rows
    assert {status for status, _, _ in rows} == {"envoyee"}
    assert all(satisfied is None and useful is None for _, satisfied, useful in rows)
