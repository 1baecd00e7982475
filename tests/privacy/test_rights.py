"""The rights requests' queue: one month to answer, shown in the operator's time zone;
erasure, objection and rectification as the admin answers them."""

from datetime import UTC, date, datetime

import pytest
from sqlmodel import select

from app.core.errors import Forbidden
from app.models.beneficiaries import Beneficiary
from app.models.cases import CaseStatus, Episode
from app.models.consents import ConsentPurpose
from app.models.rights import RightKind, RightsRequest, RightsRequestCreate, RightStatus
from app.services.privacy.consents import may_contact
from app.services.privacy.rights import (
    CASE_STILL_OPEN,
    HELD_BY_A_CONTROL,
    erase_person,
    one_month_after,
    record_request,
    rights_queue,
)
from tests.factories import log_in, make_beneficiary, make_case
from tests.privacy.test_retention import IN_2024, followed_in, official_campaign


def ask(session, admin, person, kind=RightKind.ERASURE, received_on=date(2026, 11, 2)):
    data = RightsRequestCreate(
        beneficiary_id=person.id, kind=kind, received_on=received_on, received_via="email"
    )
    return record_request(session=session, actor=admin, data=data)


@pytest.mark.parametrize(
    ("received", "due"),
    [
        (date(2026, 1, 31), date(2026, 2, 28)),
        (date(2028, 1, 31), date(2028, 2, 29)),
        (date(2026, 12, 15), date(2027, 1, 15)),
    ],
)
def test_a_request_is_due_one_calendar_month_after_it_was_received(received, due):
    assert one_month_after(received) == due


def test_only_operator_admins_handle_requests(client, session, counsellor, manager):
    person = make_beneficiary(session, counsellor)
    with pytest.raises(Forbidden):
        ask(session, manager, person)
    log_in(client, session, manager)
    assert client.get("/admin/droits").status_code == 403


def test_the_queue_shows_overdue_and_due_soon_requests_first(client, session, counsellor, admin):
    now = datetime(2026, 12, 7, 9, tzinfo=UTC)
    late = ask(session, admin, make_beneficiary(session, counsellor), received_on=date(2026, 11, 2))
    soon = ask(
        session, admin, make_beneficiary(session, counsellor), received_on=date(2026, 11, 10)
    )
    later = ask(
        session, admin, make_beneficiary(session, counsellor), received_on=date(2026, 12, 1)
    )
    queue = rights_queue(session=session, actor=admin, now=now)
    assert [row.request.id for row in queue.open] == [late.id, soon.id, later.id]
    assert [(row.overdue, row.due_soon) for row in queue.open] == [
        (True, False), (False, True), (False, False),
    ]  # fmt: skip
    log_in(client, session, admin)
    page = client.get("/admin/droits")
    assert "En retard" in page.text and "2 décembre 2026" in page.text


def test_a_request_is_recorded_for_a_person_found_by_case_reference(
    client, session, counsellor, admin
):
    case = make_case(session, counsellor)
    csrf = log_in(client, session, admin)
    page = client.get("/admin/droits", params={"q": case.reference.lower()})
    person = session.get(Beneficiary, case.beneficiary_id)
    assert person.full_name in page.text
    answer = client.post(
        "/admin/droits",
        data={
            "csrf_token": csrf,
            "beneficiary_id": person.id,
            "kind": "access",
            "received_on": "2026-11-30",
            "received_via": "letter",
        },  # fmt: skip
        follow_redirects=False,
    )
    assert answer.status_code == 303
    request = session.exec(select(RightsRequest)).one()
    assert (request.beneficiary_id, request.due_on) == (person.id, date(2026, 12, 30))


def test_erasure_needs_the_reference_typed_then_search_no_longer_finds_them(
    client, session, ara, counsellor, admin, clock, storage_dir
):
    case = followed_in(session, counsellor, IN_2024, first_name="Mathilde", last_name="Dupont")
    request = ask(session, admin, session.get(Beneficiary, case.beneficiary_id))
    csrf = log_in(client, session, admin)
    url = f"/admin/droits/{request.id}/effacement"
    refused = client.post(url, data={"csrf_token": csrf, "reference": "CEP-0000-000000"})
    assert "pas celle d" in refused.text and 'aria-invalid="true"' in refused.text
    session.expire_all()
    assert session.get(Beneficiary, case.beneficiary_id).anonymised_at is None
    assert session.get(RightsRequest, request.id).status == RightStatus.RECEIVED

    client.post(url, data={"csrf_token": csrf, "reference": case.reference.lower()})
    session.expire_all()
    assert session.get(Beneficiary, case.beneficiary_id).anonymised_at is not None
    done = session.get(RightsRequest, request.id)
    assert (done.status, done.handled_by_id) == (RightStatus.DONE, admin.id)
    log_in(client, session, counsellor)
    found = client.get("/search", params={"q": "Dupont"}, headers={"HX-Request": "true"})
    assert f'href="/beneficiaries/{case.beneficiary_id}"' not in found.text


@pytest.mark.parametrize("held", ["control", "open case"])
def test_erasure_is_refused_with_its_legal_reason(session, ara, counsellor, admin, clock, held):
    case = followed_in(session, counsellor, IN_2024, first_name="Mathilde", last_name="Dupont")
    if held == "control":
        episode_id = session.exec(select(Episode.id).where(Episode.case_id == case.id)).first()
        official_campaign(session, ara.id, episode_id)
    else:
        case.status, case.closed_at, case.close_reason = CaseStatus.OPEN.value, None, None
        session.add(case)
        session.flush()
    request = ask(session, admin, session.get(Beneficiary, case.beneficiary_id))
    answered = erase_person(
        session=session, actor=admin, request_id=request.id, typed_reference=case.reference
    )
    assert answered.status == RightStatus.REFUSED
    assert answered.outcome == (HELD_BY_A_CONTROL if held == "control" else CASE_STILL_OPEN)
    assert session.get(Beneficiary, case.beneficiary_id).anonymised_at is None


def test_an_objection_stops_surveys_at_once(client, session, counsellor, admin):
    person = make_beneficiary(session, counsellor, survey_consent=True)
    assert person.may_be_surveyed
    request = ask(session, admin, person, kind=RightKind.OBJECTION)
    csrf = log_in(client, session, admin)
    client.post(f"/admin/droits/{request.id}/opposition", data={"csrf_token": csrf})
    session.expire_all()
    person = session.get(Beneficiary, person.id)
    assert not person.may_be_surveyed
    for purpose in (ConsentPurpose.EMAIL, ConsentPurpose.SMS):  # reminders stop too
        assert not may_contact(session=session, person=person, purpose=purpose)
    assert session.get(RightsRequest, request.id).status == RightStatus.DONE


def test_a_rectification_links_to_the_form_and_records_who_did_it(
    client, session, counsellor, admin
):
    person = make_beneficiary(session, counsellor)
    request = ask(session, admin, person, kind=RightKind.RECTIFICATION)
    csrf = log_in(client, session, admin)
    page = client.get(f"/admin/droits/{request.id}")
    assert f'href="/beneficiaries/{person.id}"' in page.text
    client.post(
        f"/admin/droits/{request.id}/reponse",
        data={"csrf_token": csrf, "outcome": "Adresse e-mail corrigée."},
    )
    session.expire_all()
    done = session.get(RightsRequest, request.id)
    assert (done.status, done.handled_by_id, done.outcome) == (
        RightStatus.DONE, admin.id, "Adresse e-mail corrigée.",
    )  # fmt: skip
    assert done.handled_at is not None


def test_a_refusal_needs_its_reason(client, session, counsellor, admin):
    request = ask(session, admin, make_beneficiary(session, counsellor), kind=RightKind.RESTRICTION)
    csrf = log_in(client, session, admin)
    page = client.post(
        f"/admin/droits/{request.id}/reponse", data={"csrf_token": csrf, "refus": "1"}
    )
    assert "motif du refus" in page.text
    session.expire_all()
    assert session.get(RightsRequest, request.id).status == RightStatus.RECEIVED


def test_a_search_with_a_nul_character_finds_nobody_without_error(client, session, admin):
    log_in(client, session, admin)
    page = client.get("/admin/droits", params={"q": "CEP\x00-1"})
    assert page.status_code == 200 and "Aucune personne" in page.text
