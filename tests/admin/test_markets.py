"""Markets, lots and prices: the database refuses overlapping lots, prices are exact and dated,
an episode keeps the lot it started under, and only the right administrators change them."""

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from pydantic import ValidationError
from sqlalchemy.exc import IntegrityError
from sqlmodel import select

from app.core.errors import Conflict, Forbidden, Invalid, NotFound
from app.models.cases import EpisodeStart
from app.models.markets import (
    BudgetEdit,
    Lot,
    LotCreate,
    LotPrice,
    Market,
    MarketCreate,
    MarketUnit,
    MarketUnitEdit,
    PriceCreate,
    ProofRule,
)
from app.models.nomenclatures import Role
from app.services.admin.markets import (
    create_lot,
    create_market,
    edit_market_unit,
    load_lot,
    market_view,
    markets_view,
    set_price,
    set_uo4_budget,
)
from app.services.cases.episodes import start_episode
from tests.factories import (
    CURRENT_MARKET,
    deliverable_kind,
    make_case,
    make_episode,
    make_lot,
    make_market,
    make_staff,
    required_kinds,
    unit_id,
)


@pytest.fixture
def sysadmin(session):
    return make_staff(session, None, Role.SYSADMIN)


@pytest.fixture
def current(session):
    return session.exec(select(Market).where(Market.name == CURRENT_MARKET)).one()


def price(**values) -> PriceCreate:
    return PriceCreate.model_validate(values)


# ---- the database keeps an operator's lots apart -------------------------------------------


def raw_lot(session, operator, starts_on, ends_on, market):
    session.add(
        Lot(market_id=market.id, operator_id=operator.id, starts_on=starts_on, ends_on=ends_on)
    )
    session.flush()


def test_the_database_refuses_two_overlapping_lots_of_one_operator(session, ara, current):
    other = make_market(session, "Marché test", date(2027, 6, 1), date(2029, 5, 31))
    raw_lot(session, ara, current.starts_on, current.ends_on, current)
    savepoint = session.begin_nested()
    with pytest.raises(IntegrityError, match="lots_no_overlap"):
        raw_lot(session, ara, other.starts_on, other.ends_on, other)
    savepoint.rollback()


def test_an_update_that_makes_lots_overlap_is_refused_too(session, ara, current):
    other = make_market(session, "Marché test", date(2028, 1, 1), date(2031, 12, 31))
    raw_lot(session, ara, current.starts_on, current.ends_on, current)
    raw_lot(session, ara, other.starts_on, other.ends_on, other)
    later = session.exec(select(Lot).where(Lot.market_id == other.id)).one()
    savepoint = session.begin_nested()
    with pytest.raises(IntegrityError, match="lots_no_overlap"):
        later.starts_on = date(2027, 12, 31)  # the last day of the current lot
        session.add(later)
        session.flush()
    savepoint.rollback()


def test_lots_that_follow_each_other_or_belong_to_two_operators_are_allowed(
    session, ara, bre, current
):
    old = make_market(session, "Marché 2020-2023", date(2020, 1, 1), date(2023, 12, 31))
    raw_lot(session, ara, old.starts_on, old.ends_on, old)
    raw_lot(session, ara, current.starts_on, current.ends_on, current)
    raw_lot(session, bre, current.starts_on, current.ends_on, current)
    assert len(session.exec(select(Lot)).all()) == 3


# ---- money ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "typed, amount",
    [
        ("120", Decimal("120")),
        ("120,50", Decimal("120.50")),
        ("120.5", Decimal("120.5")),
        ("1 234,50", Decimal("1234.50")),
        ("1\u202f234,50 €", Decimal("1234.50")),
        ("0,01", Decimal("0.01")),
        (Decimal("99.90"), Decimal("99.90")),
    ],
)
def test_a_price_is_read_exactly_as_typed(typed, amount):
    found = price(unit_id=1, amount=typed, effective_from="2026-12-01").amount
    assert found == amount and isinstance(found, Decimal)


@pytest.mark.parametrize(
    "typed, message",
    [
        ("0", "supérieur à zéro"),
        ("0,00", "supérieur à zéro"),
        ("-5", "Montant invalide"),
        ("12,345", "deux décimales au plus"),
        ("12.3.4", "Montant invalide"),
        ("douze", "Montant invalide"),
        ("", "obligatoire"),
        (12.5, "Montant invalide"),  # a float is never exact
        ("1e3", "Montant invalide"),
        ("NaN", "Montant invalide"),
        ("99999999999", "Montant invalide"),
    ],
)
def test_a_price_that_is_not_a_positive_amount_in_cents_is_refused(typed, message):
    with pytest.raises(ValidationError) as refused:
        price(unit_id=1, amount=typed, effective_from="2026-12-01")
    assert message in str(refused.value)


def test_a_price_comes_back_from_the_database_exactly(session, admin, ara):
    lot = make_lot(session, ara)
    saved = set_price(
        session=session,
        actor=admin,
        lot_id=lot.id,
        data=price(unit_id=unit_id(session, "UO1"), amount="0,10", effective_from="2026-12-01"),
    )
    session.expire_all()
    found = session.get(LotPrice, saved.id).amount
    assert found == Decimal("0.10") and isinstance(found, Decimal)
    assert sum([found] * 3) == Decimal("0.30")


# ---- prices are dated and never rewrite what started ---------------------------------------


def test_a_price_applies_from_midnight_of_its_day_in_the_operators_time_zone(session, admin, ara):
    lot = make_lot(session, ara)
    saved = set_price(
        session=session,
        actor=admin,
        lot_id=lot.id,
        data=price(unit_id=unit_id(session, "UO1"), amount="130", effective_from="2027-01-01"),
    )
    assert saved.effective_at == datetime(2026, 12, 31, 23, tzinfo=UTC)
    assert saved.created_by_id == admin.id


def test_a_price_cannot_be_dated_back_over_units_already_started(
    session, admin, ara, counsellor, clock
):
    lot = make_lot(session, ara, UO1="120")
    case = make_case(session, counsellor)
    episode = make_episode(session, counsellor, case, "UO1")
    assert episode.lot_id == lot.id
    started_on = episode.started_at.astimezone().date()
    with pytest.raises(Invalid) as refused:
        set_price(
            session=session,
            actor=admin,
            lot_id=lot.id,
            data=price(
                unit_id=unit_id(session, "UO1"),
                amount="150",
                effective_from=(started_on - timedelta(days=30)).isoformat(),
            ),
        )
    assert "ont déjà démarré" in refused.value.fields["effective_from"]
    # Another unit, or a later day, is free.
    set_price(
        session=session,
        actor=admin,
        lot_id=lot.id,
        data=price(unit_id=unit_id(session, "UO2.1"), amount="300", effective_from="2026-01-01"),
    )


def test_the_same_day_again_corrects_a_price_not_yet_used(session, admin, ara):
    lot = make_lot(session, ara)
    data = {"unit_id": unit_id(session, "UO1"), "effective_from": "2027-03-01"}
    first = set_price(session=session, actor=admin, lot_id=lot.id, data=price(amount="12", **data))
    again = set_price(session=session, actor=admin, lot_id=lot.id, data=price(amount="13", **data))
    assert again.id == first.id and again.amount == Decimal("13")


def test_a_price_outside_the_lot_or_for_a_unit_of_no_market_is_refused(session, admin, ara):
    lot = make_lot(session, ara)
    with pytest.raises(Invalid) as refused:
        set_price(
            session=session,
            actor=admin,
            lot_id=lot.id,
            data=price(unit_id=unit_id(session, "UO1"), amount="1", effective_from="2028-01-01"),
        )
    assert "jour du marché" in refused.value.fields["effective_from"]
    terms = session.exec(
        select(MarketUnit).where(MarketUnit.unit_id == unit_id(session, "UO0"))
    ).all()
    for found in terms:
        session.delete(found)
    session.flush()
    with pytest.raises(Invalid) as refused:
        set_price(
            session=session,
            actor=admin,
            lot_id=lot.id,
            data=price(unit_id=unit_id(session, "UO0"), amount="1", effective_from="2027-01-01"),
        )
    assert "catalogue" in refused.value.fields["unit_id"]


# ---- an episode keeps the market it started under -----------------------------------------


def test_an_episode_stores_the_lot_in_force_on_its_first_day(session, ara, counsellor):
    old = make_lot(
        session, ara, make_market(session, "Marché 2020-2023", date(2020, 1, 1), date(2023, 12, 31))
    )
    new = make_lot(session, ara)
    case = make_case(session, counsellor)

    def started(at):
        data = EpisodeStart(unit_id=unit_id(session, "UO1"), started_at=at)
        return start_episode(session=session, actor=counsellor, case_id=case.id, data=data)[0]

    # 23:30 on 31 December 2023 in Paris, then 0:30 on 1 January 2024.
    assert started(datetime(2023, 12, 31, 22, 30, tzinfo=UTC)).lot_id == old.id
    assert started(datetime(2023, 12, 31, 23, 30, tzinfo=UTC)).lot_id == new.id


def test_an_episode_of_no_lot_stores_none_and_keeps_it(session, ara, counsellor, case):
    episode = make_episode(session, counsellor, case, "UO1")
    assert episode.lot_id is None
    make_lot(session, ara)
    session.refresh(episode)
    assert episode.lot_id is None


# ---- who may do what -----------------------------------------------------------------------


def test_a_sysadmin_creates_a_market_with_the_units_of_the_latest_one(session, sysadmin, current):
    terms = session.exec(select(MarketUnit).where(MarketUnit.market_id == current.id)).all()
    terms[1].proof_rule = ProofRule.ACKNOWLEDGED.value
    session.add(terms[1])
    data = MarketCreate(name="Marché 2028-2031", starts_on="2028-01-01", ends_on="2031-12-31")
    market = create_market(session=session, actor=sysadmin, data=data)
    copied = session.exec(select(MarketUnit).where(MarketUnit.market_id == market.id)).all()
    assert sorted((t.unit_id, t.proof_rule, t.billable) for t in copied) == sorted(
        (t.unit_id, t.proof_rule, t.billable) for t in terms
    )


def test_a_market_ending_before_it_starts_or_named_twice_is_refused(session, sysadmin):
    backwards = MarketCreate(name="Marché X", starts_on="2028-01-01", ends_on="2027-12-31")
    with pytest.raises(Invalid) as refused:
        create_market(session=session, actor=sysadmin, data=backwards)
    assert "ends_on" in refused.value.fields
    twice = MarketCreate(name=CURRENT_MARKET, starts_on="2028-01-01", ends_on="2031-12-31")
    with pytest.raises(Invalid) as refused:
        create_market(session=session, actor=sysadmin, data=twice)
    assert "name" in refused.value.fields


def test_create_lot_words_the_overlap_the_database_would_refuse(session, sysadmin, ara, current):
    create_lot(
        session=session, actor=sysadmin, market_id=current.id, data=LotCreate(operator_id=ara.id)
    )
    overlapping = make_market(session, "Marché test", date(2027, 1, 1), date(2030, 12, 31))
    with pytest.raises(Invalid) as refused:
        create_lot(
            session=session,
            actor=sysadmin,
            market_id=overlapping.id,
            data=LotCreate(operator_id=ara.id),
        )
    assert "chevauche" in refused.value.fields["operator_id"]


def test_only_a_sysadmin_sets_markets_lots_and_unit_terms(session, admin, ara, current):
    with pytest.raises(Forbidden):
        create_market(
            session=session,
            actor=admin,
            data=MarketCreate(name="M", starts_on="2028-01-01", ends_on="2028-12-31"),
        )
    with pytest.raises(Forbidden):
        create_lot(
            session=session, actor=admin, market_id=current.id, data=LotCreate(operator_id=ara.id)
        )
    with pytest.raises(Forbidden):
        edit_market_unit(
            session=session,
            actor=admin,
            market_id=current.id,
            unit_id=unit_id(session, "UO1"),
            data=MarketUnitEdit(billable=False, proof_rule=ProofRule.ACKNOWLEDGED),
        )


def test_a_sysadmin_changes_a_units_terms(session, sysadmin, current):
    terms = edit_market_unit(
        session=session,
        actor=sysadmin,
        market_id=current.id,
        unit_id=unit_id(session, "UO1"),
        data=MarketUnitEdit(billable=False, proof_rule=ProofRule.ACKNOWLEDGED),
    )
    assert (terms.billable, terms.proof_rule) == (False, "accuse")


def test_another_operators_lot_is_404_and_a_counsellor_is_refused(session, admin, bre, counsellor):
    theirs = make_lot(session, bre)
    with pytest.raises(NotFound):
        load_lot(session=session, actor=admin, lot_id=theirs.id)
    with pytest.raises(NotFound):
        set_uo4_budget(
            session=session, actor=admin, lot_id=theirs.id, data=BudgetEdit(uo4_budget="10")
        )
    with pytest.raises(Forbidden):
        markets_view(session=session, actor=counsellor)


def test_an_operator_admin_sees_their_lot_only(session, admin, ara, bre, current):
    mine, _theirs = make_lot(session, ara, UO1="120"), make_lot(session, bre, UO1="99")
    page = market_view(session=session, actor=admin, market_id=current.id)
    assert page.lot.id == mine.id and page.lots == [(mine, ara)]
    uo1 = next(row for row in page.units if row.unit.code == "UO1")
    assert uo1.current.amount == Decimal("120")
    kinds = [
        deliverable_kind(session, ara.id, code) for code in required_kinds(session, ara, "UO1")
    ]
    assert uo1.proofs == [kind.label for kind in kinds] != []  # the operator's own kinds
    listed = markets_view(session=session, actor=admin)
    assert [lots for row in listed.rows for lots in row.lots] == [(mine, ara)]


def test_the_uo4_budget_is_an_exact_amount_or_none(session, admin, ara):
    lot = make_lot(session, ara)
    set_uo4_budget(
        session=session, actor=admin, lot_id=lot.id, data=BudgetEdit(uo4_budget="12 500,75")
    )
    session.expire_all()
    assert session.get(Lot, lot.id).uo4_budget == Decimal("12500.75")
    set_uo4_budget(session=session, actor=admin, lot_id=lot.id, data=BudgetEdit(uo4_budget=" "))
    assert session.get(Lot, lot.id).uo4_budget is None


def test_the_database_refuses_a_price_of_zero(session, ara):
    lot = make_lot(session, ara)
    savepoint = session.begin_nested()
    session.add(
        LotPrice(
            lot_id=lot.id,
            unit_id=unit_id(session, "UO1"),
            amount=Decimal("0"),
            effective_from=lot.starts_on,
            effective_at=datetime(2023, 12, 31, 23, tzinfo=UTC),
        )
    )
    with pytest.raises(IntegrityError, match="lot_price_positive"):
        session.flush()
    savepoint.rollback()


def test_conflict_is_what_a_form_reads_when_the_database_refuses(
    session, sysadmin, ara, current, monkeypatch
):
    """The check that words an overlap can be raced: the database decides, as a Conflict."""
    make_market(session, "Marché test", date(2027, 1, 1), date(2030, 12, 31))
    raw_lot(
        session,
        ara,
        date(2027, 1, 1),
        date(2030, 12, 31),
        session.exec(select(Market).where(Market.name == "Marché test")).one(),
    )
    monkeypatch.setattr("app.services.admin.markets._overlapping_lot", lambda *args: None)
    with pytest.raises(Conflict):
        create_lot(
            session=session,
            actor=sysadmin,
            market_id=current.id,
            data=LotCreate(operator_id=ara.id),
        )
