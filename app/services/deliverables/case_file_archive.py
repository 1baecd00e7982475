"""Packing a case's whole file (app/services/deliverables/case_file.py) into a ZIP.

Pseudonymised, as a proof pack is (app/services/deliverables/pseudonyms.py): each version is
printed again from its content with the person's code for their name, signed scans are left out
(listed « Non inclus (pseudonymisé) »), and no attachment can be chosen.

The ZIP is written to a scratch file with flat memory: the stored files are copied in chunks
and checked against the SHA-256 recorded when they were issued or received. A file that
changed or went missing fails the whole archive, naming the document, and leaves nothing: no
scratch file, no entry in the audit trail (app/core/zip_entries.py)."""

import logging
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from sqlmodel import Session

from app.core.dates import to_local
from app.core.db import all_or_nothing
from app.core.storage import get_storage
from app.core.zip_entries import HashMismatch, StoredFileMissing, ZipEntries, zip_archive
from app.models.attachments import Attachment
from app.models.base import utcnow
from app.models.staff import StaffUser
from app.services.audit import accesses
from app.services.deliverables.case_file import (
    CaseFileNames,
    CaseFileRequest,
    FiledVersion,
    case_file,
    chosen_attachments,
    extension_of,
)
from app.services.deliverables.case_file_manifest import Manifest
from app.services.deliverables.pdf import render_deliverable_pdf

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class BuiltCaseFile:
    """The archive written at `path`, a scratch file the caller deletes once sent; its name."""

    path: Path
    filename: str
    size: int


@all_or_nothing
def export_case_file(
    *,
    session: Session,
    actor: StaffUser,
    case_id: int,
    request: CaseFileRequest,
    now: datetime | None = None,
) -> BuiltCaseFile:
    """Write the case's file and record the export in the audit trail, or neither: a read
    refused (ReasonRequired), a missing purpose or attachment (Invalid), a file that changed or
    went missing (HashMismatch, StoredFileMissing) leave nothing behind."""
    now = now or utcnow()
    file = case_file(session=session, actor=actor, case_id=case_id)
    attachments = chosen_attachments(file, request.pieces, pseudonymise=request.pseudonymise)
    # Before any work: a file outside the actor's cases asks its reason, as a read would.
    accesses.case_file_exported(
        session,
        actor=actor,
        case_id=file.case.id,
        purpose=request.reason,
        attachment_ids=[attachment.id for attachment in attachments],
        pseudonymised=request.pseudonymise,
    )
    names = CaseFileNames(file, request.pseudonymise)
    stamp = to_local(now, file.time_zone)
    path = get_storage().temporary_path()
    with zip_archive(path, stamp=stamp) as archive:
        manifest = Manifest(file, names, generated_at=stamp)
        for item in file.versions:
            _add_version(archive, manifest, names, item)
        manifest.add_acknowledgements(archive, f"{names.root}/accuses-de-lecture.csv")
        for attachment in attachments:
            entry = _stored_attachment(
                archive,
                names.attachment(attachment),
                attachment,
                label=f"« {names.attachment_title(attachment)} » du dossier {file.case.reference}",
            )
            manifest.add_attachment(attachment, entry)
        manifest.write_into(archive, names.root)
    return BuiltCaseFile(path, names.archive(now), path.stat().st_size)


def _add_version(
    archive: ZipEntries, manifest: Manifest, names: CaseFileNames, item: FiledVersion
) -> None:
    """The version's PDF as issued (or its « Supprimé » line), then its signed scan, if any;
    pseudonymised, the PDF printed again without the name, and no scan."""
    reference = names.file.case.reference
    entry = None
    if not item.deleted and names.pseudonymise:
        content = names.person_names.scrub_content(item.version.content)
        pdf = render_deliverable_pdf(content)
        entry = archive.add_bytes(names.document(item, "livrables"), pdf, compress=False)
    elif not item.deleted:
        entry = _stored(
            archive,
            names.document(item, "livrables"),
            item.version.storage_key,
            expected_sha256=item.version.sha256,
            label=f"{item.label} du dossier {reference}",
            size=item.version.size_bytes,
            record=("deliverable_version", item.version.id, item.deliverable.case_id),
        )
    manifest.add_version(item, entry)
    scan = item.scan
    if scan is None:
        return
    if names.pseudonymise:
        manifest.add_scan(item, scan, None, left_out=True)
        return
    entry = None
    if not scan.file_deleted:
        entry = _stored_attachment(
            archive,
            names.document(item, "exemplaires-signes", extension_of(scan)),
            scan,
            label=f"{item.label} (exemplaire signé) du dossier {reference}",
        )
    manifest.add_scan(item, scan, entry)


def _stored_attachment(archive: ZipEntries, name: str, attachment: Attachment, *, label: str):
    return _stored(
        archive,
        name,
        attachment.storage_key,
        expected_sha256=attachment.sha256,
        label=label,
        size=attachment.size_bytes,
        record=("attachment", attachment.id, attachment.case_id),
    )


def _stored(archive: ZipEntries, name: str, key: str, *, record: tuple, **checks):
    """A stored file copied in, checked; a file that changed or is gone is logged for the
    operators to look into — by ids and storage key only: the label and the entry's name may
    name the person — then fails the build."""
    try:
        return archive.add_from_storage(name, key, **checks)
    except (HashMismatch, StoredFileMissing) as error:
        record_type, record_id, case_id = record
        log.warning(
            "case file not built: %s, case %s, %s %s, storage key %s",
            "stored file missing" if isinstance(error, StoredFileMissing) else "hash mismatch",
            case_id,
            record_type,
            record_id,
            key,
        )
        raise
