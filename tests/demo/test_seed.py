"""The demo seed, on its own fresh SQLite database built with `alembic upgrade head`."""

import os
import statistics
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from alembic import command
from alembic.config import Config
from sqlmodel import Session, func, select

from app.core.config import get_settings
from app.core.db import build_engine
from app.core.errors import Conflict
from app.demo.documents import EXTRA_TEXTS
from app.demo.seed import DEMO_PASSWORD, demo_logins, seed_demo, seed_demo_if_empty
from app.models.base import utcnow
from app.models.beneficiaries import Beneficiary
from app.models.cases import Case, Episode, Interaction
from app.models.catalogue import DeliverableKind, ServiceUnit
from app.models.deliverables import DeliverableDraft
from app.models.markets import Lot, LotPrice, Market, MarketUnit
from app.models.operators import Operator
from app.models.staff import StaffUser
from app.models.surveys import SurveyInvitation, SurveyQuestionnaire, SurveyResponse
from app.models.triage import TriageRequest
from app.models.uo4 import Uo4Action, Uo4Attendee
from app.services.cases.lifecycle import my_idle_cases, my_open_cases
from app.services.cases.triage import queue
from app.services.deliverables.documents import save_draft, start_draft

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def engine(tmp_path_factory):
    url = f"sqlite:///{tmp_path_factory.mktemp('demo') / 'demo.db'}"
    config = Config(str(ROOT / "alembic.ini"))
    config.attributes["configure_logger"] = False
    config.set_main_option("sqlalchemy.url", url)
    command.upgrade(config, "head")
    engine = build_engine(url)
    with Session(engine) as session:
        assert seed_demo_if_empty(session=session) is True
        session.commit()
    yield engine
    engine.dispose()


@pytest.fixture
def session(engine):
    with Session(engine) as session:
        yield session
        session.rollback()


def _count(session, model, *where) -> int:
    return session.exec(select(func.count()).select_from(model).where(*where)).one()


def _staff(session, email: str) -> StaffUser:
    return session.exec(select(StaffUser).where(StaffUser.email == email)).one()


def test_both_operators_exist(session):
    codes = set(session.exec(select(Operator.code)))
    assert codes == {"ARA", "BRE"}


def test_about_two_hundred_beneficiaries(session):
    assert _count(session, Beneficiary) == 200


def test_cases_exist_in_every_state(session):
    assert _count(session, Case, Case.status == "open") >= 50
    assert _count(session, Case, Case.status == "closed") >= 20
    reopened = (
        select(Case)
        .join(Interaction, Interaction.case_id == Case.id)
        .where(Case.status == "open", Interaction.summary.startswith("Réouverture du dossier"))
    )
    assert session.exec(reopened).first() is not None


def test_triage_has_pending_and_redirected_requests(session):
    assert _count(session, TriageRequest, TriageRequest.status == "pending") >= 10
    assert _count(session, TriageRequest, TriageRequest.status == "redirected") >= 10


def test_some_interactions_are_outside_any_unit(session):
    assert _count(session, Interaction, Interaction.episode_id.is_(None)) > 0


def test_first_ara_counsellor_has_a_rich_home_page(session):
    counsellor = _staff(session, "conseillere@ara.demo")
    assert len(my_open_cases(session=session, actor=counsellor)) >= 15
    assert len(my_idle_cases(session=session, actor=counsellor)) >= 2
    mine = queue(session=session, actor=counsellor, mine_only=True)
    assert sum(1 for request, _ in mine if request.assigned_to_id == counsellor.id) >= 3


def test_history_is_entirely_in_the_past(session):
    now = utcnow()
    assert session.exec(select(func.max(Interaction.occurred_at))).one() < now
    assert session.exec(select(func.max(Episode.ended_at))).one() < now
    assert session.exec(select(func.max(Case.closed_at))).one() < now


def test_every_demo_login_exists_with_its_role(session):
    for login in demo_logins():
        user = _staff(session, login.email)
        assert user.role_label == login.role
        assert login.password == DEMO_PASSWORD


def test_seeding_again_if_empty_adds_nothing(session):
    before = _count(session, Beneficiary), _count(session, StaffUser)
    assert seed_demo_if_empty(session=session) is False
    assert (_count(session, Beneficiary), _count(session, StaffUser)) == before


def test_seeding_again_unconditionally_is_refused(session):
    with pytest.raises(Conflict):
        seed_demo(session=session)


def prefilled_share(prefilled: list[dict], issued: list[dict]) -> float:
    """The share of a document's characters that the draft had before anyone typed: each
    section counts what it kept of its pre-filled text (a common prefix) against its length."""
    before = {s["key"]: s["body"] for s in prefilled}
    kept = total = 0
    for section in issued:
        body, start = section["body"], before.get(section["key"], "")
        kept += len(os.path.commonprefix([body, start]))
        total += len(body)
    return kept / total if total else 0.0


def test_most_of_a_document_de_synthese_arrives_pre_filled(session):
    """Issue 15: drafted for each open demo case in UO2.1, then completed as the demo's
    counsellors do (typing the sections the case recorded nothing for)."""
    kind_ids = set(
        session.exec(select(DeliverableKind.id).where(DeliverableKind.code == "document_synthese"))
    )
    query = (
        select(Case, Episode)
        .join(Episode, Episode.case_id == Case.id)
        .join(ServiceUnit, ServiceUnit.id == Episode.unit_id)
        .where(ServiceUnit.code == "UO2.1", Case.status == "open", Case.referent_id.is_not(None))
    )
    shares = []
    for case, episode in session.exec(query):
        actor = session.get(StaffUser, case.referent_id)
        kind_id = next(k for k in kind_ids if session.get(DeliverableKind, k).operator_id == case.operator_id)  # fmt: skip
        data = DeliverableDraft(kind_id=kind_id, episode_id=episode.id)
        draft = start_draft(session=session, actor=actor, case_id=case.id, data=data)
        prefilled = [dict(s) for s in draft.sections]
        typed = {s["key"]: EXTRA_TEXTS.get(s["title"], "") for s in prefilled if not s["body"]}
        save_draft(session=session, actor=actor, deliverable_id=draft.id, bodies=typed)
        shares.append(prefilled_share(prefilled, draft.sections))
    assert len(shares) >= 5
    typical = statistics.median(shares)
    print(f"pre-filled share of a document de synthèse: median {typical:.0%} of {len(shares)}")
    assert typical > 0.5


# ---- the two markets ------------------------------------------------------------------------


def test_the_demo_has_two_markets_with_a_lot_of_each_operator_in_both(session):
    markets = session.exec(select(Market).order_by(Market.starts_on)).all()
    assert [(m.name, m.starts_on, m.ends_on) for m in markets] == [
        ("Marché 2020-2023", date(2020, 1, 1), date(2023, 12, 31)),
        ("Marché 2024-2027", date(2024, 1, 1), date(2027, 12, 31)),
    ]
    for market in markets:
        codes = session.exec(
            select(Operator.code)
            .join(Lot, Lot.operator_id == Operator.id)
            .where(Lot.market_id == market.id)
            .order_by(Operator.code)
        ).all()
        assert codes == ["ARA", "BRE"]
    rules = dict(
        session.exec(
            select(Market.name, MarketUnit.proof_rule)
            .join(MarketUnit, MarketUnit.market_id == Market.id)
            .distinct()
        ).all()
    )
    assert rules == {"Marché 2020-2023": "accuse", "Marché 2024-2027": "remis"}


def test_the_demo_has_history_under_each_market(session):
    """Episodes started in 2023 belong to the old market's lot, later ones to the current one;
    one started in December 2023 ended in January 2024 and stays under the old market."""
    rows = session.exec(
        select(Episode.started_at, Episode.ended_at, Market.name)
        .join(Lot, Lot.id == Episode.lot_id)
        .join(Market, Market.id == Lot.market_id)
    ).all()
    by_market = {name: [started for started, _, market in rows if market == name] for name in
                 ("Marché 2020-2023", "Marché 2024-2027")}  # fmt: skip
    assert len(by_market["Marché 2020-2023"]) >= 10
    assert all(started.year == 2023 for started in by_market["Marché 2020-2023"])
    assert all(started.year >= 2024 for started in by_market["Marché 2024-2027"])
    assert any(
        market == "Marché 2020-2023" and ended is not None and ended.year == 2024
        for _, ended, market in rows
    )
    assert _count(session, Episode, Episode.lot_id.is_(None)) == 0


def test_the_current_lots_have_a_price_history_and_a_uo4_budget(session):
    ara = session.exec(select(Operator).where(Operator.code == "ARA")).one()
    lot = session.exec(
        select(Lot)
        .join(Market, Market.id == Lot.market_id)
        .where(Lot.operator_id == ara.id, Market.name == "Marché 2024-2027")
    ).one()
    uo1 = session.exec(select(ServiceUnit.id).where(ServiceUnit.code == "UO1")).one()
    history = session.exec(
        select(LotPrice.effective_from, LotPrice.amount)
        .where(LotPrice.lot_id == lot.id, LotPrice.unit_id == uo1)
        .order_by(LotPrice.effective_from)
    ).all()
    assert history == [(date(2024, 1, 1), Decimal("110")), (date(2025, 7, 1), Decimal("115.50"))]
    assert lot.uo4_budget == Decimal("1250000")


def test_each_operator_has_uo4_actions_and_trainings_attended(session):
    for operator in session.exec(select(Operator)).all():
        actions = session.exec(select(Uo4Action).where(Uo4Action.operator_id == operator.id)).all()
        assert len({action.kind for action in actions}) >= 5
        assert sum(action.cancelled_at is not None for action in actions) == 1
        trainings = [action.id for action in actions if action.kind == "formation"]
        assert _count(session, Uo4Attendee, Uo4Attendee.action_id.in_(trainings)) >= 4


# ---- surveys (issue 17) -----------------------------------------------------------------------


def _invitations(session, *where) -> list[SurveyInvitation]:
    return list(session.exec(select(SurveyInvitation).where(*where)))


def test_most_demo_people_agreed_to_be_asked_for_their_opinion(session):
    agreed = _count(session, Beneficiary, Beneficiary.survey_consent_at.is_not(None))
    assert 0.7 * 200 <= agreed <= 0.95 * 200
    earliest = session.exec(
        select(func.count())
        .select_from(Beneficiary)
        .where(Beneficiary.survey_consent_at != Beneficiary.created_at)
    ).one()
    assert earliest == 0  # agreed at first contact, as their consent was recorded


def test_the_demo_has_surveys_in_every_state_for_each_operator(session):
    for operator in session.exec(select(Operator)).all():
        statuses = {i.status for i in _invitations(session, SurveyInvitation.operator_id == operator.id)}  # fmt: skip
        assert {"envoyee", "repondue", "non_contactable", "programmee"} <= statuses, operator.code
        answered = {
            i.kind
            for i in _invitations(
                session, SurveyInvitation.operator_id == operator.id, SurveyInvitation.status == "repondue"
            )
        }  # fmt: skip
        assert answered == {"fin_niveau_1", "fin_niveau_2", "utilite_6_mois"}, operator.code
    assert _count(session, SurveyInvitation, SurveyInvitation.reminded_at.is_not(None)) >= 10


def test_one_demo_person_per_operator_opted_out_and_is_asked_nothing_more(session):
    left = session.exec(select(Beneficiary).where(Beneficiary.survey_opt_out_at.is_not(None))).all()  # fmt: skip
    assert len(left) == 2 and {p.operator_id for p in left} == set(session.exec(select(Operator.id)))  # fmt: skip
    for person in left:
        assert person.survey_consent_at is None
        statuses = {i.status for i in _invitations(session, SurveyInvitation.beneficiary_id == person.id)}  # fmt: skip
        assert "desinscrite" in statuses
        assert statuses <= {"desinscrite", "repondue", "non_contactable"}


def test_demo_surveys_follow_the_rules_of_sending(session):
    now = utcnow()
    for invitation in _invitations(session):
        episode = session.get(Episode, invitation.episode_id)
        assert session.get(ServiceUnit, episode.unit_id).level == invitation.level in (1, 2)
        person = session.get(Beneficiary, invitation.beneficiary_id)
        if invitation.status == "programmee":
            assert invitation.kind == "utilite_6_mois" and invitation.due_at > now
        elif invitation.status == "non_contactable":
            assert person.email is None
        elif invitation.status == "desinscrite" and invitation.sent_at is None:
            # Still to come when the person opted out: closed unsent (which of the demo's
            # people opts out, and whether a survey of theirs is still due, follows the day).
            assert invitation.kind == "utilite_6_mois"
        else:
            assert invitation.sent_at is not None and invitation.sent_at < now
        if invitation.kind == "utilite_6_mois":
            months = get_settings().survey_utility_months
            assert invitation.due_at.date() - episode.ended_at.date() >= timedelta(days=28 * months)
            assert invitation.due_at.date() - episode.ended_at.date() <= timedelta(days=31 * months)
        else:
            assert invitation.due_at == episode.ended_at
    kinds = session.exec(
        select(SurveyInvitation.kind, SurveyInvitation.episode_id, func.count())
        .group_by(SurveyInvitation.kind, SurveyInvitation.episode_id)
        .having(func.count() > 1)
    ).all()
    assert kinds == []


def test_demo_answers_are_submitted_against_the_version_sent(session):
    responses = session.exec(select(SurveyResponse)).all()
    assert len(responses) >= 20
    for response in responses:
        invitation = session.get(SurveyInvitation, response.invitation_id)
        assert invitation.status == "repondue" and invitation.link_nonce is None
        assert response.questionnaire_id == invitation.questionnaire_id
        assert response.submitted_at == invitation.answered_at
        questions = session.get(SurveyQuestionnaire, response.questionnaire_id).parsed_questions()
        measure = next(q for q in questions if q.measure)
        positive = response.answers[measure.key] in measure.positive
        if invitation.kind == "utilite_6_mois":
            assert (response.useful, response.satisfied) == (positive, None)
        else:
            assert (response.satisfied, response.useful) == (positive, None)
