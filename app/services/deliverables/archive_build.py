"""The worker's side of « Archive des livrables »: one ZIP with a folder per case (named by its
reference), each issued PDF byte for byte, checked against its issue hash while it is packed,
and at the root the manifest as CSV and JSON (a SHA-256 per file) and `manifest.sha256`
holding the SHA-256 of both manifests.

Built with the proof packs' leases (app/services/jobs/leases.py): a stopping worker hands the
archive back, a cancelled one (its row no longer « building ») is seen between two documents
and stops. Memory stays flat: the ZIP and the manifests are written to scratch files, each PDF
read from the storage in chunks, the versions loaded BATCH at a time. Whatever stops a build
deletes what it wrote: no partial archive is ever downloadable."""

import contextlib
import csv
import json
import threading
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import partial
from pathlib import Path

from sqlmodel import col, select

from app.core.config import get_settings
from app.core.dates import to_local
from app.core.errors import DomainError
from app.core.storage import get_storage
from app.core.storage_keys import new_key
from app.core.tables import spreadsheet_safe
from app.core.zip_entries import HashedFile, StoredFileMissing, ZipEntries, hashed_zip_archive
from app.models.base import utcnow
from app.models.beneficiaries import Beneficiary
from app.models.cases import Case
from app.models.catalogue import DeliverableKind
from app.models.deliverable_archives import ArchiveContent, ArchiveStatus, DeliverableArchive
from app.models.deliverables import Deliverable, DeliverableVersion
from app.models.operators import Operator, Site
from app.models.staff import StaffUser
from app.services.access.scope import owned_by
from app.services.deliverables.archive_selection import covers, selected_versions
from app.services.deliverables.file_names import case_folder_name, deliverable_file_name
from app.services.deliverables.period_archive import notify_ready, size_refusal
from app.services.deliverables.pseudonyms import pseudonym
from app.services.jobs.leases import (
    Bind,
    Lease,
    LeaseLost,
    LeaseReleased,
    claim,
    next_claimable,
    reading,
    stopping,
)

BATCH = 200
MANIFEST_CSV = "manifeste.csv"
MANIFEST_JSON = "manifeste.json"
MANIFEST_SHA256 = "manifest.sha256"
DELETED = "Supprimé"
PACKED = "Inclus"
# How often, at most, a builder asks between two documents whether the archive was cancelled.
CANCEL_CHECK_SECONDS = 0.5
NOT_COVERED = (
    "la personne qui a demandé l'archive ne couvre plus tous les sites qu'elle choisissait "
    "(site retiré ou rôle changé) : demandez une nouvelle archive."
)
COLUMNS = (
    ("dossier", "Dossier"),
    ("beneficiaire", "Bénéficiaire"),
    ("document", "Document"),
    ("type", "Type de livrable"),
    ("version", "Version"),
    ("emis_le", "Émis le"),
    ("statut", "Statut"),
    ("fichier", "Fichier"),
    ("taille", "Taille (octets)"),
    ("sha256", "SHA-256"),
)


class ArchiveError(Exception):
    """A document cannot be packed as it was issued: the build fails with this message."""


# ---- running builds ---------------------------------------------------------------------------


def build_pending_period_archives(bind: Bind, *, stop: threading.Event | None = None) -> list[int]:
    """Build every archive asked for (and any whose builder stopped), oldest first; when `stop`
    is set, the one under way is handed back at its next checkpoint and no other is started."""
    built = []
    while not stopping(stop) and (row_id := next_claimable(bind, DeliverableArchive)):
        try:
            if build_period_archive(bind, row_id, stop=stop):
                built.append(row_id)
        except LeaseReleased:
            break
    return built


def build_period_archive(bind: Bind, archive_id: int, *, stop: threading.Event | None = None):
    """Build this archive if no one else is; True when this call built it."""
    lease = claim(
        bind, DeliverableArchive, archive_id, stop=stop, documents_done=0, error="",
        started_at=utcnow(),
    )  # fmt: skip
    if lease is None:
        return False
    return build_claimed(lease)


def build_claimed(lease: Lease, *, cancel_check_seconds: float = CANCEL_CHECK_SECONDS) -> bool:
    """Write the archive of a claimed row, keep it, mark it ready and tell its requester.

    The key is recorded on the row (still « building ») before the upload: a builder that dies
    between the upload and « ready » leaves a key that the next claim, or the housekeeping of
    a cancelled or failed row, deletes — never an object nobody points at."""
    storage = get_storage()
    path = storage.temporary_path()
    _forget_pending(lease)
    key = None
    try:
        total, hashed = _write_archive(lease, path, cancel_check_seconds)
        key = new_key()
        lease.write(storage_key=key)
        storage.save_file(path, key=key)
    except LeaseReleased:
        _discard(path, key)
        raise
    except LeaseLost:  # cancelled, or taken over by another builder
        _discard(path, key)
        return False
    except Exception as error:
        _discard(path, key)
        message = (
            str(error) if isinstance(error, ArchiveError | DomainError) else _unexpected(error)
        )
        with contextlib.suppress(LeaseLost):
            lease.write(
                status=ArchiveStatus.FAILED,
                storage_key=None,
                error=message[:1000],
                finished_at=utcnow(),
            )
        raise
    finished = utcnow()
    try:
        lease.write(
            status=ArchiveStatus.READY,
            sha256=hashed.sha256,
            size_bytes=hashed.size,
            documents_done=total,
            finished_at=finished,
            expires_at=finished + timedelta(days=get_settings().archive_days),
            then=partial(_notify, lease.row_id),  # in the same transaction
        )
    except LeaseLost:
        storage.delete(key)  # cancelled at the last moment: nothing stays
        return False
    except BaseException:
        storage.delete(key)  # no archive without the row that points at it
        with contextlib.suppress(Exception):
            lease.write(storage_key=None)
        raise
    return True


def _notify(archive_id: int, session) -> None:
    notify_ready(session=session, archive=session.get(DeliverableArchive, archive_id))


def _forget_pending(lease: Lease) -> None:
    """Delete what an earlier build of this row uploaded without marking it ready."""
    with reading(lease.bind) as session:
        pending = session.get(DeliverableArchive, lease.row_id).storage_key
    if pending is not None:
        get_storage().delete(pending)
        lease.write(storage_key=None)


def _discard(path: Path, key: str | None) -> None:
    path.unlink(missing_ok=True)
    if key is not None:
        get_storage().delete(key)


def _unexpected(error: Exception) -> str:
    return (
        f"erreur inattendue ({type(error).__name__}). Demandez l'archive de nouveau ; si elle "
        "échoue encore, prévenez l'administrateur (le détail est dans le journal du serveur)."
    )


# ---- the archive ------------------------------------------------------------------------------


def _write_archive(lease: Lease, path: Path, cancel_check_seconds: float) -> tuple[int, HashedFile]:
    """Write the ZIP at `path`; how many documents it lists, and its SHA-256 and size."""
    with reading(lease.bind) as session:
        archive = session.get(DeliverableArchive, lease.row_id)
        operator_id, filters = archive.operator_id, dict(archive.filters)
        requester = session.get(StaffUser, archive.requested_by_id)
        if requester is None or not covers(session, requester, filters):
            raise ArchiveError(NOT_COVERED)
        selection = selected_versions(
            session, operator_id, filters, issued_before=archive.created_at
        )  # what was counted when asked: nothing issued since
        version_ids = list(session.exec(selection))
        operator = session.get(Operator, operator_id)
        naming = _Naming(
            operator_id, operator.person_names_in_file_names, bool(filters.get("pseudonymise"))
        )
    if refusal := size_refusal(len(version_ids)):  # the limit may have been lowered since
        raise ArchiveError(refusal)
    lease.write(documents_total=len(version_ids))
    progress = _Progress(lease, get_settings().archive_progress_every, cancel_check_seconds)
    zone = filters["time_zone"]
    scratch = get_storage().temporary_path()
    with (
        hashed_zip_archive(path, hashed := HashedFile()) as zipped,
        _Manifest(scratch, filters, len(version_ids)) as manifest,
    ):
        packer = _Packer(zipped, naming)
        for start in range(0, len(version_ids), BATCH):
            batch = version_ids[start : start + BATCH]
            for document in _load(lease.bind, operator_id, batch, zone):
                progress.between_documents()
                manifest.add(packer.pack(document))
                progress.done += 1
        progress.between_documents()
        manifest.close_into(zipped)
    return len(version_ids), hashed


class _Progress:
    """Progress written every `every` documents; between two, a cancellation is looked for
    at most every `check_seconds` (a lease write fails once the row is cancelled)."""

    def __init__(self, lease: Lease, every: int, check_seconds: float):
        self.lease, self.every, self.done = lease, every, 0
        self.written, self.check_seconds = 0, check_seconds  # 0: before every document
        self.next_check = time.monotonic() + check_seconds

    def between_documents(self) -> None:
        if stopping(self.lease.stop):  # the worker is stopping: hand the archive back now
            self.lease.checkpoint()
        if self.done - self.written >= self.every:
            self.lease.checkpoint(documents_done=self.done)
            self.written = self.done
        elif time.monotonic() >= self.next_check:
            self.lease.checkpoint()
        else:
            return
        self.next_check = time.monotonic() + self.check_seconds


@dataclass
class _Document:
    """What packing one version needs, without its printed content (read for nothing)."""

    version_id: int
    number: int
    storage_key: str
    sha256: str
    size_bytes: int
    issued_at: datetime
    file_deleted_at: datetime | None
    deliverable_id: int
    kind_label: str
    reference: str
    beneficiary_id: int
    beneficiary_name: str
    time_zone: str


def _load(bind: Bind, operator_id: int, version_ids: list[int], zone: str) -> list[_Document]:
    """These versions with their case's reference and time zone (its site's, else `zone`, the
    operator's), in the selection's order."""
    with reading(bind) as session:
        rows = session.exec(
            select(
                DeliverableVersion.id,
                DeliverableVersion.number,
                DeliverableVersion.storage_key,
                DeliverableVersion.sha256,
                DeliverableVersion.size_bytes,
                DeliverableVersion.issued_at,
                DeliverableVersion.file_deleted_at,
                Deliverable.id,
                DeliverableKind.label,
                Case.reference,
                Beneficiary.id,
                Beneficiary.first_name,
                Beneficiary.last_name,
                Site.time_zone,
            )
            .join(Deliverable, col(Deliverable.id) == DeliverableVersion.deliverable_id)
            .join(DeliverableKind, col(DeliverableKind.id) == Deliverable.kind_id)
            .join(Case, col(Case.id) == Deliverable.case_id)
            .join(Beneficiary, col(Beneficiary.id) == Case.beneficiary_id)
            .outerjoin(Site, col(Site.id) == Case.site_id)
            .where(
                col(DeliverableVersion.id).in_(version_ids),
                owned_by(Case, operator_id),
                owned_by(Beneficiary, operator_id),
            )
        )
        by_id = {row[0]: _document(row, zone) for row in rows}
    return [by_id[version_id] for version_id in version_ids if version_id in by_id]


def _document(row, zone: str) -> _Document:
    *columns, first_name, last_name, time_zone = row
    name = Beneficiary(first_name=first_name, last_name=last_name).full_name
    return _Document(*columns, name, time_zone or zone)


@dataclass
class _Naming:
    """How people appear: in file names only when the operator asks for it (its setting
    « noms dans les noms de fichiers ») and the archive is not pseudonymised; in the manifest
    by a stable code when pseudonymised, by name when the operator allows names in file names,
    else not at all."""

    operator_id: int
    names_in_files: bool
    pseudonymise: bool

    def in_file_name(self, document: _Document) -> str | None:
        return document.beneficiary_name if self.names_in_files and not self.pseudonymise else None

    def in_manifest(self, document: _Document) -> str:
        if self.pseudonymise:
            return pseudonym(self.operator_id, document.beneficiary_id)
        return document.beneficiary_name if self.names_in_files else ""


class _Packer:
    """Writes each document into its case's folder, under deliverable_file_name's name."""

    def __init__(self, zipped: ZipEntries, naming: _Naming):
        self.zipped, self.naming = zipped, naming
        self.folder = ""
        self.used: set[str] = set()  # the names given in the current folder

    def pack(self, document: _Document) -> dict:
        """The document's manifest entry, its PDF written into the ZIP (unless deleted)."""
        name = self._name(document)
        entry = {
            "dossier": document.reference,
            "beneficiaire": self.naming.in_manifest(document),
            "document": document.deliverable_id,
            "type": document.kind_label,
            "version": document.number,
            "emis_le": to_local(document.issued_at, document.time_zone).isoformat(),
            "statut": PACKED,
            "fichier": name,
            "taille": document.size_bytes,
            "sha256": document.sha256,
        }
        if document.file_deleted_at is not None:
            return {**entry, "statut": DELETED, "fichier": ""}
        try:
            written = self.zipped.add_from_storage(name, document.storage_key)
        except StoredFileMissing:
            raise ArchiveError(_missing(name, document)) from None
        if written.sha256 != document.sha256:
            raise ArchiveError(_altered(name, document))
        return {**entry, "fichier": written.name, "taille": written.size, "sha256": written.sha256}

    def _name(self, document: _Document) -> str:
        folder = case_folder_name(document.reference)
        if folder != self.folder:
            self.folder, self.used = folder, set()
        name = deliverable_file_name(
            document.reference,
            document.kind_label,
            document.number,
            document.issued_at,
            person_name=self.naming.in_file_name(document),
            time_zone=document.time_zone,
        )
        if name in self.used:  # two documents of one kind issued the same day in one case
            name = f"{name[:-4]}_document-{document.deliverable_id}.pdf"
        self.used.add(name)
        return f"{folder}/{name}"


def _altered(path: str, document: _Document) -> str:
    return (
        f"Le document {path.split('/')[-1]} (dossier {document.reference}, version "
        f"{document.number}) ne correspond plus à l'empreinte SHA-256 enregistrée à son "
        "émission : le fichier conservé a été modifié ou abîmé. L'archive n'a pas été créée ; "
        "prévenez l'administrateur."
    )


def _missing(path: str, document: _Document) -> str:
    return (
        f"Le fichier du document {path.split('/')[-1]} (dossier {document.reference}, version "
        f"{document.number}) est introuvable dans le stockage. L'archive n'a pas été "
        "créée ; prévenez l'administrateur."
    )


# ---- the manifest ------------------------------------------------------------------------------


class _Manifest:
    """Both manifests written to scratch files as the documents are packed, then copied into
    the ZIP with `manifest.sha256`."""

    def __init__(self, scratch: Path, filters: dict, total: int):
        self.csv_path = scratch.with_suffix(".csv")
        self.json_path = scratch.with_suffix(".json")
        self.header = {
            "periode": {"du": filters["start"], "au": filters["end"]},
            "contenu": ArchiveContent(filters["content"]).label,
            "pseudonymise": bool(filters.get("pseudonymise")),
            "documents": total,
            "genere_le": utcnow().isoformat(),
        }
        self.first = True

    def __enter__(self) -> "_Manifest":
        # with a BOM: a spreadsheet then reads it as UTF-8
        self.csv_file = self.csv_path.open("w", encoding="utf-8-sig", newline="")
        self.json_file = self.json_path.open("w", encoding="utf-8")
        self.rows = csv.writer(self.csv_file, delimiter=";")
        self.rows.writerow([title for _, title in COLUMNS])
        header = json.dumps(self.header, ensure_ascii=False, indent=2)
        self.json_file.write(header[:-2] + ',\n  "fichiers": [')
        return self

    def add(self, entry: dict) -> None:
        self.rows.writerow([spreadsheet_safe(entry[key]) for key, _ in COLUMNS])
        separator = "\n    " if self.first else ",\n    "
        self.json_file.write(separator + json.dumps(entry, ensure_ascii=False))
        self.first = False

    def close_into(self, zipped: ZipEntries) -> None:
        self.json_file.write("\n  ]\n}\n")
        self.csv_file.close()
        self.json_file.close()
        sums = []
        for name, path in ((MANIFEST_CSV, self.csv_path), (MANIFEST_JSON, self.json_path)):
            written = zipped.add_file(name, path)
            sums.append(f"{written.sha256}  {name}\n")
        zipped.add_bytes(MANIFEST_SHA256, "".join(sums).encode(), compress=False)

    def __exit__(self, *_exc) -> None:
        for handle in (self.csv_file, self.json_file):
            handle.close()
        self.csv_path.unlink(missing_ok=True)
        self.json_path.unlink(missing_ok=True)
