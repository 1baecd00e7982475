"""« Marchés » pages: the markets and their units, the lot's prices with their history and its
UO4 budget (operator admins), markets, lots and national terms (sysadmins); CSRF; French
messages by the field."""

from datetime import date
from decimal import Decimal

import pytest
from sqlmodel import select

from app.models.markets import Lot, LotPrice, Market, MarketUnit
from app.models.nomenclatures import Role
from tests.factories import (
    CURRENT_MARKET,
    confirmations,
    deliverable_kind,
    log_in,
    make_lot,
    make_market,
    make_staff,
    read,
    required_kinds,
    unit_id,
)

NNBSP, NBSP = "\u202f", "\u00a0"


@pytest.fixture
def current(session):
    return session.exec(select(Market).where(Market.name == CURRENT_MARKET)).one()


@pytest.fixture
def lot(session, ara):
    return make_lot(session, ara, UO1="120.50")


@pytest.fixture
def admin_csrf(client, session, admin) -> str:
    return log_in(client, session, admin)


@pytest.fixture
def sysadmin_csrf(client, session) -> str:
    return log_in(client, session, make_staff(session, None, Role.SYSADMIN))


def test_the_admin_lists_the_markets_and_reads_their_lots_prices(
    client, session, admin_csrf, ara, lot, current
):
    listed = read(client.get("/admin/marches"))
    assert CURRENT_MARKET in listed and "1er janvier 2024" in listed
    page = read(client.get(f"/admin/marches/{current.id}"))
    assert "Remis : émis, puis envoyé ou remis en main propre" in page
    assert f"120,50{NBSP}€" in page and "à partir du 1er janvier 2024" in page
    [required] = required_kinds(session, ara, "UO1")
    assert deliverable_kind(session, ara.id, required).label in page  # the operator's kind
    assert f'action="/admin/lots/{lot.id}/prix"' in page
    assert "Conditions nationales" not in page  # the sysadmin's


def test_a_new_price_shows_in_the_history_with_the_old_one(
    client, session, admin_csrf, lot, current
):
    form = {
        "csrf_token": admin_csrf,
        "unit_id": str(unit_id(session, "UO1")),
        "amount": "1 234,5",
        "effective_from": "2027-07-01",
    }
    answer = client.post(f"/admin/lots/{lot.id}/prix", data=form)
    assert answer.status_code == 200  # followed to the market's page
    assert confirmations(answer) == ["[focus] Prix enregistré."]
    page = read(answer)
    assert f"1{NNBSP}234,50{NBSP}€ à partir du 1er juillet 2027" in page
    assert f"120,50{NBSP}€ à partir du 1er janvier 2024" in page
    stored = session.exec(select(LotPrice.amount).where(LotPrice.lot_id == lot.id)).all()
    assert sorted(stored) == [Decimal("120.50"), Decimal("1234.50")]


@pytest.mark.parametrize(
    "amount, message",
    [("0", "supérieur à zéro"), ("12,345", "deux décimales"), ("", "obligatoire")],
)
def test_a_bad_price_is_said_by_the_field_and_nothing_is_stored(
    client, session, admin_csrf, lot, amount, message
):
    form = {
        "csrf_token": admin_csrf,
        "unit_id": str(unit_id(session, "UO1")),
        "amount": amount,
        "effective_from": "2027-07-01",
    }
    page = read(client.post(f"/admin/lots/{lot.id}/prix", data=form))
    assert 'id="amount-error"' in page and message in page
    assert f'value="{amount}"' in page  # what was typed is kept
    assert len(session.exec(select(LotPrice).where(LotPrice.lot_id == lot.id)).all()) == 1


def test_a_post_without_the_csrf_token_is_refused(client, session, admin_csrf, lot):
    form = {"uo4_budget": "10"}
    assert client.post(f"/admin/lots/{lot.id}/budget", data=form).status_code == 403
    session.refresh(lot)
    assert lot.uo4_budget is None


def test_the_admin_sets_the_uo4_budget(client, session, admin_csrf, lot):
    answer = client.post(
        f"/admin/lots/{lot.id}/budget", data={"csrf_token": admin_csrf, "uo4_budget": "45 000"}
    )
    assert f"Budget actuel : 45{NNBSP}000,00{NBSP}€" in read(answer)
    session.refresh(lot)
    assert lot.uo4_budget == Decimal("45000")


def test_an_admin_may_not_create_markets_lots_or_change_national_terms(
    client, session, admin_csrf, ara, current
):
    uo1 = unit_id(session, "UO1")
    token = {"csrf_token": admin_csrf}
    form = {**token, "name": "Marché X", "starts_on": "2028-01-01", "ends_on": "2028-12-31"}
    assert client.post("/admin/marches", data=form).status_code == 403
    lot_form = {**token, "operator_id": str(ara.id)}
    assert client.post(f"/admin/marches/{current.id}/lots", data=lot_form).status_code == 403
    terms = {**token, "proof_rule": "accuse"}
    assert client.post(f"/admin/marches/{current.id}/unites/{uo1}", data=terms).status_code == 403
    assert session.exec(select(Lot)).all() == []


def test_a_counsellor_gets_403(client, session, counsellor, current):
    log_in(client, session, counsellor)
    assert client.get("/admin/marches").status_code == 403
    assert client.get(f"/admin/marches/{current.id}").status_code == 403


def test_an_unknown_market_is_404(client, session, admin_csrf):
    assert client.get("/admin/marches/999999").status_code == 404


def test_the_sysadmin_creates_a_market_then_a_lot_then_sets_a_units_terms(
    client, session, sysadmin_csrf, ara
):
    token = {"csrf_token": sysadmin_csrf}
    form = {**token, "name": "Marché 2028-2031", "starts_on": "2028-01-01", "ends_on": "2031-12-31"}
    answer = client.post("/admin/marches", data=form)
    assert confirmations(answer) == [
        "[focus] Marché créé, avec les unités du marché précédent : vérifiez-les."
    ]
    market = session.exec(select(Market).where(Market.name == "Marché 2028-2031")).one()
    answer = client.post(
        f"/admin/marches/{market.id}/lots", data={**token, "operator_id": str(ara.id)}
    )
    assert confirmations(answer) == ["[focus] Lot créé."]
    lot = session.exec(select(Lot).where(Lot.market_id == market.id)).one()
    assert (lot.operator_id, lot.starts_on, lot.ends_on) == (
        ara.id,
        date(2028, 1, 1),
        date(2031, 12, 31),
    )
    uo0 = unit_id(session, "UO0")
    answer = client.post(
        f"/admin/marches/{market.id}/unites/{uo0}",
        data={**token, "proof_rule": "accuse", "operateur": str(ara.id)},
    )
    assert confirmations(answer) == ["[focus] Conditions de l'unité enregistrées."]
    terms = session.exec(
        select(MarketUnit).where(MarketUnit.market_id == market.id, MarketUnit.unit_id == uo0)
    ).one()
    assert (terms.billable, terms.proof_rule) == (False, "accuse")


def test_the_sysadmin_is_told_when_a_lot_would_overlap(
    client, session, sysadmin_csrf, ara, current
):
    make_lot(session, ara)
    overlapping = make_market(session, "Marché test", date(2027, 1, 1), date(2030, 12, 31))
    page = read(
        client.post(
            f"/admin/marches/{overlapping.id}/lots",
            data={"csrf_token": sysadmin_csrf, "operator_id": str(ara.id)},
        )
    )
    assert "chevauche ce marché" in page and 'id="operator_id-error"' in page


def test_the_sysadmin_chooses_whose_lot_the_market_page_shows(
    client, session, sysadmin_csrf, ara, bre, current
):
    make_lot(session, ara, UO1="120")
    theirs = make_lot(session, bre, UO1="99")
    page = read(client.get(f"/admin/marches/{current.id}?operateur={bre.id}"))
    assert f"99,00{NBSP}€" in page and f'action="/admin/lots/{theirs.id}/prix"' in page
    assert "Conditions nationales" in page and "Ajouter un lot" in page
    assert client.get(f"/admin/marches/{current.id}?operateur=999999").status_code == 404


# ---- « Remis en main propre » ----------------------------------------------------------------


def test_a_counsellor_records_a_version_handed_over_in_person(client, session, counsellor, case):
    from app.models.deliverables import DeliverableVersion
    from tests.factories import make_deliverable, make_episode

    csrf = log_in(client, session, counsellor)
    episode = make_episode(session, counsellor, case, "UO1")
    deliverable = make_deliverable(session, case, "synthese_entretien", episode=episode)
    page = read(client.get(f"/deliverables/{deliverable.id}"))
    assert "Remis en main propre" in page
    answer = client.post(
        f"/deliverables/{deliverable.id}/versions/1/handed-over", data={"csrf_token": csrf}
    )
    assert confirmations(answer) == ["[focus] Version 1 remise en main propre."]
    version = session.exec(
        select(DeliverableVersion).where(DeliverableVersion.deliverable_id == deliverable.id)
    ).one()
    assert version.handed_over_by_id == counsellor.id and version.handed_over_at is not None
    again = read(
        client.post(
            f"/deliverables/{deliverable.id}/versions/1/handed-over", data={"csrf_token": csrf}
        )
    )
    assert "déjà enregistrée comme remise" in again
