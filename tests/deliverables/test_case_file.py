"""A case's whole file (« Télécharger le dossier »), as the service packs it: every issued
version byte for byte, signed scans and the acknowledgements, the attachments chosen, the
manifest; private notes never; a file that changed fails naming it and leaves nothing."""

import csv
import io
import json
import zipfile
from datetime import UTC, datetime, timedelta

import pytest
from sqlmodel import select

from app.core.errors import Invalid, NotFound
from app.core.files import Upload
from app.core.storage import get_storage, sha256_of
from app.core.zip_entries import UTF8_FLAG, HashMismatch, StoredFileMissing
from app.models.audit import AuditAction, AuditEvent
from app.models.cases import Episode
from app.services.deliverables.case_file import CaseFileRequest
from app.services.deliverables.case_file_archive import export_case_file
from app.services.deliverables.case_file_manifest import COLUMNS
from app.services.deliverables.documents import issue_deliverable, save_draft
from app.services.deliverables.pseudonyms import pseudonym
from app.services.deliverables.sharing import record_signed_scan
from tests.factories import (
    CURRENT_MARKET,
    PDF,
    draft,
    kept_file,
    make_beneficiary,
    make_case,
    make_episode,
    make_interaction,
    make_lot,
    make_staff,
)

ISSUED = datetime(2026, 12, 6, 13, 5, tzinfo=UTC)  # 14:05 in Paris
# Near midnight: the 6th in UTC, already the 7th in Paris, the site's day names the files.
LATE = datetime(2026, 12, 6, 23, 30, tzinfo=UTC)
PURPOSE = {"finalite": "demande_personne"}


@pytest.fixture(autouse=True)
def fast_pdfs(monkeypatch, storage_dir):
    """Each version's PDF tells which it is, without the slow rendering."""

    def render(content):
        return PDF + f"% {content['title']} v{content['version']}\n".encode()

    monkeypatch.setattr("app.services.deliverables.documents.render_deliverable_pdf", render)
    monkeypatch.setattr(
        "app.services.deliverables.case_file_archive.render_deliverable_pdf", render
    )


@pytest.fixture
def person(session, counsellor):
    return make_beneficiary(session, counsellor, first_name="Maëlle", last_name="Moreau-Dubois")


@pytest.fixture
def filed_case(session, counsellor, person):
    """A case with a document de synthèse proving UO1, issued twice, and a note kept private."""
    case = make_case(session, counsellor, beneficiary=person)
    episode = make_episode(session, counsellor, case, "UO1")
    make_interaction(
        session,
        counsellor,
        case,
        summary="Point d'étape",
        private_notes="Confidence à ne pas sortir",
    )
    deliverable = draft(session, counsellor, case, episode=episode)
    issue_deliverable(
        session=session, actor=counsellor, deliverable_id=deliverable.id, issued_at=ISSUED
    )
    key = deliverable.sections[-1]["key"]
    save_draft(
        session=session, actor=counsellor, deliverable_id=deliverable.id, bodies={key: "Suite"}
    )
    issue_deliverable(
        session=session, actor=counsellor, deliverable_id=deliverable.id, issued_at=ISSUED
    )
    return case, deliverable


def export(session, actor, case, now=None, **choice):
    request = CaseFileRequest(**{**PURPOSE, **choice})
    built = export_case_file(
        session=session, actor=actor, case_id=case.id, request=request, now=now
    )
    data = built.path.read_bytes()
    built.path.unlink()
    return built, zipfile.ZipFile(io.BytesIO(data))


def manifest_json(archive: zipfile.ZipFile) -> dict:
    name = next(n for n in archive.namelist() if n.endswith("/manifeste.json"))
    return json.loads(archive.read(name))


def manifest_csv(archive: zipfile.ZipFile) -> list[list[str]]:
    name = next(n for n in archive.namelist() if n.endswith("/manifeste.csv"))
    text = archive.read(name).decode("utf-8-sig")
    return list(csv.reader(io.StringIO(text), delimiter=";"))


def versions_of(session, deliverable):
    from app.models.deliverables import DeliverableVersion

    query = select(DeliverableVersion).where(DeliverableVersion.deliverable_id == deliverable.id)
    return list(session.exec(query.order_by(DeliverableVersion.number)))


def test_every_issued_version_is_in_the_zip_byte_for_byte(session, counsellor, filed_case):
    case, deliverable = filed_case
    _, archive = export(session, counsellor, case)
    reference = case.reference
    for version in versions_of(session, deliverable):
        name = f"{reference}/livrables/{reference}_document-de-synthese_v{version.number}_2026-12-06.pdf"
        assert archive.read(name) == get_storage().read(version.storage_key)
        assert sha256_of(archive.read(name)) == version.sha256


def test_the_manifest_lists_every_file_with_its_sha256(session, counsellor, filed_case):
    case, _ = filed_case
    _, archive = export(session, counsellor, case)
    lines = manifest_json(archive)["fichiers"]
    listed = {line["fichier"]: line["sha256"] for line in lines}
    in_zip = {n for n in archive.namelist() if not n.endswith(("manifeste.csv", "manifeste.json"))}
    assert set(listed) == in_zip
    for name, digest in listed.items():
        assert sha256_of(archive.read(name)) == digest


def test_the_csv_manifest_has_its_columns_and_one_line_per_file(session, counsellor, filed_case):
    case, _ = filed_case
    _, archive = export(session, counsellor, case)
    rows = manifest_csv(archive)
    assert (
        rows[0]
        == [
            "Fichier",
            "Document",
            "Nature",
            "Type",
            "Unité prouvée",
            "Épisode",
            "Marché",
            "Lot",
            "Version",
            "Émis le",
            "Déposé le",
            "Accusé de lecture le",
            "Accusé de lecture par",
            "Taille (octets)",
            "SHA-256 de la version émise",
            "SHA-256",
        ]
        == COLUMNS
    )
    version_2 = next(row for row in rows if row[8] == "2")
    assert version_2[1:5] == [
        "Document de synthèse",
        "Livrable émis",
        "Document de synthèse",
        "UO1",
    ]
    assert version_2[5].startswith("n° ") and version_2[9] == "2026-12-06 14:05"
    assert version_2[6:8] == ["", ""]  # no lot: the episode started before any market's
    assert len(rows) == 1 + 3  # two versions and the acknowledgements


def test_the_manifest_names_the_market_and_lot_of_the_episode_proven(
    session, counsellor, filed_case, ara
):
    case, deliverable = filed_case
    lot = make_lot(session, ara)
    episode = session.get(Episode, deliverable.episode_id)
    episode.lot_id = lot.id
    session.add(episode)
    session.flush()
    _, archive = export(session, counsellor, case)
    line = next(x for x in manifest_json(archive)["fichiers"] if x["nature"] == "Livrable émis")
    assert line["marche"] == CURRENT_MARKET
    assert line["lot"] == {
        "id": lot.id,
        "debut": lot.starts_on.isoformat(),
        "fin": lot.ends_on.isoformat(),
    }
    row = next(row for row in manifest_csv(archive) if row[2] == "Livrable émis")
    assert row[6] == CURRENT_MARKET
    assert row[7] == f"n° {lot.id}, du {lot.starts_on.isoformat()} au {lot.ends_on.isoformat()}"


def test_private_notes_never_leave_the_case(session, counsellor, filed_case):
    case, _ = filed_case
    _, archive = export(session, counsellor, case)
    for name in archive.namelist():
        assert b"Confidence" not in archive.read(name), name


@pytest.mark.parametrize("names_in_files", [False, True])
def test_every_entry_is_flagged_utf8_and_named_in_ascii(
    session, counsellor, filed_case, ara, names_in_files
):
    """The attachment chosen is named after Maëlle: her name is in the entries' names only
    when the admin asks for names in file names, and spelt in ASCII then."""
    case, _ = filed_case
    ara.person_names_in_file_names = names_in_files
    session.add(ara)
    session.flush()
    attachment = kept_file(session, counsellor, case, filename="Relevé de carrière Maëlle.pdf")
    _, archive = export(session, counsellor, case, pieces=[attachment.id])
    for info in archive.infolist():
        assert info.flag_bits & UTF8_FLAG, info.filename
        assert info.filename.isascii(), info.filename
    piece = next(n for n in archive.namelist() if "/pieces-jointes/" in n)
    named = [name for name in archive.namelist() if "maelle" in name.lower()]
    if names_in_files:
        assert piece.endswith("_releve-de-carriere-maelle.pdf"), piece
        assert piece in named and any("/livrables/" in name for name in named)
    else:
        assert named == []


def test_no_attachment_is_packed_unless_chosen(session, counsellor, filed_case):
    case, _ = filed_case
    first = kept_file(session, counsellor, case, filename="cv.pdf")
    second = kept_file(session, counsellor, case, filename="bulletin.pdf")
    first.uploaded_at, second.uploaded_at = LATE, LATE + timedelta(minutes=1)
    session.add_all([first, second])
    session.flush()
    _, archive = export(session, counsellor, case)
    assert not [n for n in archive.namelist() if "/pieces-jointes/" in n]
    built, archive = export(session, counsellor, case, now=LATE, pieces=[first.id])
    assert [n for n in archive.namelist() if "/pieces-jointes/" in n] == [
        f"{case.reference}/pieces-jointes/{case.reference}_piece-jointe-1_2026-12-07.pdf"
    ]
    assert built.filename == f"{case.reference}_dossier_2026-12-07.zip"
    line = next(x for x in manifest_json(archive)["fichiers"] if x["nature"] == "Pièce jointe")
    assert line["document"] == "cv.pdf" and line["sha256"] == first.sha256


def test_an_attachment_of_another_case_is_refused(session, counsellor, filed_case):
    case, _ = filed_case
    other = kept_file(session, counsellor, make_case(session, counsellor))
    with pytest.raises(NotFound, match="n'appartient pas au dossier"):
        export(session, counsellor, case, pieces=[other.id])


def test_an_attachment_deleted_with_its_person_cannot_be_chosen(session, counsellor, filed_case):
    case, _ = filed_case
    attachment = kept_file(session, counsellor, case)
    attachment.file_deleted_at = ISSUED
    session.add(attachment)
    session.flush()
    with pytest.raises(Invalid) as refused:
        export(session, counsellor, case, pieces=[attachment.id])
    assert "supprimée" in refused.value.fields["pieces"]


def test_a_signed_scan_and_the_acknowledgements_come_with_their_version(
    session, counsellor, filed_case, storage_dir
):
    case, deliverable = filed_case
    path = get_storage().temporary_path()
    scan = PDF + b"% signed\n"
    path.write_bytes(scan)
    upload = Upload(path, "scan.pdf", "application/pdf", len(scan), sha256_of(scan), {})
    record_signed_scan(
        session=session, actor=counsellor, deliverable_id=deliverable.id, number=2, upload=upload
    )
    _, archive = export(session, counsellor, case)
    name = f"{case.reference}/exemplaires-signes/{case.reference}_document-de-synthese_v2_2026-12-06.pdf"
    assert archive.read(name) == scan
    # The scan is the version's, not an attachment to choose.
    assert not [n for n in archive.namelist() if "/pieces-jointes/" in n]
    acknowledgements = archive.read(f"{case.reference}/accuses-de-lecture.csv").decode("utf-8-sig")
    assert "Exemplaire signé numérisé" in acknowledgements and name in acknowledgements
    line = next(x for x in manifest_json(archive)["fichiers"] if x["fichier"] == name)
    assert (
        line["nature"] == "Exemplaire signé" and line["accuse_par"] == "Exemplaire signé numérisé"
    )


def test_a_version_deleted_with_its_person_is_listed_without_a_file(
    session, counsellor, filed_case
):
    case, deliverable = filed_case
    first = versions_of(session, deliverable)[0]
    first.file_deleted_at = ISSUED
    session.add(first)
    session.flush()
    _, archive = export(session, counsellor, case)
    assert not [n for n in archive.namelist() if "_v1_" in n]
    line = next(x for x in manifest_json(archive)["fichiers"] if x["version"] == 1)
    assert line["fichier"] is None and line["supprime"] is True and line["sha256"] == first.sha256
    row = next(row for row in manifest_csv(archive) if row[8] == "1")
    assert row[0] == "Supprimé"


def test_a_pdf_that_changed_fails_naming_it_and_leaves_nothing(
    session, counsellor, filed_case, storage_dir
):
    case, deliverable = filed_case
    second = versions_of(session, deliverable)[1]
    second.sha256 = "0" * 64  # no longer the hash of what is stored
    session.add(second)
    session.flush()
    with pytest.raises(HashMismatch) as failed:
        export(session, counsellor, case)
    assert f"« Document de synthèse » v2 du dossier {case.reference}" in failed.value.message
    assert "ne correspond plus à l'empreinte" in failed.value.message
    assert list((storage_dir / "tmp").iterdir()) == []
    exports = session.exec(select(AuditEvent).where(AuditEvent.action == AuditAction.EXPORT.value))
    assert list(exports) == []


def test_a_file_that_changed_or_went_missing_is_logged_by_ids_only(
    session, counsellor, filed_case, caplog
):
    case, _ = filed_case
    changed = kept_file(session, counsellor, case, filename="Relevé Maëlle Moreau.pdf")
    changed.sha256 = "0" * 64
    session.add(changed)
    session.flush()
    with caplog.at_level("WARNING"), pytest.raises(HashMismatch):
        export(session, counsellor, case, pieces=[changed.id])
    warning = next(r for r in caplog.records if r.name.endswith("case_file_archive"))
    text = warning.getMessage()
    assert f"case {case.id}, attachment {changed.id}" in text and changed.storage_key in text
    assert "hash mismatch" in text
    assert "Maëlle" not in text and "Moreau" not in text and "Relevé" not in text
    caplog.clear()
    gone = kept_file(session, counsellor, case, filename="Attestation Maëlle.pdf")
    get_storage().delete(gone.storage_key)
    with caplog.at_level("WARNING"), pytest.raises(StoredFileMissing):
        export(session, counsellor, case, pieces=[gone.id])
    text = next(r for r in caplog.records if r.name.endswith("case_file_archive")).getMessage()
    assert "stored file missing" in text and f"attachment {gone.id}" in text
    assert "Maëlle" not in text and "Attestation" not in text


def test_the_export_is_in_the_audit_trail_with_its_purpose(session, counsellor, filed_case):
    case, _ = filed_case
    export(session, counsellor, case)
    entry = session.exec(select(AuditEvent).where(AuditEvent.record_type == "case_file")).one()
    assert entry.action == AuditAction.EXPORT.value and entry.record_id == case.id
    assert entry.beneficiary_id == case.beneficiary_id and entry.reason == "Demande de la personne"


def test_each_attachment_taken_out_has_its_own_entry_with_the_same_reason(
    session, counsellor, filed_case
):
    case, _ = filed_case
    chosen = kept_file(session, counsellor, case, filename="cv.pdf")
    kept_file(session, counsellor, case, filename="bulletin.pdf")  # not chosen: no entry
    export(session, counsellor, case, pieces=[chosen.id])
    query = select(AuditEvent).where(AuditEvent.action == AuditAction.EXPORT.value)
    entries = {(e.record_type, e.record_id, e.reason) for e in session.exec(query)}
    reason = "Demande de la personne"
    assert entries == {("case_file", case.id, reason), ("attachment", chosen.id, reason)}


def test_a_failed_build_leaves_no_attachment_entry(session, counsellor, filed_case):
    case, _ = filed_case
    chosen = kept_file(session, counsellor, case, filename="cv.pdf")
    chosen.sha256 = "0" * 64
    session.add(chosen)
    session.flush()
    with pytest.raises(HashMismatch):
        export(session, counsellor, case, pieces=[chosen.id])
    query = select(AuditEvent).where(AuditEvent.action == AuditAction.EXPORT.value)
    assert list(session.exec(query)) == []


def test_a_pseudonymised_export_is_told_apart_in_the_trail(session, counsellor, filed_case):
    case, _ = filed_case
    export(session, counsellor, case, pseudonymise=True)
    query = select(AuditEvent).where(AuditEvent.action == AuditAction.EXPORT.value)
    assert [(e.record_type, e.record_id) for e in session.exec(query)] == [
        ("case_file_pseudonymised", case.id)
    ]


def test_an_export_without_its_purpose_is_refused(session, counsellor, filed_case):
    case, _ = filed_case
    with pytest.raises(Invalid) as refused:
        export(session, counsellor, case, finalite=None)
    assert "finalite" in refused.value.fields


def test_file_names_carry_no_name_by_default_and_the_name_when_the_admin_asks(
    session, counsellor, filed_case, ara
):
    case, _ = filed_case
    built, archive = export(session, counsellor, case)
    assert not any("moreau" in n.lower() for n in archive.namelist())
    assert built.filename.startswith(f"{case.reference}_dossier_") and built.filename.isascii()
    ara.person_names_in_file_names = True
    session.add(ara)
    session.flush()
    _, archive = export(session, counsellor, case)
    assert (
        f"{case.reference}/livrables/{case.reference}_document-de-synthese_v1_2026-12-06"
        "_maelle-moreau-dubois.pdf" in archive.namelist()
    )


def test_pseudonymised_every_pdf_is_printed_again_without_the_name_and_scans_stay_out(
    session, counsellor, filed_case, ara, person, monkeypatch
):
    """The proof packs' option: each version printed again from its content with the person's
    code, the signed scan left out, the manifest giving both SHA-256."""
    case, deliverable = filed_case
    ara.person_names_in_file_names = True
    session.add(ara)
    monkeypatch.setattr(
        "app.services.deliverables.case_file_archive.render_deliverable_pdf",
        lambda content: PDF + json.dumps(content, ensure_ascii=False).encode(),
    )
    path = get_storage().temporary_path()
    scan = PDF + b"% signed by Maelle\n"
    path.write_bytes(scan)
    upload = Upload(path, "scan.pdf", "application/pdf", len(scan), sha256_of(scan), {})
    record_signed_scan(
        session=session, actor=counsellor, deliverable_id=deliverable.id, number=2, upload=upload
    )
    _, archive = export(session, counsellor, case, pseudonymise=True)
    code = pseudonym(ara.id, person.id)
    manifest = manifest_json(archive)
    assert manifest["pseudonymise"] is True and manifest["beneficiaire"] == code
    assert not [n for n in archive.namelist() if "/exemplaires-signes/" in n]
    for name in archive.namelist():
        assert "moreau" not in name.lower() and "maelle" not in name.lower()
        text = archive.read(name).decode("utf-8", "replace")
        assert "Moreau" not in text and "Maëlle" not in text, name
    issued = {v.number: v.sha256 for v in versions_of(session, deliverable)}
    lines = [x for x in manifest["fichiers"] if x["nature"] == "Livrable émis"]
    for line in lines:
        pdf = archive.read(line["fichier"])
        assert code.encode() in pdf
        assert line["sha256"] == sha256_of(pdf) != line["sha256_version_emise"]
        assert line["sha256_version_emise"] == issued[line["version"]]
    scan_line = next(x for x in manifest["fichiers"] if x["nature"] == "Exemplaire signé")
    assert scan_line["fichier"] is None and scan_line["absent"] == "Non inclus (pseudonymisé)"
    rows = manifest_csv(archive)
    assert ["Non inclus (pseudonymisé)"] == [r[0] for r in rows if r[2] == "Exemplaire signé"]
    acknowledgements = archive.read(f"{case.reference}/accuses-de-lecture.csv").decode("utf-8-sig")
    assert "Non inclus (pseudonymisé)" in acknowledgements


def test_pseudonymised_no_attachment_can_be_chosen(session, counsellor, filed_case):
    case, _ = filed_case
    attachment = kept_file(session, counsellor, case, filename="CV Maëlle Moreau.pdf")
    with pytest.raises(Invalid) as refused:
        export(session, counsellor, case, pieces=[attachment.id], pseudonymise=True)
    assert "pseudonymisé ne contient pas de pièces jointes" in refused.value.fields["pieces"]


def test_a_colleague_of_another_operator_finds_no_case(session, filed_case, bre):
    case, _ = filed_case
    stranger = make_staff(session, bre)
    with pytest.raises(NotFound):
        export(session, stranger, case)
