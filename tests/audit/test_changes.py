"""Every change to a person's record leaves one CHANGE entry: the row's kind and id, the person,
who changed it (the signed-in staff member, or nobody for the public and the worker) — never
what was written. Rows that are not a person's record leave none."""

from datetime import timedelta

import pytest
from sqlmodel import col, select

from app.models.audit import AuditEvent
from app.models.base import utcnow
from app.models.beneficiaries import Beneficiary
from app.models.deliverables import ActionPlan, DeliverableVersion
from app.models.partners import Partner
from app.services.audit.changes import bind_actor, changes_unrecorded
from app.services.privacy.anonymise import anonymise
from tests.factories import (
    contact_page,
    make_appointment_type,
    make_beneficiary,
    make_deliverable,
    make_interaction,
    make_openings,
    make_operator,
    make_partner,
    make_site,
    make_staff,
    submit,
)


def _last_id(session) -> int:
    return max(session.exec(select(AuditEvent.id)).all(), default=0)


def _changes_since(session, last_id: int) -> list[tuple]:
    entries = session.exec(
        select(AuditEvent)
        .where(AuditEvent.action == "change", col(AuditEvent.id) > last_id)
        .order_by(AuditEvent.id)
    ).all()
    return [(e.actor_id, e.record_type, e.record_id, e.beneficiary_id) for e in entries]


def _form(person: Beneficiary, csrf: str, **changes) -> dict:
    return {"csrf_token": csrf, "first_name": person.first_name, "last_name": "Guérin", **changes}


def test_editing_a_person_through_the_form_records_one_change(client, session, counsellor, csrf):
    person = make_beneficiary(session, counsellor)
    before = _last_id(session)
    answer = client.post(
        f"/beneficiaries/{person.id}", data=_form(person, csrf), follow_redirects=False
    )
    assert answer.status_code == 303
    assert _changes_since(session, before) == [(counsellor.id, "beneficiary", person.id, person.id)]
    [entry] = session.exec(select(AuditEvent).where(col(AuditEvent.id) > before)).all()
    assert (entry.actor_role, entry.operator_id) == ("counsellor", person.operator_id)
    assert entry.ip == "testclient" and entry.reason is None  # the origin, and no content


def test_editing_a_person_through_the_api_records_one_change(api, session, counsellor):
    person = make_beneficiary(session, counsellor)
    before = _last_id(session)
    body = {"first_name": person.first_name, "last_name": "Guérin-Morel", "birth_year": 1980}
    assert api.put(f"/api/v1/beneficiaries/{person.id}", json=body).status_code == 200
    assert _changes_since(session, before) == [(counsellor.id, "beneficiary", person.id, person.id)]


def test_a_refused_edit_records_nothing(client, session, counsellor, csrf):
    person = make_beneficiary(session, counsellor)
    before = _last_id(session)
    client.post(f"/beneficiaries/{person.id}", data=_form(person, csrf, phone="123"))
    assert _changes_since(session, before) == []


@pytest.mark.usefixtures("clock")
def test_a_public_booking_records_its_rows_for_nobody(client, session):
    operator = make_operator(session)
    site = make_site(session, operator)
    make_openings(session, make_staff(session, operator), site)
    kind = make_appointment_type(session, operator)
    before = _last_id(session)
    page, token = contact_page(client, (operator, site, kind))
    assert submit(client, page, token).status_code == 200
    changes = _changes_since(session, before)
    assert {kind for _, kind, _, _ in changes} >= {"appointment", "triage_request"}
    assert all(actor is None for actor, *_ in changes)


def test_a_change_made_after_a_signed_in_request_is_not_put_on_its_author(
    client, session, counsellor, csrf
):
    person = make_beneficiary(session, counsellor)
    client.get(f"/beneficiaries/{person.id}")
    before = _last_id(session)
    make_beneficiary(session, counsellor, email="autre@exemple.fr")
    assert [actor for actor, *_ in _changes_since(session, before)] == [None]


def test_a_row_of_a_persons_case_names_the_person(session, counsellor, case):
    bind_actor(session, counsellor)
    before = _last_id(session)
    interaction = make_interaction(session, counsellor, case)
    deliverable = make_deliverable(session, case, "synthese_entretien")
    version = session.exec(select(DeliverableVersion)).one()
    session.add(ActionPlan(case_id=case.id, operator_id=case.operator_id, objective="x"))
    session.flush()
    person = case.beneficiary_id
    assert set(_changes_since(session, before)) >= {
        (counsellor.id, "interaction", interaction.id, person),
        (counsellor.id, "deliverable", deliverable.id, person),
        (counsellor.id, "deliverable_version", version.id, person),
        (counsellor.id, "action_plan", case.id, person),
    }


def test_a_row_changed_twice_and_removed_in_one_transaction_is_recorded_once(
    session, counsellor, case
):
    interaction = make_interaction(session, counsellor, case)
    session.commit()
    before = _last_id(session)
    interaction.duration_minutes = 45
    session.flush()
    interaction.duration_minutes = 60
    session.flush()
    session.delete(interaction)
    session.flush()
    assert _changes_since(session, before) == [
        (None, "interaction", interaction.id, case.beneficiary_id)
    ]


def test_a_row_set_to_what_it_held_records_nothing(session, counsellor):
    person = make_beneficiary(session, counsellor)
    session.commit()
    before = _last_id(session)
    person.last_name = person.last_name
    session.add(person)
    session.flush()
    assert _changes_since(session, before) == []


def test_a_row_that_is_no_persons_record_records_nothing(session, ara):
    before = _last_id(session)
    partner = make_partner(session, ara)
    partner.name = "Mission locale de Lyon"
    session.add(partner)
    make_site(session, ara)
    session.flush()
    assert session.get(Partner, partner.id) is not None
    assert session.exec(select(AuditEvent).where(col(AuditEvent.id) > before)).all() == []


def test_anonymising_records_one_anonymise_entry_and_no_change(session, counsellor, case):
    before = _last_id(session)
    person = session.get(Beneficiary, case.beneficiary_id)
    anonymise(session=session, person=person, now=utcnow() + timedelta(days=1))
    session.flush()
    entries = session.exec(select(AuditEvent).where(col(AuditEvent.id) > before)).all()
    assert [(e.action, e.record_type) for e in entries] == [("anonymise", "beneficiary")]


def test_rows_left_pending_in_an_unrecorded_block_stay_unrecorded(session, ara):
    """The demo's seeding: what it adds without flushing goes out before the block ends."""
    before = _last_id(session)
    with changes_unrecorded(session):
        session.add(Beneficiary(operator_id=ara.id, first_name="Zoé", last_name="Lefèvre"))
    session.commit()
    assert _changes_since(session, before) == []


def test_a_row_changed_again_after_a_savepoint_rolled_back_is_recorded(session, counsellor):
    person = make_beneficiary(session, counsellor)
    session.commit()
    before = _last_id(session)
    with pytest.raises(RuntimeError), session.begin_nested():
        person.last_name = "Guérin"
        session.flush()
        raise RuntimeError("the step fails: its change and its entry go")
    person.last_name = "Lefèvre"
    session.flush()
    assert _changes_since(session, before) == [(None, "beneficiary", person.id, person.id)]
