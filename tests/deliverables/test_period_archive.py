"""« Archive des livrables »: what the filters select, who may ask and download, the limit on
its size, and the worker's build — a folder per case, every PDF checked against its issue hash,
a manifest whose hashes match the files, UTF-8 names, cancellation, a stopping worker, expiry."""

import base64
import codecs
import csv
import hashlib
import io
import json
import threading
import zipfile
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import event
from sqlmodel import select

from app.core.config import get_settings
from app.core.errors import Conflict, Forbidden, Invalid, NotFound
from app.core.storage import get_storage
from app.core.zip_entries import UTF8_FLAG
from app.models.audit import AuditEvent
from app.models.beneficiaries import Beneficiary
from app.models.deliverable_archives import (
    ArchiveContent,
    ArchiveFilters,
    ArchiveStatus,
    DeliverableArchive,
)
from app.models.deliverables import Deliverable, DeliverableVersion
from app.models.nomenclatures import Role
from app.models.notifications import Notification, NotificationKind
from app.models.operators import Operator
from app.models.staff import StaffSite
from app.services.deliverables import archive_build
from app.services.deliverables.archive_build import (
    MANIFEST_CSV,
    MANIFEST_JSON,
    MANIFEST_SHA256,
    build_claimed,
    build_pending_period_archives,
    build_period_archive,
)
from app.services.deliverables.feed_order import next_feed_seq
from app.services.deliverables.file_names import deliverable_file_name, safe_part
from app.services.deliverables.period_archive import (
    cancel_archive,
    count_documents,
    delete_expired_period_archives,
    load_archive,
    request_archive,
)
from app.services.deliverables.pseudonyms import pseudonym
from app.services.jobs.leases import LeaseReleased, claim
from tests.factories import deliverable_kind, log_in, make_case, make_site, make_staff

IN_MARCH = datetime(2026, 3, 10, 9, 0, tzinfo=UTC)
MARCH = {"start": date(2026, 3, 1), "end": date(2026, 3, 31)}
PURPOSE = {"finalite": "autre", "finalite_precision": "Archivage annuel"}

pytestmark = pytest.mark.usefixtures("storage_dir")


def pdf(text: str) -> bytes:
    return f"%PDF-1.7\n% {text}\n%%EOF\n".encode()


def issue(session, case, kind_code: str, by, *, at=IN_MARCH, versions=1) -> Deliverable:
    """A deliverable of the case with `versions` issued versions, a day apart from `at`, each
    PDF kept in the storage with its SHA-256, as issuing records them."""
    kind = deliverable_kind(session, case.operator_id, kind_code)
    deliverable = Deliverable(
        operator_id=case.operator_id,
        case_id=case.id,
        kind_id=kind.id,
        title=kind.label,
        status="issued",
        version_count=versions,
    )
    session.add(deliverable)
    session.flush()
    for number in range(1, versions + 1):
        content = pdf(f"{case.reference} {kind_code} v{number}")
        session.add(
            DeliverableVersion(
                operator_id=case.operator_id,
                deliverable_id=deliverable.id,
                number=number,
                storage_key=get_storage().save(content),
                sha256=hashlib.sha256(content).hexdigest(),
                size_bytes=len(content),
                issued_at=at + timedelta(days=number - 1),
                issued_by_id=by.id,
                feed_seq=next_feed_seq(session, case.operator_id),
            )
        )
    session.flush()
    return deliverable


@pytest.fixture
def lyon(session, ara):
    return make_site(session, ara, name="Lyon Confluence")


@pytest.fixture
def grenoble(session, ara):
    return make_site(session, ara, name="Grenoble", postcode="38000", city="Grenoble")


@pytest.fixture
def world(session, ara, counsellor, manager, lyon, grenoble):
    """In Lyon, a case with a summary issued twice in March and a report; in Grenoble, a case
    with a summary, issued by a colleague; one more summary in April. The manager works in
    Lyon."""
    colleague = make_staff(session, ara, full_name="Bruno Durand")
    session.add(StaffSite(staff_id=manager.id, site_id=lyon.id))
    session.add(StaffSite(staff_id=counsellor.id, site_id=lyon.id))
    session.add(StaffSite(staff_id=colleague.id, site_id=grenoble.id))
    in_lyon = make_case(session, counsellor, site_id=lyon.id)
    in_grenoble = make_case(session, colleague, site_id=grenoble.id)
    summary = issue(session, in_lyon, "document_synthese", counsellor, versions=2)
    report = issue(session, in_lyon, "synthese_entretien", counsellor)
    issue(session, in_grenoble, "document_synthese", colleague)
    issue(session, in_lyon, "document_synthese", counsellor, at=IN_MARCH + timedelta(days=40))
    return {
        "lyon_case": in_lyon,
        "grenoble_case": in_grenoble,
        "summary": summary,
        "report": report,
        "colleague": colleague,
    }


def filters(**changes) -> ArchiveFilters:
    return ArchiveFilters(**{**MARCH, **changes})


def built(session, archive: DeliverableArchive) -> zipfile.ZipFile:
    assert build_pending_period_archives(session.connection()) == [archive.id]
    session.refresh(archive)
    assert archive.status == ArchiveStatus.READY, archive.error
    return zipfile.ZipFile(io.BytesIO(get_storage().read(archive.storage_key)))


def stored_keys() -> set[str]:
    return set(get_storage().keys())


# ---- what the filters select -------------------------------------------------------------------


def test_the_period_sites_counsellors_and_kinds_narrow_the_documents(
    session, admin, world, lyon, grenoble
):
    def count(**changes):
        return count_documents(session=session, actor=admin, filters=filters(**changes))

    assert count() == 4  # 2 versions + the report in Lyon, 1 in Grenoble; April's left out
    assert count(site_ids=[lyon.id]) == 3
    assert count(site_ids=[grenoble.id]) == 1
    assert count(counsellor_ids=[world["colleague"].id]) == 1
    report_kind = deliverable_kind(session, admin.operator_id, "synthese_entretien")
    assert count(kind_ids=[report_kind.id]) == 1
    assert count(content=ArchiveContent.LATEST_VERSION) == 3
    assert count(end=date(2026, 4, 30)) == 5


def test_the_latest_version_of_each_document_is_the_highest_number_issued_in_the_period(
    session, admin, world
):
    archive = request_archive(
        session=session, actor=admin, filters=filters(content=ArchiveContent.LATEST_VERSION)
    )
    zipped = built(session, archive)
    names = [name for name in zipped.namelist() if name.endswith(".pdf")]
    assert len(names) == 3
    assert not any("_v1_" in name and "document-de-synthese" in name for name in names
                   if name.startswith(world["lyon_case"].reference))  # fmt: skip


def test_the_period_is_cut_in_each_cases_site_time_zone(session, ara, admin, counsellor):
    """Réunion is UTC+4, Paris UTC+1/+2: the files are dated in the site's zone, so is the
    period. 21:00 UTC on 28 February is 1 March in Réunion; on 31 March, 1 April."""
    reunion = make_site(session, ara, name="Saint-Denis", time_zone="Indian/Reunion")
    case = make_case(session, counsellor, site_id=reunion.id)
    issue(
        session, case, "document_synthese", counsellor, at=datetime(2026, 2, 28, 21, 0, tzinfo=UTC)
    )
    issue(
        session, case, "synthese_entretien", counsellor, at=datetime(2026, 3, 31, 21, 0, tzinfo=UTC)
    )
    nowhere = make_case(session, counsellor)  # no site: the operator's zone (Paris)
    issue(
        session,
        nowhere,
        "document_synthese",
        counsellor,
        at=datetime(2026, 3, 31, 21, 0, tzinfo=UTC),
    )
    archive = request_archive(session=session, actor=admin, filters=filters())
    assert archive.documents_total == 2
    names = [name for name in built(session, archive).namelist() if name.endswith(".pdf")]
    assert any(name.startswith(case.reference) and name.endswith("_2026-03-01.pdf")
               for name in names)  # fmt: skip
    assert any(name.startswith(nowhere.reference) for name in names)


def test_the_latest_version_is_chosen_before_the_issuer_filter(session, admin, counsellor, world):
    """The summary's version 2 was issued by a colleague: for the counsellor, its version 1 is
    not « the latest version » of it."""
    second = session.exec(
        select(DeliverableVersion).where(
            DeliverableVersion.deliverable_id == world["summary"].id,
            DeliverableVersion.number == 2,
        )
    ).one()
    second.issued_by_id = world["colleague"].id
    session.add(second)
    session.flush()
    latest = filters(content=ArchiveContent.LATEST_VERSION, counsellor_ids=[counsellor.id])
    assert count_documents(session=session, actor=admin, filters=latest) == 1  # the report


def test_the_builder_packs_nothing_issued_after_the_request(session, admin, counsellor, world):
    archive = request_archive(session=session, actor=admin, filters=filters())
    archive.created_at = datetime(2026, 3, 20, tzinfo=UTC)
    session.add(archive)
    issue(
        session,
        world["lyon_case"],
        "document_synthese",
        counsellor,
        at=IN_MARCH + timedelta(days=15),
    )
    session.flush()
    zipped = built(session, archive)
    assert archive.documents_done == 4
    assert len([name for name in zipped.namelist() if name.endswith(".pdf")]) == 4


def test_the_builder_checks_the_limit_again(session, admin, world, monkeypatch):
    archive = request_archive(session=session, actor=admin, filters=filters())
    monkeypatch.setattr(get_settings(), "archive_max_documents", 3)
    with pytest.raises(Exception, match="période plus courte"):
        build_period_archive(session.connection(), archive.id)
    session.refresh(archive)
    assert archive.status == ArchiveStatus.FAILED and "au-delà des 3" in archive.error


# ---- who may ask ----------------------------------------------------------------------------


def test_a_counsellor_may_not_ask_for_an_archive(session, counsellor, world):
    with pytest.raises(Forbidden):
        request_archive(session=session, actor=counsellor, filters=filters())


def test_a_manager_archives_the_sites_they_work_at_only(session, manager, world, grenoble):
    assert count_documents(session=session, actor=manager, filters=filters()) == 3
    with pytest.raises(Invalid) as refused:
        request_archive(session=session, actor=manager, filters=filters(site_ids=[grenoble.id]))
    assert "site_ids" in refused.value.fields


def test_a_manager_follows_their_own_archives_not_an_admins(session, admin, manager, world):
    archive = request_archive(session=session, actor=admin, filters=filters())
    with pytest.raises(NotFound):
        load_archive(session=session, actor=manager, archive_id=archive.id)


def download_status(client, session, actor, archive) -> int:
    log_in(client, session, actor)
    url = f"/admin/archives-livrables/{archive.id}/archive.zip"
    return client.get(url, params=PURPOSE).status_code


def test_a_manager_who_lost_a_site_no_longer_downloads_its_archive(
    client, session, ara, manager, world
):
    archive = request_archive(session=session, actor=manager, filters=filters())
    built(session, archive)
    assert download_status(client, session, manager, archive) == 200
    moved = session.exec(select(StaffSite).where(StaffSite.staff_id == manager.id)).one()
    other = make_site(session, ara, name="Valence")
    session.delete(moved)
    session.add(StaffSite(staff_id=manager.id, site_id=other.id))
    session.flush()
    assert download_status(client, session, manager, archive) == 404


def test_an_admin_demoted_to_manager_no_longer_downloads_an_archive_of_every_case(
    client, session, admin, world, lyon
):
    archive = request_archive(session=session, actor=admin, filters=filters())
    built(session, archive)
    admin.role = Role.MANAGER.value
    session.add(StaffSite(staff_id=admin.id, site_id=lyon.id))
    session.add(admin)
    session.flush()
    assert download_status(client, session, admin, archive) == 404


def test_the_build_fails_when_the_requester_no_longer_covers_the_sites(session, manager, world):
    archive = request_archive(session=session, actor=manager, filters=filters())
    for held in session.exec(select(StaffSite).where(StaffSite.staff_id == manager.id)):
        session.delete(held)
    manager.role = Role.COUNSELLOR.value
    session.add(manager)
    session.flush()
    with pytest.raises(Exception, match="ne couvre plus"):
        build_period_archive(session.connection(), archive.id)
    session.refresh(archive)
    assert archive.status == ArchiveStatus.FAILED and "ne couvre plus" in archive.error
    assert archive.storage_key is None


def test_a_manager_covers_the_cases_their_sites_referents_follow_and_site_less_ones(
    session, manager, counsellor, world, grenoble
):
    """The rule of outside_reads.py: a case at another site, or at none, whose referent works
    at one of the manager's sites is theirs too."""
    elsewhere = make_case(session, counsellor, site_id=grenoble.id)
    nowhere = make_case(session, counsellor)
    assert nowhere.site_id is None
    issue(session, elsewhere, "document_synthese", counsellor)
    issue(session, nowhere, "document_synthese", counsellor)
    assert count_documents(session=session, actor=manager, filters=filters()) == 5


def test_a_manager_attached_to_no_site_leads_the_whole_team(session, manager, world):
    for held in session.exec(select(StaffSite).where(StaffSite.staff_id == manager.id)):
        session.delete(held)
    session.flush()
    assert count_documents(session=session, actor=manager, filters=filters()) == 4


def test_another_operators_archive_is_not_found(client, session, bre, admin, world):
    archive = request_archive(session=session, actor=admin, filters=filters())
    built(session, archive)
    outsider = make_staff(session, bre, Role.OPERATOR_ADMIN)
    log_in(client, session, outsider)
    for url in ("", "/progression", "/archive.zip?finalite=autre&finalite_precision=Archivage"):
        assert client.get(f"/admin/archives-livrables/{archive.id}{url}").status_code == 404
    csrf = log_in(client, session, outsider)
    answer = client.post(
        f"/admin/archives-livrables/{archive.id}/annuler", data={"csrf_token": csrf}
    )
    assert answer.status_code == 404


def test_an_archive_larger_than_the_limit_asks_for_a_narrower_period(
    client, session, admin, world, monkeypatch
):
    monkeypatch.setattr(get_settings(), "archive_max_documents", 3)
    with pytest.raises(Invalid) as refused:
        request_archive(session=session, actor=admin, filters=filters())
    assert "période plus courte" in refused.value.message
    assert "4 documents" in refused.value.message
    csrf = log_in(client, session, admin)
    form = {"du": "2026-03-01", "au": "2026-03-31", "csrf_token": csrf}
    counted = client.get("/admin/archives-livrables/decompte", params=form)
    assert "4 documents" in counted.text and "période plus courte" in counted.text
    answer = client.post("/admin/archives-livrables", data=form)
    assert answer.status_code == 422 and "période plus courte" in answer.text
    assert session.exec(select(DeliverableArchive)).all() == []


# ---- the archive --------------------------------------------------------------------------------


def test_every_file_matches_its_manifest_and_the_manifest_its_own_hash(session, admin, world):
    archive = request_archive(session=session, actor=admin, filters=filters())
    zipped = built(session, archive)
    listed = json.loads(zipped.read(MANIFEST_JSON))
    files = listed["fichiers"]
    assert len(files) == 4 and listed["documents"] == 4
    for entry in files:
        content = zipped.read(entry["fichier"])
        assert hashlib.sha256(content).hexdigest() == entry["sha256"]
        assert entry["fichier"].split("/")[0] == entry["dossier"]
    reference = world["lyon_case"].reference
    assert f"{reference}/{reference}_document-de-synthese_v2_2026-03-11.pdf" in zipped.namelist()
    rows = list(csv.reader(io.StringIO(zipped.read(MANIFEST_CSV).decode()), delimiter=";"))
    assert len(rows) == 5 and rows[0][-1] == "SHA-256"
    sums = dict(
        reversed(line.split("  ")) for line in zipped.read(MANIFEST_SHA256).decode().splitlines()
    )
    for name in (MANIFEST_CSV, MANIFEST_JSON):
        assert sums[name] == hashlib.sha256(zipped.read(name)).hexdigest()
    digest = hashlib.sha256(get_storage().read(archive.storage_key)).hexdigest()
    assert (archive.sha256, archive.documents_done) == (digest, 4)


def test_the_csv_manifest_has_a_bom_and_no_cell_runs_as_a_formula(session, admin, world):
    kind = deliverable_kind(session, admin.operator_id, "synthese_entretien")
    kind.label = "=HYPERLINK(1)"
    session.add(kind)
    session.flush()
    zipped = built(session, request_archive(session=session, actor=admin, filters=filters()))
    raw = zipped.read(MANIFEST_CSV)
    assert raw.startswith(codecs.BOM_UTF8)
    rows = list(csv.reader(io.StringIO(raw.decode("utf-8-sig")), delimiter=";"))
    assert rows[0][0] == "Dossier"
    kinds = [row[3] for row in rows]
    assert "'=HYPERLINK(1)" in kinds and "=HYPERLINK(1)" not in kinds


def test_the_manifest_names_each_file_as_written_in_the_zip(session, admin, world, monkeypatch):
    """Two names taken alike are made unique by the ZIP writer: the manifest says which."""
    issue(session, world["lyon_case"], "synthese_entretien", admin, versions=3)
    monkeypatch.setattr(archive_build, "deliverable_file_name", lambda *_a, **_k: "meme.pdf")
    zipped = built(session, request_archive(session=session, actor=admin, filters=filters()))
    listed = json.loads(zipped.read(MANIFEST_JSON))["fichiers"]
    assert len({entry["fichier"] for entry in listed}) == 7
    for entry in listed:
        assert hashlib.sha256(zipped.read(entry["fichier"])).hexdigest() == entry["sha256"]


def test_a_cancellation_does_not_overwrite_an_archive_just_built(session, admin, world):
    archive = request_archive(session=session, actor=admin, filters=filters())
    assert build_pending_period_archives(session.connection()) == [archive.id]
    assert archive.status == ArchiveStatus.REQUESTED  # what the page's session still holds
    with pytest.raises(Conflict):
        cancel_archive(session=session, actor=admin, archive_id=archive.id)
    session.refresh(archive)
    assert archive.status == ArchiveStatus.READY and archive.cancelled_at is None


def test_the_download_states_its_digest_in_base64(client, session, admin, world):
    archive = request_archive(session=session, actor=admin, filters=filters())
    built(session, archive)
    log_in(client, session, admin)
    download = client.get(f"/admin/archives-livrables/{archive.id}/archive.zip", params=PURPOSE)
    expected = base64.b64encode(hashlib.sha256(download.content).digest()).decode()
    assert download.headers["Digest"] == f"sha-256={expected}"


def test_the_count_is_asked_without_the_csrf_token(client, session, admin, world):
    log_in(client, session, admin)
    page = client.get("/admin/archives-livrables").text
    assert 'hx-params="not csrf_token"' in page
    # the live region stays; the count inside it is what the form replaces
    region = page.index('<div role="status">')
    assert page.index('<p id="archive-count">') > region
    assert page.count('role="status"') == 1


def names_on(session, operator_id: int):
    operator = session.get(Operator, operator_id)
    operator.person_names_in_file_names = True
    session.add(operator)
    session.flush()


def test_the_operators_setting_puts_the_persons_name_in_the_file_names(session, admin, world):
    names_on(session, admin.operator_id)
    person = session.get(Beneficiary, world["lyon_case"].beneficiary_id)
    zipped = built(session, request_archive(session=session, actor=admin, filters=filters()))
    surname = safe_part(person.last_name)
    lyon = [n for n in zipped.namelist() if n.startswith(world["lyon_case"].reference + "/")]
    assert lyon and all(surname in name for name in lyon)
    listed = json.loads(zipped.read(MANIFEST_JSON))["fichiers"]
    assert person.full_name in {entry["beneficiaire"] for entry in listed}


def test_a_pseudonymised_archive_keeps_names_out_of_its_files_and_manifest(session, admin, world):
    names_on(session, admin.operator_id)
    person = session.get(Beneficiary, world["lyon_case"].beneficiary_id)
    archive = request_archive(session=session, actor=admin, filters=filters(pseudonymise=True))
    zipped = built(session, archive)
    surname = safe_part(person.last_name)
    assert not [name for name in zipped.namelist() if surname in name]
    for name in (MANIFEST_CSV, MANIFEST_JSON):
        text = zipped.read(name).decode("utf-8-sig")
        assert person.last_name not in text and person.first_name not in text
    listed = json.loads(zipped.read(MANIFEST_JSON))
    assert listed["pseudonymise"] is True
    code = pseudonym(admin.operator_id, person.id)
    assert code in {entry["beneficiaire"] for entry in listed["fichiers"]}


def test_the_form_offers_the_pseudonymised_archive(client, session, admin, world):
    csrf = log_in(client, session, admin)
    assert "Pseudonymiser le manifeste" in client.get("/admin/archives-livrables").text
    form = {"du": "2026-03-01", "au": "2026-03-31", "pseudonymise": "1", "csrf_token": csrf}
    answer = client.post("/admin/archives-livrables", data=form, follow_redirects=False)
    assert answer.status_code == 303
    assert session.exec(select(DeliverableArchive)).one().filters["pseudonymise"] is True


def test_every_entry_declares_its_name_utf8(session, admin, world):
    zipped = built(session, request_archive(session=session, actor=admin, filters=filters()))
    assert all(info.flag_bits & UTF8_FLAG for info in zipped.infolist())


def test_a_version_deleted_by_anonymisation_is_listed_as_deleted_without_a_file(
    session, admin, world
):
    version = session.exec(
        select(DeliverableVersion).where(DeliverableVersion.deliverable_id == world["report"].id)
    ).one()
    get_storage().delete(version.storage_key)
    version.file_deleted_at = IN_MARCH + timedelta(days=100)
    session.add(version)
    session.flush()
    zipped = built(session, request_archive(session=session, actor=admin, filters=filters()))
    (deleted,) = [e for e in json.loads(zipped.read(MANIFEST_JSON))["fichiers"]
                  if e["document"] == world["report"].id]  # fmt: skip
    assert (deleted["statut"], deleted["fichier"], deleted["sha256"]) == (
        "Supprimé", "", version.sha256,
    )  # fmt: skip
    assert len([name for name in zipped.namelist() if name.endswith(".pdf")]) == 3


def test_the_requester_is_notified_when_it_is_ready(client, session, manager, world):
    archive = request_archive(session=session, actor=manager, filters=filters())
    built(session, archive)
    (told,) = session.exec(
        select(Notification).where(Notification.recipient_id == manager.id)
    ).all()
    assert told.kind == NotificationKind.ARCHIVE_READY
    assert told.link == f"/admin/archives-livrables/{archive.id}" and "3 documents" in told.text
    csrf = log_in(client, session, manager)
    assert "Archive des livrables prête" in client.get("/notifications").text
    opened = client.post(f"/notifications/{told.id}/ouvrir", data={"csrf_token": csrf},
                         follow_redirects=False)  # fmt: skip
    assert opened.headers["location"] == told.link


def test_the_notification_of_one_document_says_document(session, manager, world):
    one = filters(
        kind_ids=[deliverable_kind(session, manager.operator_id, "synthese_entretien").id]
    )
    archive = request_archive(session=session, actor=manager, filters=one)
    built(session, archive)
    told = session.exec(select(Notification).where(Notification.recipient_id == manager.id)).one()
    assert "1 document)" in told.text


def test_a_pdf_changed_since_its_issue_fails_the_build_naming_it_and_nothing_is_kept(
    client, session, admin, world
):
    version = session.exec(
        select(DeliverableVersion).where(DeliverableVersion.deliverable_id == world["report"].id)
    ).one()
    version.storage_key = get_storage().save(pdf("altered"))
    session.add(version)
    session.flush()
    archive = request_archive(session=session, actor=admin, filters=filters())
    before = stored_keys()
    with pytest.raises(Exception, match="empreinte SHA-256"):
        build_period_archive(session.connection(), archive.id)
    session.refresh(archive)
    assert archive.status == ArchiveStatus.FAILED and archive.storage_key is None
    kind = deliverable_kind(session, admin.operator_id, "synthese_entretien")
    name = deliverable_file_name(world["lyon_case"].reference, kind.label, 1, IN_MARCH)
    assert archive.error.startswith(f"Le document {name} (dossier ")
    assert "ne correspond plus à l'empreinte SHA-256" in archive.error
    assert stored_keys() == before
    scratch = get_storage().temporary_path().parent
    assert not [p for p in scratch.iterdir() if p.is_file()]
    log_in(client, session, admin)
    download = client.get(f"/admin/archives-livrables/{archive.id}/archive.zip", params=PURPOSE)
    assert download.status_code == 404
    page = client.get(f"/admin/archives-livrables/{archive.id}")
    assert "ne correspond plus" in page.text and "Télécharger" not in page.text


def test_a_cancelled_archive_stops_and_keeps_nothing(session, admin, world):
    archive = request_archive(session=session, actor=admin, filters=filters())
    bind = session.connection()
    lease = claim(bind, DeliverableArchive, archive.id, documents_done=0)
    before = stored_keys()
    cancel_archive(session=session, actor=admin, archive_id=archive.id)
    session.flush()
    assert build_claimed(lease) is False
    session.refresh(archive)
    assert archive.status == ArchiveStatus.CANCELLED and archive.storage_key is None
    assert stored_keys() == before
    assert build_pending_period_archives(bind) == []


def test_an_upload_left_by_a_builder_that_died_is_deleted(session, admin, world):
    """A builder records its key before uploading: if it dies before « ready », the next
    claim deletes the object; a cancelled row's is deleted by the housekeeping."""
    archive = request_archive(session=session, actor=admin, filters=filters())
    left = get_storage().save(b"PK half an archive")
    archive.status = ArchiveStatus.BUILDING.value
    archive.storage_key = left
    archive.lease_until = datetime(2026, 1, 1, tzinfo=UTC)  # long expired
    session.add(archive)
    session.flush()
    zipped = built(session, archive)
    assert left not in stored_keys() and archive.storage_key != left
    assert zipped.testzip() is None
    cancelled = request_archive(session=session, actor=admin, filters=filters())
    orphan = get_storage().save(b"PK another half")
    cancelled.status, cancelled.storage_key = ArchiveStatus.CANCELLED.value, orphan
    session.add(cancelled)
    session.flush()
    delete_expired_period_archives(session=session)
    session.commit()
    assert orphan not in stored_keys()
    session.refresh(cancelled)
    assert cancelled.storage_key is None


def test_ready_and_its_notification_are_one_transaction(session, admin, world, monkeypatch):
    def refused(**_kwargs):
        raise RuntimeError("notification store unavailable")

    monkeypatch.setattr(archive_build, "notify_ready", refused)
    archive = request_archive(session=session, actor=admin, filters=filters())
    before = stored_keys()
    with pytest.raises(RuntimeError):
        build_period_archive(session.connection(), archive.id)
    session.refresh(archive)
    assert archive.status != ArchiveStatus.READY and archive.storage_key is None
    assert stored_keys() == before


def test_a_cancellation_mid_build_stops_before_the_next_document(
    session, admin, world, monkeypatch
):
    """Cancelled once two documents are packed: with the check before every document, the
    third is never packed and nothing is kept."""
    archive = request_archive(session=session, actor=admin, filters=filters())
    lease = claim(session.connection(), DeliverableArchive, archive.id, documents_done=0)
    packed, pack = [], archive_build._Packer.pack

    def pack_then_cancel_after_two(packer, document):
        packed.append(pack(packer, document))
        if len(packed) == 2:
            cancel_archive(session=session, actor=admin, archive_id=archive.id)
        return packed[-1]

    monkeypatch.setattr(archive_build._Packer, "pack", pack_then_cancel_after_two)
    before = stored_keys()
    assert build_claimed(lease, cancel_check_seconds=0) is False
    assert len(packed) == 2 and archive.documents_total == 4
    session.refresh(archive)
    assert archive.status == ArchiveStatus.CANCELLED and archive.storage_key is None
    assert stored_keys() == before
    scratch = get_storage().temporary_path().parent
    assert not [p for p in scratch.iterdir() if p.is_file()]


def test_a_stopping_worker_hands_the_archive_back(session, admin, world):
    archive = request_archive(session=session, actor=admin, filters=filters())
    bind, stop = session.connection(), threading.Event()
    stop.set()
    lease = claim(bind, DeliverableArchive, archive.id, stop=stop, documents_done=0)
    with pytest.raises(LeaseReleased):
        build_claimed(lease)
    session.refresh(archive)
    assert (archive.status, archive.lease_until) == (ArchiveStatus.REQUESTED, None)
    assert build_pending_period_archives(bind) == [archive.id]


def test_an_expired_archive_is_deleted_and_no_longer_served(
    client, session, admin, world, storage_dir
):
    archive = request_archive(session=session, actor=admin, filters=filters())
    built(session, archive)
    key = archive.storage_key
    assert delete_expired_period_archives(session=session) == 0
    later = archive.expires_at + timedelta(minutes=1)
    assert delete_expired_period_archives(session=session, now=later) == 1
    session.commit()
    assert key not in stored_keys()
    session.refresh(archive)
    assert archive.status == ArchiveStatus.EXPIRED and archive.storage_key is None
    log_in(client, session, admin)
    download = client.get(f"/admin/archives-livrables/{archive.id}/archive.zip", params=PURPOSE)
    assert download.status_code == 404


# ---- the pages ----------------------------------------------------------------------------------


def test_a_manager_asks_follows_and_downloads_and_the_download_is_audited(
    client, session, manager, world
):
    csrf = log_in(client, session, manager)
    page = client.get("/admin/archives-livrables")
    assert page.status_code == 200 and "Lyon Confluence" in page.text
    assert "Grenoble" not in page.text  # not one of their sites
    counted = client.get(
        "/admin/archives-livrables/decompte",
        params={"du": "2026-03-01", "au": "2026-03-31"},
        headers={"HX-Request": "true"},
    )
    assert "3 documents" in counted.text
    form = {"du": "2026-03-01", "au": "2026-03-31", "content": "issued_versions"}
    answer = client.post("/admin/archives-livrables", data={**form, "csrf_token": csrf},
                         follow_redirects=False)  # fmt: skip
    assert answer.status_code == 303
    url = answer.headers["location"]
    waiting = client.get(url + "/progression", headers={"HX-Request": "true"})
    assert 'hx-trigger="every 1s"' in waiting.text
    # neither the button nor the live region is replaced every second
    assert "Annuler" not in waiting.text and 'role="status"' not in waiting.text
    shown = client.get(url).text
    progress = shown.index('id="archive-progress"')
    assert shown.index('id="archive-cancel"') > shown.index("</progress>", progress)
    assert '<div id="archive-status" role="status">' in shown
    assert 'aria-valuenow="0"' in waiting.text
    archive = session.get(DeliverableArchive, int(url.rsplit("/", 1)[1]))
    built(session, archive)
    ready = client.get(url + "/progression", headers={"HX-Request": "true"})
    assert "hx-trigger" not in ready.text and "Télécharger" in ready.text
    assert 'id="archive-status" hx-swap-oob="innerHTML"' in ready.text
    assert client.get(url + "/archive.zip").status_code == 422  # the purpose first
    download = client.get(url + "/archive.zip", params=PURPOSE)
    assert download.status_code == 200 and download.content.startswith(b"PK")
    assert hashlib.sha256(download.content).hexdigest() == archive.sha256
    (export,) = session.exec(select(AuditEvent).where(AuditEvent.action == "export")).all()
    assert (export.actor_id, export.record_type, export.record_id) == (
        manager.id, "deliverable_archive", archive.id,
    )  # fmt: skip
    listing = client.get("/admin/archives-livrables")
    assert f'href="{url}"' in listing.text and "Prête" in listing.text


def test_cancelling_from_the_page(client, session, manager, world):
    archive = request_archive(session=session, actor=manager, filters=filters())
    csrf = log_in(client, session, manager)
    answer = client.post(
        f"/admin/archives-livrables/{archive.id}/annuler", data={"csrf_token": csrf}
    )
    assert answer.status_code == 200 and "Préparation annulée" in answer.text
    session.refresh(archive)
    assert archive.status == ArchiveStatus.CANCELLED


def test_a_counsellor_is_refused_the_page(client, session, counsellor):
    log_in(client, session, counsellor)
    assert client.get("/admin/archives-livrables").status_code == 403


# ---- progress and storage back-ends ------------------------------------------------------------


def progress_writes(session, monkeypatch, every: int, admin) -> int:
    """How many UPDATEs of the archive carried its progress while it was built."""
    monkeypatch.setattr(get_settings(), "archive_progress_every", every)
    archive = request_archive(session=session, actor=admin, filters=filters())
    connection = session.connection()
    written = []

    def seen(_conn, _cursor, statement, *_rest):
        if statement.startswith("UPDATE deliverable_archives") and "documents_done" in statement:
            written.append(statement)

    event.listen(connection, "before_cursor_execute", seen)
    try:
        built(session, archive)
    finally:
        event.remove(connection, "before_cursor_execute", seen)
    return len(written) - 2  # the claim (0 done) and the archive ready (all done)


def test_progress_is_written_every_n_documents_not_every_one(session, admin, world, monkeypatch):
    assert progress_writes(session, monkeypatch, 1, admin) == 4
    assert progress_writes(session, monkeypatch, 2, admin) == 2
    assert progress_writes(session, monkeypatch, 50, admin) == 0


def test_the_archive_is_built_and_served_from_either_storage(
    client, session, storage, admin, world
):  # the storage first: the world's PDFs go to it
    archive = request_archive(session=session, actor=admin, filters=filters())
    zipped = built(session, archive)
    assert len([name for name in zipped.namelist() if name.endswith(".pdf")]) == 4
    log_in(client, session, admin)
    url = f"/admin/archives-livrables/{archive.id}/archive.zip"
    download = client.get(url, params=PURPOSE)
    assert download.status_code == 200
    assert hashlib.sha256(download.content).hexdigest() == archive.sha256
