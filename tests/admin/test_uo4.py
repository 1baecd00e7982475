"""UO4 actions (services): amounts kept exact, the rules of the form, the history of changes,
the sums by kind and quarter, the comparison with the lot's budget, and a person's trainings."""

from datetime import date
from decimal import Decimal

import pytest
from pydantic import ValidationError
from sqlmodel import select

from app.core.errors import Forbidden, Invalid, NotFound
from app.core.tables import csv_chunks, xlsx_bytes
from app.models.nomenclatures import Role
from app.models.uo4 import Uo4Action, Uo4ActionEdit, Uo4Attendee, Uo4Event
from app.services.admin.uo4 import (
    cancel_action,
    create_action,
    load_action,
    restore_action,
    trainings_of,
    update_action,
)
from app.services.admin.uo4_summary import (
    compare_with_budget,
    summarise,
    uo4_budget,
    uo4_page,
    uo4_table,
)
from tests.downloads import workbook_sheet
from tests.factories import make_lot, make_site, make_staff


def edit(**values) -> Uo4ActionEdit:
    base = {"kind": "communication", "title": "Affiches", "starts_on": "2026-02-10",
            "amount": "1 234,50"}  # fmt: skip
    return Uo4ActionEdit.model_validate({**base, **values})


def training(*attendees, **values) -> Uo4ActionEdit:
    listed = [{"staff_id": person.id, "hours": hours} for person, hours in attendees]
    return edit(kind="formation", title="Entretien motivationnel", hours="7", attendees=listed,
                **values)  # fmt: skip


def test_an_amount_is_kept_exactly_as_typed(session, admin):
    action = create_action(session=session, actor=admin, data=edit(amount="0,10"))
    session.expire_all()
    stored = session.get(Uo4Action, action.id).amount
    assert stored == Decimal("0.10") and isinstance(stored, Decimal)


@pytest.mark.parametrize(
    ("typed", "message"),
    [
        ("-5", "Montant invalide"),
        ("0", "supérieur à zéro"),
        ("12,345", "deux décimales au plus"),
        ("douze", "Montant invalide"),
    ],
)
def test_a_bad_amount_is_refused_in_french(typed, message):
    with pytest.raises(ValidationError) as refused:
        edit(amount=typed)
    assert message in str(refused.value)


def test_a_float_amount_is_refused_rather_than_rounded():
    with pytest.raises(ValidationError):
        edit(amount=0.1)


@pytest.mark.parametrize("hours", ["0", "2001", "1,234"])
def test_hours_out_of_range_are_refused(hours):
    with pytest.raises(ValidationError):
        edit(kind="formation", hours=hours)


def test_a_training_needs_its_hours(session, admin):
    with pytest.raises(Invalid) as refused:
        create_action(session=session, actor=admin, data=edit(kind="formation"))
    assert set(refused.value.fields) == {"hours"}
    assert session.exec(select(Uo4Action)).all() == []


def test_the_end_may_not_come_before_the_start(session, admin):
    with pytest.raises(Invalid) as refused:
        create_action(session=session, actor=admin, data=edit(ends_on="2026-02-01"))
    assert "ends_on" in refused.value.fields


def test_an_attendee_of_another_operator_is_refused(session, admin, counsellor, bre):
    stranger = make_staff(session, bre)
    data = training((counsellor, ""), (stranger, ""))
    with pytest.raises(Invalid) as refused:
        create_action(session=session, actor=admin, data=data)
    assert "attendees" in refused.value.fields
    assert session.exec(select(Uo4Attendee)).all() == []


def test_an_attendee_cannot_attend_longer_than_the_training(session, admin, counsellor):
    with pytest.raises(Invalid) as refused:
        create_action(session=session, actor=admin, data=training((counsellor, "8")))
    assert "Camille Martin" in refused.value.fields["attendees"]


def test_a_site_of_another_operator_is_refused(session, admin, bre):
    elsewhere = make_site(session, bre, name="Rennes")
    with pytest.raises(Invalid) as refused:
        create_action(session=session, actor=admin, data=edit(site_id=elsewhere.id))
    assert "site_id" in refused.value.fields


def test_participants_default_to_the_staff_ticked_and_hours_to_the_whole_training(
    session, admin, counsellor, ara
):
    colleague = make_staff(session, ara, full_name="Basile Roux")
    action = create_action(
        session=session, actor=admin, data=training((counsellor, ""), (colleague, "3,5"))
    )
    assert action.participants == 2
    hours = dict(session.exec(select(Uo4Attendee.staff_id, Uo4Attendee.hours)).all())
    assert hours == {counsellor.id: Decimal("7.00"), colleague.id: Decimal("3.50")}


def test_fewer_participants_than_staff_ticked_is_refused(session, admin, counsellor, ara):
    colleague = make_staff(session, ara)
    data = training((counsellor, ""), (colleague, ""), participants="1")
    with pytest.raises(Invalid) as refused:
        create_action(session=session, actor=admin, data=data)
    assert "participants" in refused.value.fields


def test_training_fields_are_dropped_for_another_kind(session, admin, counsellor):
    data = Uo4ActionEdit.model_validate(
        {**training((counsellor, ""), participants="3").model_dump(), "kind": "partenariat"}
    )
    action = create_action(session=session, actor=admin, data=data)
    assert (action.hours, action.participants) == (None, None)
    assert session.exec(select(Uo4Attendee)).all() == []


def test_every_change_is_recorded_with_who_made_it(session, admin, counsellor):
    action = create_action(session=session, actor=admin, data=edit())
    update_action(
        session=session, actor=admin, action_id=action.id, data=edit(amount="1500", title="Flyers")
    )
    cancel_action(session=session, actor=admin, action_id=action.id)
    restore_action(session=session, actor=admin, action_id=action.id)
    events = session.exec(select(Uo4Event).order_by(Uo4Event.id)).all()
    assert [event.kind for event in events] == ["created", "updated", "cancelled", "restored"]
    assert {event.actor_id for event in events} == {admin.id}
    assert "Montant : 1\u202f234,50\u00a0€ → 1\u202f500,00\u00a0€" in events[1].detail
    assert "Intitulé : Affiches → Flyers" in events[1].detail


def test_saving_without_a_change_records_nothing(session, admin):
    action = create_action(session=session, actor=admin, data=edit())
    update_action(session=session, actor=admin, action_id=action.id, data=edit())
    assert len(session.exec(select(Uo4Event)).all()) == 1


def test_managers_read_but_do_not_record(session, manager, admin):
    action = create_action(session=session, actor=admin, data=edit())
    assert load_action(session=session, actor=manager, action_id=action.id) == action
    with pytest.raises(Forbidden):
        create_action(session=session, actor=manager, data=edit())
    with pytest.raises(Forbidden):
        cancel_action(session=session, actor=manager, action_id=action.id)


@pytest.mark.parametrize("role", [Role.COUNSELLOR, Role.SYSADMIN, Role.NATIONAL_OBSERVER])
def test_other_roles_see_no_uo4(session, ara, role):
    actor = make_staff(session, ara if role == Role.COUNSELLOR else None, role)
    with pytest.raises(Forbidden):
        uo4_page(session=session, actor=actor, year=2026)


def test_another_operators_action_is_not_found(session, admin, bre):
    other_admin = make_staff(session, bre, Role.OPERATOR_ADMIN)
    action = create_action(session=session, actor=other_admin, data=edit())
    with pytest.raises(NotFound):
        load_action(session=session, actor=admin, action_id=action.id)
    with pytest.raises(NotFound):
        update_action(session=session, actor=admin, action_id=action.id, data=edit())


def test_the_summary_sums_by_kind_and_quarter_leaving_out_cancelled_actions(session, admin):
    def record(kind, day, amount):
        data = edit(kind=kind, starts_on=day, amount=amount, hours="2")
        return create_action(session=session, actor=admin, data=data)

    record("communication", "2026-01-05", "100,10")
    record("communication", "2026-03-31", "0,20")
    record("communication", "2026-04-01", "1000")
    record("formation", "2026-12-31", "500")
    record("outils", "2025-12-31", "999")  # another year
    cancelled = record("partenariat", "2026-06-01", "50")
    cancel_action(session=session, actor=admin, action_id=cancelled.id)

    summary = uo4_page(session=session, actor=admin, year=2026).summary
    rows = {row.kind.value: row for row in summary.rows}
    assert rows["communication"].quarters == [Decimal("100.30"), Decimal("1000"), 0, 0]
    assert rows["formation"].quarters == [0, 0, 0, Decimal("500")]
    assert rows["partenariat"].total == 0 and rows["partenariat"].count == 0
    assert summary.quarter_totals == [Decimal("100.30"), Decimal("1000"), 0, Decimal("500")]
    assert summary.total == Decimal("1600.30")
    assert summary.budget is None  # no lot's budget yet


def test_the_comparison_gives_what_is_consumed_and_what_remains():
    compared = compare_with_budget(Decimal("2500.00"), Decimal("10000.00"))
    assert compared.remaining == Decimal("7500.00") and compared.share == Decimal("25.0")
    assert not compared.exceeded


def test_an_exceeded_budget_shows_a_negative_remainder():
    compared = compare_with_budget(Decimal("12000.50"), Decimal("10000"))
    assert compared.remaining == Decimal("-2000.50") and compared.exceeded
    assert compared.share == Decimal("120.0")


def test_a_budget_of_zero_has_no_share_and_no_budget_no_comparison():
    assert compare_with_budget(Decimal("10"), Decimal("0")).share is None
    assert compare_with_budget(Decimal("10"), None) is None


def test_the_summary_compares_the_year_with_a_budget_given(session, admin):
    action = create_action(session=session, actor=admin, data=edit(amount="300"))
    summary = summarise([action], 2026, Decimal("1200"))
    assert summary.budget.consumed == Decimal("300.00")
    assert summary.budget.share == Decimal("25.0")


def test_the_csv_writes_amounts_with_a_decimal_comma(session, admin, ara):
    make_site(session, ara, name="Annecy")
    create_action(session=session, actor=admin, data=edit(amount="1234,5", title="=SOMME(A1)"))
    text = b"".join(csv_chunks(uo4_table(session=session, actor=admin, name="actions",
                                         year=2026))).decode("utf-8")  # fmt: skip
    assert text.startswith("\ufeffDate;Fin;Type;")
    assert "2026-02-10;;Campagne de communication;'=SOMME(A1);1234,50;" in text
    summary = b"".join(csv_chunks(uo4_table(session=session, actor=admin, name="synthese",
                                            year=2026))).decode("utf-8")  # fmt: skip
    assert "Campagne de communication;1234,50;0,00;0,00;0,00;1234,50;1" in summary
    assert "Budget UO4 du lot non renseigné" in summary


def test_the_files_give_the_consumed_share_as_a_percentage(session, admin, ara):
    lot = make_lot(session, ara)
    lot.uo4_budget = Decimal("3000")
    session.add(lot)
    create_action(session=session, actor=admin, data=edit(amount="1000"))

    summary = uo4_table(session=session, actor=admin, name="synthese", year=2026)
    text = b"".join(csv_chunks(summary)).decode("utf-8")
    sheet = workbook_sheet(xlsx_bytes(summary).read())

    assert "Part consommée (%);;;;;33,3;" in text
    share = next(row[5] for row in sheet.iter_rows() if row[0].value == "Part consommée (%)")
    assert share.value == 0.333 and share.number_format == "0.0 %"
    assert sheet["A1"].value == (
        "UO4 — qualité du service, moyens et pilotage — Auvergne-Rhône-Alpes — "
        "du 1er janvier 2026 au 31 décembre 2026 — Synthèse"
    )


def test_a_person_sees_the_trainings_attended_and_this_years_hours(session, admin, counsellor):
    this_year = training((counsellor, "3,5"), starts_on="2026-03-01")
    last_year = training((counsellor, ""), starts_on="2025-11-01")
    cancelled = training((counsellor, "2"), starts_on="2026-05-01")
    first = create_action(session=session, actor=admin, data=this_year)
    second = create_action(session=session, actor=admin, data=last_year)
    third = create_action(session=session, actor=admin, data=cancelled)
    cancel_action(session=session, actor=admin, action_id=third.id)
    found = trainings_of(session=session, member=counsellor, today=date(2026, 12, 2))
    assert found.hours_this_year == Decimal("3.50")
    assert [(action.id, hours) for action, hours in found.attended] == [
        (first.id, Decimal("3.50")),
        (second.id, Decimal("7.00")),
    ]


def test_the_budget_is_the_yearly_one_of_the_lot_in_force_that_year(session, ara):
    assert uo4_budget(session, ara.id, 2026) is None  # no lot yet
    lot = make_lot(session, ara)
    assert uo4_budget(session, ara.id, 2026) is None  # a lot, its budget not set
    lot.uo4_budget = Decimal("48000.50")
    session.add(lot)
    session.flush()
    assert uo4_budget(session, ara.id, 2026) == Decimal("48000.50")
    assert uo4_budget(session, ara.id, 2030) is None  # after the market
