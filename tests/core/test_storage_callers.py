"""Every kind of file the app keeps, on both back-ends (the local directory and a real S3
server): attachments, issued PDFs, proof packs, access archives, operators' logos. What goes in
comes out through the routes and their rights checks; the row and the file are both kept or
neither is."""

import io
import zipfile

import pytest
from sqlmodel import select

from app.core.config import get_settings
from app.core.db import savepoint
from app.core.errors import Conflict, StorageUnavailable
from app.core.storage import sha256_of
from app.models.attachments import Attachment
from app.models.control import PackStatus
from app.models.deliverables import Deliverable, DeliverableStatus, DeliverableVersion
from app.models.nomenclatures import Role
from app.services.control.proof_pack import MANIFEST_JSON, build_campaign_pack
from app.services.deliverables.documents import issue_deliverable
from app.services.privacy.access_archive import build_pending_archives, request_archive
from tests.admin.test_operator_identity_routes import png
from tests.admin.test_operator_identity_routes import upload as upload_logo
from tests.control.test_campaigns import campaign_of, proven_case
from tests.deliverables.test_attachments_routes import attachment_count, upload
from tests.factories import PDF, log_in, make_staff
from tests.privacy.test_access_archive import access_request
from tests.privacy.test_access_archive import two_people as two_people  # a fixture

MB = 1024 * 1024


def big_pdf(size: int) -> bytes:
    return PDF + b"%" + b"0" * (size - len(PDF) - 2) + b"\n"


def test_an_attachment_goes_in_and_comes_out_through_the_routes(
    client, session, case, csrf, storage, monkeypatch
):
    monkeypatch.setattr(get_settings(), "max_upload_mb", 12)
    content = big_pdf(10 * MB)  # above the size sent in parts to S3
    assert upload(client, case, csrf, content=content).status_code == 303
    attachment = session.exec(select(Attachment)).one()
    assert list(storage.keys()) == [attachment.storage_key]
    assert attachment.sha256 == sha256_of(content)
    response = client.get(f"/attachments/{attachment.id}/download")
    assert response.status_code == 200 and response.content == content


def test_an_upload_during_an_outage_is_refused_in_french_and_keeps_no_row(
    client, session, case, csrf, s3_outage
):
    response = upload(client, case, csrf)
    assert response.status_code == 503
    assert "Le stockage des fichiers ne répond pas" in response.text
    assert attachment_count(session) == 0


def test_a_download_during_an_outage_is_a_french_page(
    client, session, case, csrf, s3_storage, monkeypatch
):
    upload(client, case, csrf)
    attachment = session.exec(select(Attachment)).one()
    monkeypatch.setattr(get_settings(), "storage_endpoint_url", "http://127.0.0.1:9")
    response = client.get(f"/attachments/{attachment.id}/download")
    assert response.status_code == 503 and "Le stockage des fichiers" in response.text


def test_an_issued_pdf_keeps_its_hash_and_a_refused_row_keeps_no_file(session, counsellor, storage):
    _case, _episode, version = proven_case(session, counsellor)
    assert sha256_of(storage.read(version.storage_key)) == version.sha256
    # The same version number issued again: the database refuses the row, the file goes too.
    deliverable = session.get(Deliverable, version.deliverable_id)
    deliverable.version_count, deliverable.status = 0, DeliverableStatus.DRAFT
    session.add(deliverable)
    session.flush()
    with pytest.raises(Conflict), savepoint(session):
        issue_deliverable(session=session, actor=counsellor, deliverable_id=deliverable.id)
    assert list(storage.keys()) == [version.storage_key]


def test_issuing_during_an_outage_keeps_no_version(session, counsellor, s3_outage):
    with pytest.raises(StorageUnavailable):
        proven_case(session, counsellor)
    assert session.exec(select(DeliverableVersion)).all() == []


def test_a_proof_pack_holds_the_issued_pdf_verified_and_is_served(
    client, session, counsellor, manager, storage
):
    _case, _episode, version = proven_case(session, counsellor)
    campaign = campaign_of(session, manager)
    assert build_campaign_pack(session.connection(), campaign.id)
    session.refresh(campaign)
    assert campaign.status == PackStatus.READY, campaign.error
    assert sorted(storage.keys()) == sorted([version.storage_key, campaign.pack_key])
    log_in(client, session, manager)
    response = client.get(
        f"/rapports/controles/{campaign.id}/dossier-de-preuves.zip?finalite=demande_personne"
    )
    assert response.status_code == 200 and sha256_of(response.content) == campaign.pack_sha256
    archive = zipfile.ZipFile(io.BytesIO(response.content))
    manifest = archive.read(MANIFEST_JSON).decode()
    assert version.sha256 in manifest


def test_a_stored_pdf_that_changed_fails_the_pack(session, counsellor, manager, storage):
    _, _, version = proven_case(session, counsellor)
    version.storage_key = storage.save(b"%PDF-1.7 not what was issued")
    session.add(version)
    session.flush()
    campaign = campaign_of(session, manager)
    with pytest.raises(Exception, match="empreinte"):
        build_campaign_pack(session.connection(), campaign.id)
    session.refresh(campaign)
    assert campaign.status == PackStatus.FAILED and campaign.pack_key is None


def test_an_access_archive_is_built_and_served_to_the_admin(
    client,
    session,
    admin,
    storage,  # before two_people: its files go to the store tested
    two_people,
):
    (person, _case), _other = two_people
    request = access_request(session, admin, person)
    archive = request_archive(session=session, actor=admin, request_id=request.id)
    assert build_pending_archives(session.connection()) == [archive.id]
    session.refresh(archive)
    log_in(client, session, admin)
    response = client.get(f"/admin/droits/archives/{archive.id}.zip")
    assert response.status_code == 200
    names = zipfile.ZipFile(io.BytesIO(response.content)).namelist()
    assert any(name.startswith("pieces-jointes/") for name in names)


def test_an_operators_logo_is_kept_and_served(client, session, ara, storage):
    csrf = log_in(client, session, make_staff(session, ara, Role.OPERATOR_ADMIN))
    assert upload_logo(client, csrf, png()).status_code == 303
    session.refresh(ara)
    assert list(storage.keys()) == [ara.logo_key]
    assert client.get("/logos/ARA").content == storage.read(ara.logo_key)
    upload_logo(client, csrf, png(900, 300))
    session.refresh(ara)
    assert list(storage.keys()) == [ara.logo_key]  # the earlier one is gone
