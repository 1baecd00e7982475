"""The proof pack of a control campaign: a ZIP built in the background, a few cases at a time.

Per sampled case, a folder with the issued deliverable PDFs, the signed scans that acknowledged
them, the acknowledgements as a CSV and the interaction log (shared summaries only, never the
private notes). At the root, the manifest as CSV and JSON: for each sampled unit, its case,
dates, proof status and every file with its SHA-256.

Memory stays flat: files are streamed into an archive on disk, the manifest is written to
temporary files as it goes, and the database is read PACK_BATCH cases at a time."""

import contextlib
import csv
import hashlib
import json
import re
import threading
import unicodedata
import zipfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from sqlmodel import Session, col, select

from app.core.dates import to_local
from app.core.errors import DomainError
from app.core.storage import CHUNK, get_storage
from app.core.tables import Table, csv_chunks, spreadsheet_safe
from app.models.attachments import Attachment
from app.models.base import utcnow
from app.models.beneficiaries import Beneficiary
from app.models.cases import Case, Episode, Interaction
from app.models.catalogue import DeliverableKind, ServiceUnit
from app.models.control import ControlCampaign, ControlFinding, ControlSampleUnit, PackStatus
from app.models.deliverables import AcknowledgementMethod, Deliverable, DeliverableVersion
from app.models.nomenclatures import InteractionChannel
from app.models.operators import Operator
from app.models.staff import StaffUser
from app.services.cases.lifecycle import case_time_zone
from app.services.control.campaigns import (
    DRAW_METHOD,
    drawn_ids,
    population_ids_of,
    seed_basis_of,
)
from app.services.control.history import campaign_history, history_manifest
from app.services.control.proofs import proof_status_for_episodes
from app.services.deliverables.pdf import render_deliverable_pdf
from app.services.deliverables.pseudonyms import PersonNames
from app.services.jobs.leases import (  # noqa: F401 — LEASE and LeaseLost: for the tests
    LEASE,
    Bind,
    Lease,
    LeaseLost,
    LeaseReleased,
    claim,
    next_claimable,
    reading,
    stopping,
    writing,
)

PACK_BATCH = 50
MANIFEST_CSV = "manifeste.csv"
MANIFEST_JSON = "manifeste.json"


class PackError(Exception):
    """A proof cannot be packed as it is recorded (e.g. a stored file changed)."""


# ---- running a build ---------------------------------------------------------------------------


def build_campaign_pack(bind: Bind, campaign_id: int) -> bool:
    """Build this campaign's pack if no one else is; True when this call built it."""
    lease = _claim(bind, campaign_id)
    if lease is None:
        return False
    _build_claimed(lease)
    return True


def build_pending_packs(bind: Bind, *, stop: threading.Event | None = None) -> list[int]:
    """Build every queued pack (and any whose builder stopped), oldest first; when `stop` is
    set, the pack under way is handed back at its next batch and no other is started."""
    built = []
    while not stopping(stop) and (campaign_id := _next_claimable(bind)) is not None:
        if (lease := _claim(bind, campaign_id, stop)) is not None:
            try:
                _build_claimed(lease)
            except LeaseReleased:
                break
            built.append(campaign_id)
    return built


def _next_claimable(bind: Bind) -> int | None:
    return next_claimable(bind, ControlCampaign)


def _claim(bind: Bind, campaign_id: int, stop: threading.Event | None = None) -> Lease | None:
    return claim(bind, ControlCampaign, campaign_id, stop=stop, cases_done=0, error="")


def _build_claimed(lease: Lease) -> None:
    storage = get_storage()
    archive_path = storage.temporary_path()
    try:
        _write_archive(lease, archive_path)
        digest, size = _digest_of(archive_path)
        key = storage.save_file(archive_path)
    except LeaseReleased:
        archive_path.unlink(missing_ok=True)
        raise
    except LeaseLost:
        archive_path.unlink(missing_ok=True)
        return
    except Exception as error:
        archive_path.unlink(missing_ok=True)
        # Our own errors speak French to the manager; anything else is named for the logs.
        message = str(error) if isinstance(error, PackError | DomainError) else _unexpected(error)
        with contextlib.suppress(LeaseLost):
            lease.write(status=PackStatus.FAILED, error=message[:1000], finished_at=utcnow())
        raise
    with reading(lease.bind) as session:
        previous = session.get(ControlCampaign, lease.row_id).pack_key
    try:
        lease.write(
            status=PackStatus.READY,
            pack_key=key,
            pack_sha256=digest,
            pack_size=size,
            cases_done=ControlCampaign.cases_total,
            finished_at=utcnow(),
        )
    except LeaseLost:
        storage.delete(key)  # the builder that took over keeps its own archive
        return
    except BaseException:
        storage.delete(key)  # no archive without the row that points at it
        raise
    if previous:  # a rebuild after a failure or a crash replaces the older archive
        storage.delete(previous)


def _unexpected(error: Exception) -> str:
    return (
        f"erreur inattendue ({type(error).__name__}). Relancez la préparation ; si elle échoue "
        "encore, prévenez l'administrateur (le détail est dans le journal du serveur)."
    )


def _digest_of(path: Path) -> tuple[str, int]:
    digest, size = hashlib.sha256(), 0
    with path.open("rb") as handle:
        while chunk := handle.read(CHUNK):
            digest.update(chunk)
            size += len(chunk)
    return digest.hexdigest(), size


# ---- the archive -----------------------------------------------------------------------------


def _write_archive(lease: Lease, archive_path: Path) -> None:
    bind, campaign_id = lease.bind, lease.row_id
    with reading(bind) as session:
        campaign = session.get(ControlCampaign, campaign_id)
        session.expunge(campaign)
        operator = session.get(Operator, campaign.operator_id)
        header = _campaign_header(campaign, operator, drawn_ids(session, campaign_id))
        header["constats"] = _findings(session, campaign) if campaign.closed else None
        history = history_manifest(campaign_history(session, campaign_id))
        case_ids = list(_sampled_case_ids(session, campaign_id))
    stamp = to_local(campaign.created_at, operator.time_zone).timetuple()[:6]
    with (
        zipfile.ZipFile(archive_path, "w") as archive,
        _Manifest(get_storage().temporary_path(), header, history) as manifest,
    ):
        packer = _Packer(archive, campaign, stamp)
        for start in range(0, len(case_ids), PACK_BATCH):
            batch = case_ids[start : start + PACK_BATCH]
            with reading(bind) as session:
                for dossier in _load_dossiers(session, campaign, batch):
                    for unit in packer.pack(dossier):
                        manifest.add(unit)
            lease.checkpoint(cases_done=start + len(batch))
        manifest.close_into(packer)


def _sampled_case_ids(session: Session, campaign_id: int) -> Iterable[int]:
    statement = (
        select(Case.id)
        .join(Episode, col(Episode.case_id) == Case.id)
        .join(ControlSampleUnit, col(ControlSampleUnit.episode_id) == Episode.id)
        .where(ControlSampleUnit.campaign_id == campaign_id)
        .group_by(Case.id, Case.reference)
        .order_by(Case.reference)
    )
    return session.exec(statement)


def _campaign_header(campaign: ControlCampaign, operator: Operator, drawn: list[int]) -> dict:
    """The campaign's record, with all a third party needs to draw its sample again (README,
    « Refaire un tirage »): the seed, how it was derived, the population's ids."""
    return {
        "campagne": campaign.id,
        "nature": campaign.kind_label,
        "operateur": operator.name,
        "periode": {"du": campaign.period_start.isoformat(), "au": campaign.period_end.isoformat()},
        "taille_demandee": campaign.sample_size,
        "taux_demande_pourcent": campaign.sample_rate,
        "graine": campaign.seed,
        "valeur_publique": campaign.public_value,
        "base_de_la_graine": seed_basis_of(campaign),
        "methode_de_tirage": DRAW_METHOD,
        "population": campaign.population,
        "population_ids": population_ids_of(campaign),
        "unites_tirees": campaign.drawn,
        "echantillon_ids": drawn,
        "dossiers": campaign.cases_total,
        "pseudonymise": campaign.pseudonymise,
        "cree_le": campaign.created_at.isoformat(),
        "echeance": campaign.deadline.isoformat() if campaign.deadline else None,
        "soumis_le": campaign.submitted_at.isoformat() if campaign.submitted_at else None,
        "clos_le": campaign.closed_at.isoformat() if campaign.closed_at else None,
    }


def _findings(session: Session, campaign: ControlCampaign) -> list[dict]:
    """A closed campaign's verdicts, in the order of the draw; amounts as exact decimals."""
    statement = (
        select(ControlFinding)
        .join(
            ControlSampleUnit,
            (col(ControlSampleUnit.campaign_id) == ControlFinding.campaign_id)
            & (col(ControlSampleUnit.episode_id) == ControlFinding.episode_id),
        )
        .where(ControlFinding.campaign_id == campaign.id)
        .order_by(ControlSampleUnit.position)
    )
    return [
        {
            "unite_id": finding.episode_id,
            "verdict": finding.verdict_label,
            "motif": finding.reason_label or None,
            "commentaire": finding.comment,
            "montant": None if finding.amount is None else f"{finding.amount:.2f}",
            "controle_le": finding.reviewed_at.isoformat(),
            "reponse": finding.answer,
            "repondu_le": finding.answered_at.isoformat() if finding.answered_at else None,
        }
        for finding in session.exec(statement)
    ]


# ---- what one case brings ---------------------------------------------------------------------


@dataclass
class _Version:
    version: DeliverableVersion
    deliverable: Deliverable
    kind: DeliverableKind
    scan: Attachment | None


@dataclass
class _Dossier:
    case: Case
    beneficiary: Beneficiary
    time_zone: str
    episodes: list[tuple[Episode, ServiceUnit, bool]]  # sampled units, proof complete or not
    versions: list[_Version] = field(default_factory=list)
    interactions: list[tuple[Interaction, str, str | None]] = field(default_factory=list)


def _load_dossiers(session: Session, campaign: ControlCampaign, case_ids: list[int]) -> list:
    """Everything the pack needs for these cases, in a fixed number of queries."""
    rows = session.exec(
        select(Case, Beneficiary)
        .join(Beneficiary, col(Beneficiary.id) == Case.beneficiary_id)
        .where(col(Case.id).in_(case_ids))
    )
    dossiers = {
        case.id: _Dossier(case, person, case_time_zone(session, case), []) for case, person in rows
    }
    sampled = list(
        session.exec(
            select(Episode, ServiceUnit)
            .join(ControlSampleUnit, col(ControlSampleUnit.episode_id) == Episode.id)
            .join(ServiceUnit, col(ServiceUnit.id) == Episode.unit_id)
            .where(ControlSampleUnit.campaign_id == campaign.id, col(Episode.case_id).in_(case_ids))
            .order_by(Episode.started_at, Episode.id)
        )
    )
    proofs = proof_status_for_episodes(
        session=session, operator_id=campaign.operator_id, episodes=[e for e, _ in sampled]
    )
    for episode, unit in sampled:
        dossiers[episode.case_id].episodes.append((episode, unit, proofs[episode.id].complete))
    _attach_versions(session, dossiers, case_ids)
    _attach_interactions(session, dossiers, case_ids)
    return [dossiers[case_id] for case_id in case_ids]


def _attach_versions(session: Session, dossiers: dict, case_ids: list[int]) -> None:
    rows = list(
        session.exec(
            select(DeliverableVersion, Deliverable, DeliverableKind)
            .join(Deliverable, col(Deliverable.id) == DeliverableVersion.deliverable_id)
            .join(DeliverableKind, col(DeliverableKind.id) == Deliverable.kind_id)
            .where(col(Deliverable.case_id).in_(case_ids))
            .order_by(Deliverable.id, DeliverableVersion.number)
        )
    )
    scan_ids = [v.scan_attachment_id for v, _, _ in rows if v.scan_attachment_id]
    scans = {}
    if scan_ids:
        found = session.exec(select(Attachment).where(col(Attachment.id).in_(scan_ids)))
        scans = {scan.id: scan for scan in found}
    for version, deliverable, kind in rows:
        scan = scans.get(version.scan_attachment_id)
        dossiers[deliverable.case_id].versions.append(_Version(version, deliverable, kind, scan))


def _attach_interactions(session: Session, dossiers: dict, case_ids: list[int]) -> None:
    statement = (
        select(Interaction, StaffUser.full_name, ServiceUnit.code)
        .join(StaffUser, col(StaffUser.id) == Interaction.counsellor_id)
        .outerjoin(Episode, col(Episode.id) == Interaction.episode_id)
        .outerjoin(ServiceUnit, col(ServiceUnit.id) == Episode.unit_id)
        .where(col(Interaction.case_id).in_(case_ids))
        .order_by(Interaction.occurred_at, Interaction.id)
    )
    for interaction, counsellor, unit_code in session.exec(statement):
        dossiers[interaction.case_id].interactions.append((interaction, counsellor, unit_code))


# ---- writing one case --------------------------------------------------------------------------


@dataclass
class PackedFile:
    path: str
    nature: str
    sha256: str
    size: int
    episode_id: int | None = None  # the unit this file proves, if any


class _Packer:
    def __init__(self, archive: zipfile.ZipFile, campaign: ControlCampaign, stamp: tuple):
        self.archive = archive
        self.campaign = campaign
        self.stamp = stamp  # every entry dated at the campaign's creation: a stable archive

    def add(self, path: str, chunks: Iterable[bytes], *, compress: bool) -> tuple[str, int]:
        info = zipfile.ZipInfo(path, date_time=self.stamp)
        info.compress_type = zipfile.ZIP_DEFLATED if compress else zipfile.ZIP_STORED
        digest, size = hashlib.sha256(), 0
        with self.archive.open(info, "w") as entry:
            for chunk in chunks:
                digest.update(chunk)
                size += len(chunk)
                entry.write(chunk)
        return digest.hexdigest(), size

    def pack(self, dossier: _Dossier) -> list[dict]:
        """Write the case's files; returns its sampled units as manifest entries."""
        names = PersonNames(
            dossier.beneficiary, self.campaign.operator_id, active=self.campaign.pseudonymise
        )
        folder = dossier.case.reference
        files = [*self._documents(dossier, folder, names)]
        files.append(self._acknowledgements(dossier, folder, names))
        files.append(self._journal(dossier, folder, names))
        return [_unit_entry(dossier, names, unit, files) for unit in dossier.episodes]

    def _documents(
        self, dossier: _Dossier, folder: str, names: PersonNames
    ) -> Iterator[PackedFile]:
        storage = get_storage()
        for item in dossier.versions:
            version, deliverable = item.version, item.deliverable
            stem = (
                f"{folder}/livrables/{_slug(deliverable.title)}-{deliverable.id}-v{version.number}"
            )
            if self.campaign.pseudonymise or version.file_deleted_at is not None:
                # A version whose PDF went with its anonymised person (retention) is printed
                # again from its content, itself anonymised then: the unit still has its proof.
                pdf = render_deliverable_pdf(names.scrub_content(version.content))
                digest, size = self.add(f"{stem}.pdf", [pdf], compress=False)
            else:
                chunks = storage.iter_chunks(version.storage_key)
                digest, size = self.add(f"{stem}.pdf", chunks, compress=False)
                if digest != version.sha256:
                    raise PackError(
                        f"Le PDF de « {deliverable.title} » v{version.number} du dossier {folder} "
                        "ne correspond plus à l'empreinte enregistrée à son émission."
                    )
            yield PackedFile(f"{stem}.pdf", "livrable", digest, size, deliverable.episode_id)
            # A signed scan shows the name; it is gone once the person was anonymised.
            if item.scan and not self.campaign.pseudonymise and not item.scan.file_deleted:
                path = f"{stem}-accuse-signe{_extension(item.scan.filename)}"
                chunks = storage.iter_chunks(item.scan.storage_key)
                digest, size = self.add(path, chunks, compress=True)
                if digest != item.scan.sha256:
                    raise PackError(
                        f"L'exemplaire signé de « {deliverable.title} » v{version.number} du "
                        f"dossier {folder} ne correspond plus à l'empreinte enregistrée."
                    )
                yield PackedFile(path, "accuse_signe", digest, size, deliverable.episode_id)

    def _acknowledgements(self, dossier: _Dossier, folder: str, names: PersonNames) -> PackedFile:
        columns = ["Document", "Version", "Émis le", "SHA-256 du PDF émis", "Partagé le"]
        columns += ["Accusé de lecture le", "Méthode", "SHA-256 de l'exemplaire signé"]
        rows = []
        for item in dossier.versions:
            version = item.version
            method = version.acknowledgement_method
            rows.append(
                [
                    names.scrub(item.deliverable.title),
                    version.number,
                    _local(version.issued_at, dossier.time_zone),
                    version.sha256,
                    _local(version.shared_at, dossier.time_zone),
                    _local(version.acknowledged_at, dossier.time_zone),
                    AcknowledgementMethod(method).label if method else "",
                    item.scan.sha256 if item.scan else "",
                ]
            )
        path = f"{folder}/accuses-de-lecture.csv"
        digest, size = self.add(path, csv_chunks(Table(path, columns, rows, path)), compress=True)
        return PackedFile(path, "accuses_de_lecture", digest, size)

    def _journal(self, dossier: _Dossier, folder: str, names: PersonNames) -> PackedFile:
        columns = ["Date", "Canal", "Durée (min)", "Unité", "Conseiller·ère", "Résumé partagé"]
        rows = [
            [
                _local(interaction.occurred_at, dossier.time_zone),
                InteractionChannel(interaction.channel).label,
                interaction.duration_minutes,
                unit_code or "Hors UO",
                counsellor,
                names.scrub(interaction.summary),
            ]
            for interaction, counsellor, unit_code in dossier.interactions
        ]
        path = f"{folder}/journal-des-actes.csv"
        digest, size = self.add(path, csv_chunks(Table(path, columns, rows, path)), compress=True)
        return PackedFile(path, "journal", digest, size)


def _unit_entry(dossier: _Dossier, names: PersonNames, unit_row, files: list[PackedFile]) -> dict:
    episode, unit, complete = unit_row
    return {
        "dossier": dossier.case.reference,
        "beneficiaire": names.display,
        "unite_id": episode.id,
        "unite": unit.code,
        "debut": to_local(episode.started_at, dossier.time_zone).date().isoformat(),
        "fin": to_local(episode.ended_at, dossier.time_zone).date().isoformat(),
        "preuves_completes": complete,
        "fichiers": [
            {
                "chemin": packed.path,
                "nature": packed.nature,
                "preuve_de_l_unite": packed.episode_id == episode.id,
                "taille": packed.size,
                "sha256": packed.sha256,
            }
            for packed in files
        ],
    }


# ---- the manifest -----------------------------------------------------------------------------

MANIFEST_COLUMNS = [
    "Dossier",
    "Bénéficiaire",
    "Unité",
    "Début",
    "Fin",
    "Preuves complètes",
    "Fichier",
    "Nature",
    "Preuve de l'unité",
    "Taille (octets)",
    "SHA-256",
]


class _Manifest:
    """The CSV (one row per unit and file) and the JSON, spooled to disk while cases are packed."""

    def __init__(self, scratch: Path, header: dict, history: list[dict]):
        self.csv_path = scratch.with_suffix(".csv")
        self.json_path = scratch.with_suffix(".json")
        self.header = header
        self.history = history  # an official campaign's steps (`campaign_history`)
        self.count = 0

    def __enter__(self) -> "_Manifest":
        self.csv_file = self.csv_path.open("w", encoding="utf-8", newline="")
        self.csv_file.write("\ufeff")
        self.csv = csv.writer(self.csv_file, delimiter=";")
        self.csv.writerow(MANIFEST_COLUMNS)
        self.json_file = self.json_path.open("w", encoding="utf-8")
        opening = json.dumps(
            {"campagne": self.header, "historique": self.history}, ensure_ascii=False, indent=1
        )
        self.json_file.write(opening[:-2] + ',\n "unites": [\n')
        return self

    def add(self, unit: dict) -> None:
        for packed in unit["fichiers"]:
            row = [
                unit["dossier"],
                unit["beneficiaire"],
                unit["unite"],
                unit["debut"],
                unit["fin"],
                "oui" if unit["preuves_completes"] else "non",
                packed["chemin"],
                packed["nature"],
                "oui" if packed["preuve_de_l_unite"] else "non",
                packed["taille"],
                packed["sha256"],
            ]
            self.csv.writerow([spreadsheet_safe(value) for value in row])
        separator = ",\n" if self.count else ""
        self.json_file.write(separator + json.dumps(unit, ensure_ascii=False))
        self.count += 1

    def close_into(self, packer: _Packer) -> None:
        self.json_file.write("\n ]\n}\n")
        for handle in (self.csv_file, self.json_file):
            handle.close()
        for name, path in ((MANIFEST_CSV, self.csv_path), (MANIFEST_JSON, self.json_path)):
            with path.open("rb") as handle:
                packer.add(name, iter(lambda: handle.read(CHUNK), b""), compress=True)

    def __exit__(self, *_exc) -> None:
        for handle in (self.csv_file, self.json_file):
            handle.close()
        self.csv_path.unlink(missing_ok=True)
        self.json_path.unlink(missing_ok=True)


# ---- small helpers ----------------------------------------------------------------------------


def _local(value: datetime | None, time_zone: str) -> str:
    return to_local(value, time_zone).strftime("%Y-%m-%d %H:%M") if value else ""


def _slug(text: str) -> str:
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")[:60] or "document"


def _extension(filename: str) -> str:
    suffix = Path(filename).suffix.lower()
    return suffix if re.fullmatch(r"\.[a-z0-9]{1,5}", suffix) else ""
