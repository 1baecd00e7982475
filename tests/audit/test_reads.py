"""Reading a person's record leaves an entry: who read it, what, and whose file it is (never
what was read). One test per kind of read: pages, API, documents, attachments."""

import pytest
from sqlmodel import select

from app.models.audit import AuditEvent
from tests.deliverables.test_attachments_routes import upload
from tests.deliverables.test_documents_routes import start

pytestmark = pytest.mark.usefixtures("storage_dir")


def _reads(session) -> list[tuple]:
    entries = session.exec(select(AuditEvent).where(AuditEvent.action == "read")).all()
    return [(e.actor_id, e.record_type, e.record_id, e.beneficiary_id) for e in entries]


def test_the_case_page_records_a_read_of_the_persons_case(client, session, counsellor, case, csrf):
    assert client.get(f"/cases/{case.id}").status_code == 200
    assert _reads(session) == [(counsellor.id, "case", case.id, case.beneficiary_id)]
    [entry] = session.exec(select(AuditEvent).where(AuditEvent.action == "read")).all()
    assert (entry.actor_role, entry.operator_id) == ("counsellor", case.operator_id)


def test_the_beneficiary_page_records_a_read(client, session, counsellor, case, csrf):
    person = case.beneficiary_id
    assert client.get(f"/beneficiaries/{person}").status_code == 200
    assert _reads(session) == [(counsellor.id, "beneficiary", person, person)]


def test_a_refused_page_records_nothing(client, session, case, bre):
    from tests.factories import log_in, make_staff

    log_in(client, session, make_staff(session, bre))
    assert client.get(f"/cases/{case.id}").status_code == 404
    assert _reads(session) == []


def test_api_reads_of_a_case_and_a_person_are_recorded(api, session, counsellor, case):
    assert api.get(f"/api/v1/cases/{case.id}").status_code == 200
    assert api.get(f"/api/v1/beneficiaries/{case.beneficiary_id}").status_code == 200
    person = case.beneficiary_id
    assert _reads(session) == [
        (counsellor.id, "case", case.id, person),
        (counsellor.id, "beneficiary", person, person),
    ]


def test_a_document_pdf_download_records_a_read(client, session, counsellor, case, csrf):
    deliverable = start(client, session, case, csrf)
    assert client.get(f"/deliverables/{deliverable.id}/preview").status_code == 200
    assert _reads(session) == [(counsellor.id, "deliverable", deliverable.id, case.beneficiary_id)]


def test_an_attachment_download_records_a_read(client, session, counsellor, case, csrf):
    from app.models.attachments import Attachment

    upload(client, case, csrf)
    attachment = session.exec(select(Attachment)).one()
    assert client.get(f"/attachments/{attachment.id}/download").status_code == 200
    assert _reads(session) == [(counsellor.id, "attachment", attachment.id, case.beneficiary_id)]


def test_the_document_editor_page_records_a_read(client, session, counsellor, case, csrf):
    deliverable = start(client, session, case, csrf)
    assert client.get(f"/deliverables/{deliverable.id}").status_code == 200
    entry = (counsellor.id, "deliverable_editor", deliverable.id, case.beneficiary_id)
    assert _reads(session) == [entry]


def test_the_action_plan_page_records_a_read(client, session, counsellor, case, csrf):
    assert client.get(f"/cases/{case.id}/plan").status_code == 200
    assert _reads(session) == [(counsellor.id, "action_plan", case.id, case.beneficiary_id)]


def test_api_lists_record_one_entry_per_request_naming_the_list(api, session, counsellor, case):
    assert api.get("/api/v1/cases").status_code == 200
    assert api.get("/api/v1/beneficiaries").status_code == 200
    assert api.get("/api/v1/beneficiaries", params={"q": "a"}).status_code == 200
    assert api.get("/api/v1/triage").status_code == 200
    assert _reads(session) == [
        (counsellor.id, "case_list", None, None),
        (counsellor.id, "beneficiary_list", None, None),
        (counsellor.id, "beneficiary_search", None, None),
        (counsellor.id, "triage_list", None, None),
    ]
    operators = {e.operator_id for e in session.exec(select(AuditEvent)).all()}
    assert operators == {counsellor.operator_id}


def test_api_read_of_a_cases_interactions_is_recorded(api, session, counsellor, case):
    assert api.get(f"/api/v1/cases/{case.id}/interactions").status_code == 200
    entry = (counsellor.id, "case_interactions", case.id, case.beneficiary_id)
    assert _reads(session) == [entry]


def test_an_api_list_refused_records_nothing(client, session, observer):
    from tests.factories import bearer

    assert client.get("/api/v1/cases", headers=bearer(observer)).status_code == 403
    assert _reads(session) == []
