"""« Télécharger le dossier » over HTTP: the page, the ZIP streamed from a scratch file that
is gone afterwards, who may (the case's counsellors, their managers, the operator's admins;
a colleague outside the case or another operator gets 404, whatever the reason setting), the form
again with the French message when something is wrong, and the operator's file-name setting."""

import io
import zipfile

import pytest
from sqlmodel import select

from app.core.storage import sha256_of
from app.models.audit import AuditAction, AuditEvent
from app.models.nomenclatures import Role
from app.models.staff import StaffSite
from app.services.deliverables.documents import issue_deliverable
from tests.factories import (
    PDF,
    draft,
    kept_file,
    log_in,
    make_case,
    make_episode,
    make_interaction,
    make_site,
    make_staff,
    read,
)

PURPOSE = "finalite=demande_personne"


@pytest.fixture(autouse=True)
def fast_pdfs(monkeypatch, storage_dir):
    monkeypatch.setattr(
        "app.services.deliverables.documents.render_deliverable_pdf",
        lambda content: PDF + f"% v{content['version']}\n".encode(),
    )


@pytest.fixture
def site(session, ara, counsellor):
    """The counsellor's site, where the case is followed."""
    site = make_site(session, ara)
    session.add(StaffSite(staff_id=counsellor.id, site_id=site.id))
    session.flush()
    return site


@pytest.fixture
def filed(session, counsellor, site):
    """A case with one issued document, an attachment, and a private note."""
    case = make_case(session, counsellor, site_id=site.id)
    episode = make_episode(session, counsellor, case, "UO1")
    make_interaction(session, counsellor, case, private_notes="Confidence à ne pas sortir")
    deliverable = draft(session, counsellor, case, episode=episode)
    version = issue_deliverable(session=session, actor=counsellor, deliverable_id=deliverable.id)
    attachment = kept_file(session, counsellor, case, filename="Relevé de carrière.pdf")
    return case, version, attachment


def zip_of(response) -> zipfile.ZipFile:
    return zipfile.ZipFile(io.BytesIO(response.content))


def exports(session) -> list[AuditEvent]:
    query = select(AuditEvent).where(AuditEvent.record_type == "case_file")
    return [e for e in session.exec(query) if e.action == AuditAction.EXPORT.value]


def test_the_case_page_offers_the_download(client, session, counsellor, filed):
    case, _, _ = filed
    log_in(client, session, counsellor)
    page = read(client.get(f"/cases/{case.id}?section=documents"))
    assert f'href="/cases/{case.id}/dossier"' in page and "Télécharger le dossier" in page


def test_the_page_lists_the_documents_and_no_attachment_is_ticked(
    client, session, counsellor, filed
):
    case, _, attachment = filed
    log_in(client, session, counsellor)
    response = client.get(f"/cases/{case.id}/dossier")
    assert response.status_code == 200
    page = read(response)
    assert "Document de synthèse, version 1" in page and "Relevé de carrière.pdf" in page
    assert f'value="{attachment.id}">' in response.text  # there, not checked
    assert "checked" not in response.text.split('id="pieces-title"')[1].split("</fieldset>")[0]
    assert "Confidence" not in response.text


def test_the_zip_is_streamed_with_the_chosen_attachment_and_its_scratch_file_is_gone(
    client, session, counsellor, filed, storage_dir
):
    case, version, attachment = filed
    log_in(client, session, counsellor)
    response = client.get(f"/cases/{case.id}/dossier.zip?{PURPOSE}&pieces={attachment.id}")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/zip"
    disposition = response.headers["content-disposition"]
    assert f'filename="{case.reference}_dossier_' in disposition
    assert int(response.headers["content-length"]) == len(response.content)
    archive = zip_of(response)
    pdf = next(n for n in archive.namelist() if "/livrables/" in n)
    assert sha256_of(archive.read(pdf)) == version.sha256
    pieces = [n for n in archive.namelist() if "/pieces-jointes/" in n]
    assert len(pieces) == 1 and sha256_of(archive.read(pieces[0])) == attachment.sha256
    assert list((storage_dir / "tmp").iterdir()) == []
    assert len(exports(session)) == 1


def test_private_notes_are_not_in_the_zip(client, session, counsellor, filed):
    case, _, attachment = filed
    log_in(client, session, counsellor)
    archive = zip_of(client.get(f"/cases/{case.id}/dossier.zip?{PURPOSE}&pieces={attachment.id}"))
    assert all(b"Confidence" not in archive.read(name) for name in archive.namelist())


def test_staff_of_another_operator_get_404(client, session, bre, filed):
    case, _, _ = filed
    log_in(client, session, make_staff(session, bre))
    assert client.get(f"/cases/{case.id}/dossier").status_code == 404
    assert client.get(f"/cases/{case.id}/dossier.zip?{PURPOSE}").status_code == 404
    assert exports(session) == []


@pytest.mark.parametrize("reasons", [True, False])
def test_a_colleague_outside_the_case_finds_no_file_whatever_the_reason_setting(
    client, session, ara, filed, reasons
):
    """Reading the case (with a reason) is not taking its whole file: 404, page and ZIP, even
    with a purpose, a reason given, or without a purpose (the form's error page)."""
    case, _, _ = filed
    ara.reason_for_outside_reads = reasons
    session.add(ara)
    session.flush()
    csrf = log_in(client, session, make_staff(session, ara))
    url = f"/cases/{case.id}/dossier.zip?{PURPOSE}"
    client.post(
        f"/beneficiaries/{case.beneficiary_id}/motif",
        data={"csrf_token": csrf, "reason": "Remplacement de Camille", "suite": url},
    )
    documents = client.get(f"/cases/{case.id}?section=documents")
    assert documents.status_code == 200 and "Télécharger le dossier" not in documents.text
    for path in (f"/cases/{case.id}/dossier", url, f"/cases/{case.id}/dossier.zip?pieces=1"):
        refused = client.get(path, follow_redirects=False)
        assert refused.status_code == 404, path
        assert "Relevé de carrière" not in refused.text
    query = select(AuditEvent).where(AuditEvent.record_type == "case_file")
    assert list(session.exec(query)) == []


def test_a_manager_of_another_site_finds_no_file(client, session, ara, filed):
    case, _, _ = filed
    manager = make_staff(session, ara, Role.MANAGER)
    session.add(StaffSite(staff_id=manager.id, site_id=make_site(session, ara).id))
    session.flush()
    log_in(client, session, manager)
    assert client.get(f"/cases/{case.id}/dossier").status_code == 404
    assert client.get(f"/cases/{case.id}/dossier.zip?{PURPOSE}").status_code == 404


def test_a_counsellor_who_recorded_a_contact_and_the_referents_manager_download(
    client, session, ara, counsellor, filed
):
    case, _, _ = filed
    ara.reason_for_outside_reads = False
    session.add(ara)
    colleague = make_staff(session, ara)
    make_interaction(session, colleague, case)
    manager = make_staff(session, ara, Role.MANAGER)  # of another site the referent works at
    other_site = make_site(session, ara)
    session.add(StaffSite(staff_id=manager.id, site_id=other_site.id))
    session.add(StaffSite(staff_id=counsellor.id, site_id=other_site.id))
    session.flush()
    for user in (colleague, manager):
        log_in(client, session, user)
        assert client.get(f"/cases/{case.id}/dossier.zip?{PURPOSE}").status_code == 200


def test_the_form_again_is_recorded_as_a_read_of_the_case_file(client, session, counsellor, filed):
    case, _, _ = filed
    log_in(client, session, counsellor)
    assert client.get(f"/cases/{case.id}/dossier.zip").status_code == 422
    query = select(AuditEvent).where(AuditEvent.record_type == "case_file")
    assert [e.action for e in session.exec(query)] == [AuditAction.READ.value]


@pytest.mark.parametrize("role", [Role.MANAGER, Role.OPERATOR_ADMIN])
def test_the_case_counsellors_managers_and_the_operators_admins_download(
    client, session, ara, site, filed, role
):
    case, version, _ = filed
    user = make_staff(session, ara, role)
    if role == Role.MANAGER:  # the manager of the case's site
        session.add(StaffSite(staff_id=user.id, site_id=site.id))
        session.flush()
    log_in(client, session, user)
    assert client.get(f"/cases/{case.id}/dossier").status_code == 200
    response = client.get(f"/cases/{case.id}/dossier.zip?{PURPOSE}")
    assert response.status_code == 200
    names = zip_of(response).namelist()
    assert any("/livrables/" in n for n in names)
    assert exports(session)[0].actor_id == user.id


def test_without_its_purpose_the_form_comes_back_with_what_was_ticked(
    client, session, counsellor, filed
):
    case, _, attachment = filed
    log_in(client, session, counsellor)
    response = client.get(f"/cases/{case.id}/dossier.zip?pieces={attachment.id}")
    assert response.status_code == 422
    assert "Indiquez la finalité de l'export" in read(response)
    assert f'value="{attachment.id}" checked' in response.text
    response = client.get(f"/cases/{case.id}/dossier.zip?pseudonymise=1")
    assert response.status_code == 422
    assert "Indiquez la finalité de l'export" in read(response)
    assert (
        'id="pseudonymise" name="pseudonymise" value="1" aria-describedby="pseudonymise-hint" checked'
        in response.text
    )
    assert exports(session) == []


def test_pseudonymised_the_attachments_are_refused_in_french(client, session, counsellor, filed):
    case, _, attachment = filed
    log_in(client, session, counsellor)
    url = f"/cases/{case.id}/dossier.zip?{PURPOSE}&pieces={attachment.id}&pseudonymise=1"
    response = client.get(url)
    assert response.status_code == 422
    page = read(response)
    assert "Pseudonymiser le dossier" in page
    assert "Un dossier pseudonymisé ne contient pas de pièces jointes" in page
    assert exports(session) == []


def test_a_pdf_that_changed_shows_the_french_message_and_leaves_nothing(
    client, session, counsellor, filed, storage_dir
):
    case, version, _ = filed
    version.sha256 = "0" * 64
    session.add(version)
    session.flush()
    log_in(client, session, counsellor)
    response = client.get(f"/cases/{case.id}/dossier.zip?{PURPOSE}")
    assert response.status_code == 409
    page = read(response)
    assert f"« Document de synthèse » v1 du dossier {case.reference}" in page
    assert "ne correspond plus à l'empreinte SHA-256" in page
    assert list((storage_dir / "tmp").iterdir()) == []
    assert exports(session) == []


def test_another_cases_attachment_is_refused(client, session, counsellor, filed):
    case, _, _ = filed
    other = kept_file(session, counsellor, make_case(session, counsellor))
    log_in(client, session, counsellor)
    response = client.get(f"/cases/{case.id}/dossier.zip?{PURPOSE}&pieces={other.id}")
    assert response.status_code == 404
    assert "n'appartient pas au dossier" in read(response)
    assert exports(session) == []


def test_the_admin_puts_names_in_file_names_from_the_security_page(
    client, session, ara, admin, counsellor, filed
):
    case, _, _ = filed
    assert ara.person_names_in_file_names is False  # off by default
    csrf = log_in(client, session, admin)
    page = read(client.get("/admin/securite"))
    assert "Noms des personnes dans les noms de fichiers" in page
    saved = client.post(
        "/admin/securite/noms-de-fichiers",
        data={"csrf_token": csrf, "operator_id": str(ara.id), "person_names_in_file_names": "1"},
        follow_redirects=False,
    )
    assert saved.status_code == 303 and saved.headers["location"].endswith("#noms-de-fichiers")
    session.refresh(ara)
    assert ara.person_names_in_file_names is True
    log_in(client, session, counsellor)
    names = zip_of(client.get(f"/cases/{case.id}/dossier.zip?{PURPOSE}")).namelist()
    assert [n for n in names if "/livrables/" in n and "_zoe-lefevre" in n]


def test_a_counsellor_cannot_change_the_file_name_setting(client, session, ara, counsellor):
    csrf = log_in(client, session, counsellor)
    answer = client.post(
        "/admin/securite/noms-de-fichiers",
        data={"csrf_token": csrf, "person_names_in_file_names": "1"},
        follow_redirects=False,
    )
    assert answer.status_code in (403, 404)
    session.refresh(ara)
    assert ara.person_names_in_file_names is False
