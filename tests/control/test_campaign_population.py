"""A control campaign draws from exactly the units the ledger counts as billable for the same
period: delivered, paid by the market their episode started under (by the catalogue outside
any lot), with complete proofs."""

from datetime import UTC, date, datetime

from sqlmodel import func, select

from app.models.cases import Episode
from app.models.catalogue import ServiceUnit
from app.models.control import CampaignCreate, ControlSampleUnit
from app.models.markets import MarketUnit
from app.services.control.campaigns import create_campaign
from app.services.reports.ledger import billable_units, delivered_in, unit_ledger
from tests.factories import IN_NOVEMBER, delivered, make_lot, unit_id

NOVEMBER = (date(2026, 11, 1), date(2026, 11, 30))
BEFORE_ANY_LOT = datetime(2023, 11, 6, 9, tzinfo=UTC)  # the operator's lot starts in 2024


def unit_outside_any_lot(session, counsellor, code, proofs):
    """Delivered in November, started before the operator's first lot: no market pays it."""
    episode = delivered(session, counsellor, code, IN_NOVEMBER, proofs=proofs)
    episode.started_at, episode.lot_id = BEFORE_ANY_LOT, None
    session.add(episode)
    session.flush()
    return episode


def test_the_campaign_draws_from_the_ledger_s_billable_units(session, ara, counsellor, manager):
    lot = make_lot(session, ara, UO0="30", UO1="120")
    terms = session.exec(
        select(MarketUnit).where(
            MarketUnit.market_id == lot.market_id, MarketUnit.unit_id == unit_id(session, "UO0")
        )
    ).one()
    terms.billable = False  # the market does not pay UO0, which the catalogue bills
    session.add(terms)
    session.get(ServiceUnit, unit_id(session, "UO2.2")).billable = False
    session.flush()
    under_the_lot = [
        delivered(session, counsellor, "UO1", IN_NOVEMBER, proofs="shared"),  # billable
        delivered(session, counsellor, "UO1", IN_NOVEMBER, proofs="shared"),  # billable
        delivered(session, counsellor, "UO1", IN_NOVEMBER, proofs="draft"),  # proof missing
        delivered(session, counsellor, "UO0", IN_NOVEMBER),  # not paid by the market
    ]
    assert all(episode.lot_id == lot.id for episode in under_the_lot)
    outside = [
        unit_outside_any_lot(session, counsellor, "UO0", "none"),  # billable: the catalogue
        unit_outside_any_lot(session, counsellor, "UO1", "none"),  # proof missing
        unit_outside_any_lot(session, counsellor, "UO2.2", "shared"),  # not in the catalogue
    ]
    ledger = unit_ledger(session=session, actor=manager, start=NOVEMBER[0], end=NOVEMBER[1])
    request = CampaignCreate.model_validate(
        {"from": NOVEMBER[0], "to": NOVEMBER[1], "sample_rate": 100}
    )
    campaign = create_campaign(session=session, actor=manager, request=request)
    drawn = session.exec(
        select(ControlSampleUnit.episode_id).where(ControlSampleUnit.campaign_id == campaign.id)
    )

    assert ledger.totals.billable_count == campaign.population == 3
    expected = {under_the_lot[0].id, under_the_lot[1].id, outside[0].id}
    assert set(drawn) == expected
    assert set(billable_units(session, ara, *NOVEMBER)) == expected
    # What the campaign drew from before: every unit delivered that the catalogue bills.
    catalogue_billable = session.exec(
        select(func.count(Episode.id))
        .join(ServiceUnit, ServiceUnit.id == Episode.unit_id)
        .where(*delivered_in(ara, *NOVEMBER, None), ServiceUnit.billable)
    ).one()
    assert catalogue_billable == 6 != campaign.population
