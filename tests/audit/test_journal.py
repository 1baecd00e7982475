"""« Journal des accès »: the operator's trail for its administrators, filtered and exported;
« Qui a consulté ce dossier » on the person's page."""

import csv
import io
import re
from datetime import timedelta

import pytest
from sqlmodel import select

from app.models.audit import AuditAction, AuditEvent
from app.models.base import utcnow
from app.models.nomenclatures import Role
from app.services.audit.changes import PERSONAL_RECORDS
from app.services.audit.journal import RECORD_KINDS
from app.services.audit.trail import record
from tests.conftest import ROOT
from tests.factories import log_in, make_case, make_staff, read


def _read_by(session, actor, case, *, reason=None):
    return record(
        session,
        actor=actor,
        action=AuditAction.READ,
        record_type="case",
        record_id=case.id,
        beneficiary_id=case.beneficiary_id,
        reason=reason,
    )


@pytest.fixture
def entries(session, counsellor, case, bre):
    """A read of ARA's case by its counsellor, and one by a BRE colleague of BRE's own."""
    mine = _read_by(session, counsellor, case, reason="Préparer l'entretien")
    stranger = make_staff(session, bre, full_name="Yann Le Goff")
    theirs = make_case(session, stranger)
    _read_by(session, stranger, theirs)
    return mine


def test_the_admin_reads_the_operators_trail_and_nothing_of_another(
    client, session, admin, entries, counsellor, case
):
    log_in(client, session, admin)
    page = read(client.get("/admin/journal"))
    assert "Journal des accès" in page
    assert "Camille Martin" in page and "Préparer l'entretien" in page
    assert f'href="/cases/{case.id}"' in page
    assert "Yann Le Goff" not in page


@pytest.mark.parametrize("role", [Role.COUNSELLOR, Role.MANAGER, Role.SYSADMIN])
def test_others_than_the_operator_admin_are_refused(client, session, ara, role):
    log_in(client, session, make_staff(session, ara if role != Role.SYSADMIN else None, role))
    assert client.get("/admin/journal").status_code in (403, 404)
    assert client.get("/admin/journal.csv").status_code in (403, 404)


def test_filters_by_person_staff_action_and_period(
    client, session, admin, entries, counsellor, case, manager
):
    other = make_case(session, counsellor)
    _read_by(session, manager, other)
    log_in(client, session, admin)
    by_reference = read(client.get("/admin/journal", params={"personne": case.reference}))
    assert "Préparer l'entretien" in by_reference and f"n° {other.id}" not in by_reference
    by_staff = read(client.get("/admin/journal", params={"agent": manager.id}))
    assert f"/cases/{other.id}" in by_staff and f'href="/cases/{case.id}"' not in by_staff
    exports = read(client.get("/admin/journal", params={"action": "export"}))
    assert "Aucune entrée pour ces filtres." in exports
    tomorrow = (utcnow() + timedelta(days=2)).date().isoformat()
    later = read(client.get("/admin/journal", params={"du": tomorrow}))
    assert "Aucune entrée pour ces filtres." in later


def test_a_name_finds_the_persons_entries(client, session, admin, entries, case):
    from app.models.beneficiaries import Beneficiary

    person = session.get(Beneficiary, case.beneficiary_id)
    log_in(client, session, admin)
    page = read(client.get("/admin/journal", params={"personne": person.last_name}))
    assert "Préparer l'entretien" in page


def test_the_export_is_the_filtered_trail_and_is_itself_recorded(
    client, session, admin, entries, case
):
    log_in(client, session, admin)
    without_purpose = client.get("/admin/journal.csv", params={"action": "read"})
    assert without_purpose.status_code == 422 and "Finalité de l'export" in without_purpose.text
    answer = client.get(
        "/admin/journal.csv", params={"action": "read", "finalite": "controle_acces"}
    )
    assert answer.status_code == 200
    assert answer.headers["content-disposition"].startswith("attachment; ")
    rows = list(csv.reader(io.StringIO(answer.content.decode("utf-8-sig")), delimiter=";"))
    assert rows[0][:4] == ["Date et heure", "Qui", "Rôle", "Action"]
    assert [row[1] for row in rows[1:]] == ["Camille Martin"]
    assert rows[1][-1] == "Préparer l'entretien"
    exports = session.exec(select(AuditEvent).where(AuditEvent.action == "export")).all()
    assert [(e.actor_id, e.record_type, e.reason) for e in exports] == [
        (admin.id, "audit_trail", "Contrôle des accès aux données")
    ]


def test_pages_go_on_past_fifty_entries(client, session, admin, counsellor, case):
    for _ in range(51):
        _read_by(session, counsellor, case)
    log_in(client, session, admin)
    first = client.get("/admin/journal")
    assert 'rel="next"' in first.text and first.text.count('data-label="Qui"') == 50
    second = client.get("/admin/journal", params={"page": 2})
    assert second.text.count('data-label="Qui"') >= 1 and 'rel="prev"' in second.text


def test_the_admin_index_and_security_page_link_to_the_trail(client, session, admin):
    log_in(client, session, admin)
    assert 'href="/admin/journal"' in client.get("/admin").text
    assert 'href="/admin/journal"' in client.get("/admin/securite").text


def test_the_persons_page_shows_who_accessed_it_to_the_counsellor(
    client, session, entries, counsellor, case, csrf
):
    page = read(client.get(f"/beneficiaries/{case.beneficiary_id}"))
    assert "Qui a consulté ce dossier" in page and "Préparer l'entretien" in page
    assert "/admin/journal?personne=" not in page  # the trail itself is the admin's


def test_the_admin_gets_a_link_to_the_persons_whole_trail(client, session, entries, admin, case):
    log_in(client, session, admin)
    page = client.get(f"/beneficiaries/{case.beneficiary_id}").text
    assert f'href="/admin/journal?personne={case.beneficiary_id}"' in page


def test_a_colleague_reading_with_a_reason_does_not_see_who_accessed(
    client, session, ara, entries, case
):
    ara.reason_for_outside_reads = False
    session.add(ara)
    colleague = make_staff(session, ara)
    log_in(client, session, colleague)
    page = read(client.get(f"/beneficiaries/{case.beneficiary_id}"))
    assert "Qui a consulté ce dossier" not in page


# How the app names the kind of record it writes in the trail: literally, or as a sign-in's way.
WRITTEN_KIND = re.compile(r'record_type="(\w+)"|signed_(?:in|out)\([^)]*via="(\w+)"')


def test_every_kind_of_record_the_trail_names_is_in_words():
    """A kind the app writes with no label would show as its code in the journal
    (« deliverable_version n° 1 »)."""
    written = set(PERSONAL_RECORDS.values())
    for path in (ROOT / "app").rglob("*.py"):
        for kinds in WRITTEN_KIND.findall(path.read_text(encoding="utf-8")):
            written |= set(kinds) - {""}
    assert {"proof_pack", "staff_session", "deliverable_version"} <= written  # the scan finds them
    assert sorted(written - RECORD_KINDS.keys()) == []
