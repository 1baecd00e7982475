"""A read outside one's own cases asks for a reason first (operator setting, on by default),
records it, and lets the reader through that file for a while; the API wants `reason`."""

from urllib.parse import quote

import pytest
from sqlmodel import select

from app.models.attachments import Attachment
from app.models.audit import MAX_REASON, AuditEvent
from app.models.nomenclatures import Role
from app.models.operators import Operator
from app.models.staff import StaffSite
from app.services.audit.outside_reads import REASON_STANDS
from tests.deliverables.test_attachments_routes import upload
from tests.deliverables.test_documents_routes import start
from tests.factories import bearer, log_in, make_site, make_staff, read

pytestmark = pytest.mark.usefixtures("storage_dir")


@pytest.fixture
def asking(session, ara):
    """ARA asks for a reason (its default, said again so that the test reads on its own)."""
    ara.reason_for_outside_reads = True
    session.add(ara)
    session.flush()
    return ara


@pytest.fixture
def colleague(session, ara, asking):
    """A counsellor of ARA with no tie to the case's person."""
    return make_staff(session, ara, full_name="Dominique Petit")


def _reasons(session, actor) -> list[tuple]:
    query = (
        select(AuditEvent)
        .where(AuditEvent.actor_id == actor.id, AuditEvent.action != "login")
        .order_by(AuditEvent.at)
    )
    return [(e.action, e.record_type, e.record_id, e.reason) for e in session.exec(query)]


def _give(client, csrf, case, reason="Remplacement de Camille, absente", then=None):
    return client.post(
        f"/beneficiaries/{case.beneficiary_id}/motif",
        data={"csrf_token": csrf, "reason": reason, "suite": then or f"/cases/{case.id}"},
        follow_redirects=False,
    )


def test_operators_ask_for_a_reason_by_default(session):
    operator = Operator(code="OCC", name="Occitanie", region_code="76")
    session.add(operator)
    session.flush()
    session.refresh(operator)
    assert operator.reason_for_outside_reads is True


def test_a_case_outside_ones_caseload_asks_for_the_reason_first(client, session, case, colleague):
    log_in(client, session, colleague)
    answer = client.get(f"/cases/{case.id}", follow_redirects=False)
    assert answer.status_code == 303
    wanted = quote(f"/cases/{case.id}", safe="")
    assert (
        answer.headers["location"] == f"/beneficiaries/{case.beneficiary_id}/motif?suite={wanted}"
    )
    page = client.get(answer.headers["location"])
    assert page.status_code == 200
    assert "Motif de la consultation" in page.text and case.reference in page.text
    assert "Zoé" not in page.text  # the person's reference, nothing personal
    assert _reasons(session, colleague) == []


def test_the_reason_is_recorded_and_then_stands_for_the_file(client, session, case, colleague):
    csrf = log_in(client, session, colleague)
    given = _give(client, csrf, case)
    assert (given.status_code, given.headers["location"]) == (303, f"/cases/{case.id}")
    assert client.get(f"/cases/{case.id}").status_code == 200
    assert client.get(f"/beneficiaries/{case.beneficiary_id}").status_code == 200
    reason = "Remplacement de Camille, absente"
    person = case.beneficiary_id
    assert _reasons(session, colleague) == [
        ("read", "beneficiary", person, reason),
        ("read", "case", case.id, reason),
        ("read", "beneficiary", person, reason),
    ]


def test_the_reason_stops_standing_after_its_time(client, session, case, colleague, time_machine):
    from app.models.base import utcnow

    csrf = log_in(client, session, colleague)
    _give(client, csrf, case)
    time_machine.move_to(utcnow() + REASON_STANDS, tick=True)
    answer = client.get(f"/cases/{case.id}", follow_redirects=False)
    assert answer.status_code == 303 and "/motif?" in answer.headers["location"]


def test_a_reason_for_one_person_does_not_open_another(
    client, session, case, colleague, counsellor
):
    from tests.factories import make_case

    other = make_case(session, counsellor)
    csrf = log_in(client, session, colleague)
    _give(client, csrf, case)
    assert client.get(f"/cases/{other.id}", follow_redirects=False).status_code == 303


def test_an_empty_or_too_long_reason_is_refused_with_the_form_again(
    client, session, case, colleague
):
    csrf = log_in(client, session, colleague)
    empty = _give(client, csrf, case, reason="   ")
    assert empty.status_code == 422 and 'aria-invalid="true"' in empty.text
    long = _give(client, csrf, case, reason="x" * (MAX_REASON + 1))
    assert long.status_code == 422
    assert _reasons(session, colleague) == []
    assert client.get(f"/cases/{case.id}", follow_redirects=False).status_code == 303


def test_the_way_back_never_leaves_the_site(client, session, case, colleague):
    csrf = log_in(client, session, colleague)
    answer = _give(client, csrf, case, then="//evil.example/")
    assert answer.headers["location"] == "/"


def test_own_cases_are_not_asked(client, session, case, counsellor, asking, csrf):
    assert client.get(f"/cases/{case.id}").status_code == 200
    assert client.get(f"/beneficiaries/{case.beneficiary_id}").status_code == 200
    reads = [entry for entry in _reasons(session, counsellor) if entry[0] == "read"]
    assert [reason for *_, reason in reads] == [None, None]


def test_a_counsellor_who_met_the_person_is_not_asked(client, session, case, colleague):
    from datetime import timedelta

    from app.models.base import utcnow
    from app.models.cases import Interaction

    session.add(
        Interaction(
            operator_id=case.operator_id, case_id=case.id, counsellor_id=colleague.id,
            occurred_at=utcnow() - timedelta(hours=1), duration_minutes=30, channel="phone",
        )
    )  # fmt: skip
    session.flush()
    log_in(client, session, colleague)
    assert client.get(f"/cases/{case.id}").status_code == 200


def test_the_manager_of_the_case_site_is_not_asked_another_manager_is(
    client, session, ara, asking, counsellor
):
    from tests.factories import make_case

    site = make_site(session, ara)
    case = make_case(session, counsellor, site_id=site.id)
    theirs = make_staff(session, ara, Role.MANAGER)
    session.add(StaffSite(staff_id=theirs.id, site_id=site.id))
    elsewhere = make_staff(session, ara, Role.MANAGER)
    session.add(StaffSite(staff_id=elsewhere.id, site_id=make_site(session, ara, name="Vichy").id))
    whole_team = make_staff(session, ara, Role.MANAGER)  # attached to no site
    session.flush()
    log_in(client, session, theirs)
    assert client.get(f"/cases/{case.id}").status_code == 200
    log_in(client, session, whole_team)
    assert client.get(f"/cases/{case.id}").status_code == 200
    log_in(client, session, elsewhere)
    assert client.get(f"/cases/{case.id}", follow_redirects=False).status_code == 303


def test_the_operator_admin_is_never_asked(client, session, case, admin, asking):
    log_in(client, session, admin)
    assert client.get(f"/cases/{case.id}").status_code == 200


def test_with_the_setting_off_nobody_is_asked(client, session, ara, case, colleague):
    ara.reason_for_outside_reads = False
    session.add(ara)
    session.flush()
    log_in(client, session, colleague)
    assert client.get(f"/cases/{case.id}").status_code == 200
    assert _reasons(session, colleague) == [("read", "case", case.id, None)]


def test_an_attachment_address_typed_directly_asks_too(
    client, session, case, counsellor, colleague, csrf
):
    upload(client, case, csrf)
    attachment = session.exec(select(Attachment)).one()
    log_in(client, session, colleague)
    answer = client.get(f"/attachments/{attachment.id}/download", follow_redirects=False)
    assert answer.status_code == 303
    assert f"/beneficiaries/{case.beneficiary_id}/motif" in answer.headers["location"]
    assert _reasons(session, colleague) == []


def test_a_document_pdf_address_typed_directly_asks_too(
    client, session, case, counsellor, colleague, csrf
):
    deliverable = start(client, session, case, csrf)
    log_in(client, session, colleague)
    answer = client.get(f"/deliverables/{deliverable.id}/preview", follow_redirects=False)
    assert answer.status_code == 303
    given = _give(client, log_in(client, session, colleague), case)
    assert given.status_code == 303
    assert client.get(f"/deliverables/{deliverable.id}/preview").status_code == 200


def test_htmx_requests_are_sent_to_the_reason_page(client, session, case, colleague):
    log_in(client, session, colleague)
    answer = client.get(f"/cases/{case.id}", headers={"HX-Request": "true"})
    assert answer.status_code == 204
    assert answer.headers["HX-Redirect"].startswith(f"/beneficiaries/{case.beneficiary_id}/motif")


def test_the_api_refuses_a_read_outside_without_reason_in_french(client, session, case, colleague):
    client.headers.update(bearer(colleague))
    refused = client.get(f"/api/v1/cases/{case.id}")
    assert refused.status_code == 403
    assert "motif" in refused.json()["detail"]
    person = client.get(f"/api/v1/beneficiaries/{case.beneficiary_id}")
    assert person.status_code == 403
    assert _reasons(session, colleague) == []


def test_the_api_records_the_reason_given(client, session, case, colleague):
    client.headers.update(bearer(colleague))
    answer = client.get(f"/api/v1/cases/{case.id}", params={"reason": "Relance du partenaire"})
    assert answer.status_code == 200
    assert _reasons(session, colleague) == [("read", "case", case.id, "Relance du partenaire")]


def test_the_api_documents_the_reason(app):
    document = app.openapi()
    operation = document["paths"]["/api/v1/cases/{case_id}"]["get"]
    assert [p["name"] for p in operation["parameters"] if p["in"] == "query"] == ["reason"]
    assert "portefeuille" in operation["responses"]["403"]["description"]


def test_another_operators_person_is_not_found_on_the_reason_page(client, session, case, bre):
    csrf = log_in(client, session, make_staff(session, bre))
    assert client.get(f"/beneficiaries/{case.beneficiary_id}/motif").status_code == 404
    assert _give(client, csrf, case).status_code == 404


def test_the_reason_page_of_ones_own_file_goes_straight_through(client, session, case, csrf):
    answer = client.get(
        f"/beneficiaries/{case.beneficiary_id}/motif?suite=/cases/{case.id}",
        follow_redirects=False,
    )
    assert (answer.status_code, answer.headers["location"]) == (303, f"/cases/{case.id}")


def test_the_reason_shows_on_the_security_page_setting(client, session, admin, ara, asking):
    csrf = log_in(client, session, admin)
    page = read(client.get("/admin/securite"))
    assert "Motif demandé pour consulter un dossier hors de son portefeuille" in page
    answer = client.post(
        "/admin/securite/motif",
        data={"csrf_token": csrf, "operator_id": str(ara.id)},
        follow_redirects=False,
    )
    assert answer.status_code == 303
    session.refresh(ara)
    assert ara.reason_for_outside_reads is False
