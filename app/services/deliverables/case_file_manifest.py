"""The manifest of a case's file, as CSV (French Excel: `;`, BOM) and JSON: one line per file
— document, nature, kind, unit and episode proven with the market and lot it started under,
version, when it was issued and
acknowledged and how, size, SHA-256 — and the record of acknowledgements of every version.

A version whose PDF went with its anonymised person is listed « Supprimé », with the size and
SHA-256 recorded when it was issued, and no file. Pseudonymised, the manifest names the person
by their code, each version's line gives the SHA-256 of the PDF printed again without the name
and that of the version as issued, and signed scans are listed « Non inclus (pseudonymisé) »."""

import json
from datetime import datetime

from app.core.dates import to_local
from app.core.tables import Table, csv_chunks
from app.core.zip_entries import ZipEntries, ZipEntry
from app.models.attachments import Attachment
from app.models.deliverables import AcknowledgementMethod
from app.services.deliverables.case_file import CaseFile, CaseFileNames, FiledVersion

MANIFEST_CSV = "manifeste.csv"
MANIFEST_JSON = "manifeste.json"
DELETED = "Supprimé"
LEFT_OUT = "Non inclus (pseudonymisé)"
COLUMNS = [
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
ACKNOWLEDGEMENT_COLUMNS = [
    "Document",
    "Version",
    "Émis le",
    "SHA-256 du PDF émis",
    "Envoyé le",
    "Remis en main propre le",
    "Accusé de lecture le",
    "Accusé de lecture par",
    "Exemplaire signé",
]
VERSION, SCAN = "Livrable émis", "Exemplaire signé"
ACKNOWLEDGEMENTS, ATTACHMENT = "Accusés de lecture", "Pièce jointe"


class Manifest:
    """The lines of the manifest, added as the files are written; then written itself."""

    def __init__(self, file: CaseFile, names: CaseFileNames, *, generated_at: datetime):
        self.file, self.names = file, names
        self.generated_at = generated_at
        self.lines: list[dict] = []
        self.scan_paths: dict[int, str] = {}  # by version id, for the acknowledgements

    def add_version(self, item: FiledVersion, entry: ZipEntry | None) -> None:
        version = item.version
        self.lines.append(
            {
                **self._file(entry, version.size_bytes, version.sha256),
                # Equal to `sha256` unless the PDF was printed again, pseudonymised.
                "sha256_version_emise": version.sha256,
                **self._proves(item, VERSION),
                "emis_le": self._when(version.issued_at),
                "depose_le": None,
                **self._acknowledged(item),
            }
        )

    def add_scan(
        self, item: FiledVersion, scan: Attachment, entry: ZipEntry | None, *, left_out=False
    ) -> None:
        """`left_out`: a pseudonymised file holds no scan (it shows the name)."""
        if entry is not None:
            self.scan_paths[item.version.id] = entry.name
        elif left_out:
            self.scan_paths[item.version.id] = LEFT_OUT
        self.lines.append(
            {
                **self._file(
                    entry, scan.size_bytes, scan.sha256, LEFT_OUT if left_out else DELETED
                ),
                "sha256_version_emise": None,
                **self._proves(item, SCAN),
                "emis_le": self._when(item.version.issued_at),
                "depose_le": self._when(scan.uploaded_at),
                **self._acknowledged(item),
            }
        )

    def add_attachment(self, attachment: Attachment, entry: ZipEntry) -> None:
        self.lines.append(
            {
                **self._file(entry, attachment.size_bytes, attachment.sha256),
                "sha256_version_emise": None,
                "document": self.names.attachment_title(attachment),
                "nature": ATTACHMENT,
                "type": CaseFile.type_label(attachment),
                **_NOTHING_PROVEN,
                "emis_le": None,
                "depose_le": self._when(attachment.uploaded_at),
                "accuse_le": None,
                "accuse_par": None,
            }
        )

    def add_acknowledgements(self, archive: ZipEntries, path: str) -> None:
        """The record of how each version was sent, handed over and acknowledged, as a CSV."""
        rows = [self._acknowledgement_row(item) for item in self.file.versions]
        table = Table(ACKNOWLEDGEMENTS, ACKNOWLEDGEMENT_COLUMNS, rows, path)
        entry = archive.add_chunks(path, csv_chunks(table))
        self.lines.append(
            {
                **self._file(entry, entry.size, entry.sha256),
                "sha256_version_emise": None,
                "document": "Accusés de lecture et remises des documents",
                "nature": ACKNOWLEDGEMENTS,
                "type": "CSV",
                **_NOTHING_PROVEN,
                "emis_le": None,
                "depose_le": None,
                "accuse_le": None,
                "accuse_par": None,
            }
        )

    def write_into(self, archive: ZipEntries, root: str) -> None:
        """The manifest as CSV and JSON, at the archive's root folder."""
        rows = [self._csv_row(line) for line in self.lines]
        table = Table("Manifeste", COLUMNS, rows, MANIFEST_CSV)
        archive.add_chunks(f"{root}/{MANIFEST_CSV}", csv_chunks(table))
        document = {
            "dossier": self.file.case.reference,
            "beneficiaire": self.names.person,
            "operateur": self.file.operator.name,
            "pseudonymise": self.names.pseudonymise,
            "fuseau_horaire": self.file.time_zone,
            "genere_le": self.generated_at.isoformat(timespec="seconds"),
            "fichiers": self.lines,
        }
        data = json.dumps(document, ensure_ascii=False, indent=1).encode()
        archive.add_bytes(f"{root}/{MANIFEST_JSON}", data)

    # ---- one line's parts ----

    @staticmethod
    def _file(entry: ZipEntry | None, size: int, sha256: str, absent: str = DELETED) -> dict:
        """Where the file is in the archive; one not in it (`absent`: deleted with its person,
        or left out of a pseudonymised file) keeps the size and SHA-256 it had."""
        if entry is None:
            return {
                "fichier": None,
                "supprime": absent == DELETED,
                "absent": absent,
                "taille": size,
                "sha256": sha256,
            }
        return {
            "fichier": entry.name,
            "supprime": False,
            "absent": None,
            "taille": entry.size,
            "sha256": entry.sha256,
        }

    def _proves(self, item: FiledVersion, nature: str) -> dict:
        episode = item.episode
        return {
            "document": self.names.person_names.scrub(item.deliverable.title),
            "nature": nature,
            "type": item.kind.label,
            "unite": item.unit.code if item.unit else None,
            "episode": None
            if episode is None
            else {
                "id": episode.id,
                "debut": self._day(episode.started_at),
                "fin": self._day(episode.ended_at),
            },
            "marche": item.market.name if item.market else None,
            "lot": None
            if item.lot is None
            else {
                "id": item.lot.id,
                "debut": item.lot.starts_on.isoformat(),
                "fin": item.lot.ends_on.isoformat(),
            },
            "version": item.version.number,
        }

    def _acknowledged(self, item: FiledVersion) -> dict:
        version = item.version
        method = version.acknowledgement_method
        return {
            "accuse_le": self._when(version.acknowledged_at),
            "accuse_par": AcknowledgementMethod(method).label if method else None,
        }

    def _acknowledgement_row(self, item: FiledVersion) -> list:
        version = item.version
        method = version.acknowledgement_method
        return [
            self.names.person_names.scrub(item.deliverable.title),
            version.number,
            _shown(self._when(version.issued_at)),
            version.sha256,
            _shown(self._when(version.shared_at)),
            _shown(self._when(version.handed_over_at)),
            _shown(self._when(version.acknowledged_at)),
            AcknowledgementMethod(method).label if method else "",
            self.scan_paths.get(version.id, DELETED if item.scan is not None else ""),
        ]

    def _csv_row(self, line: dict) -> list:
        episode = line.get("episode")
        return [
            line["absent"] or line["fichier"],
            line["document"],
            line["nature"],
            line["type"],
            line.get("unite") or "",
            _episode_text(episode),
            line.get("marche") or "",
            _lot_text(line.get("lot")),
            line.get("version") or "",
            _shown(line["emis_le"]),
            _shown(line["depose_le"]),
            _shown(line["accuse_le"]),
            line["accuse_par"] or "",
            line["taille"],
            line["sha256_version_emise"] or "",
            line["sha256"],
        ]

    def _when(self, value: datetime | None) -> str | None:
        """A moment in the case's time zone, with its offset (JSON)."""
        return to_local(value, self.file.time_zone).isoformat() if value else None

    def _day(self, value: datetime | None) -> str | None:
        return to_local(value, self.file.time_zone).date().isoformat() if value else None


_NOTHING_PROVEN = {"unite": None, "episode": None, "marche": None, "lot": None, "version": None}


def _shown(moment: str | None) -> str:
    """« 2026-12-06 14:03 »: a moment as a spreadsheet reads it, in the case's time zone."""
    return moment[:16].replace("T", " ") if moment else ""


def _lot_text(lot: dict | None) -> str:
    return f"n° {lot['id']}, du {lot['debut']} au {lot['fin']}" if lot else ""


def _episode_text(episode: dict | None) -> str:
    if episode is None:
        return ""
    if episode["fin"]:
        return f"n° {episode['id']}, du {episode['debut']} au {episode['fin']}"
    return f"n° {episode['id']}, depuis le {episode['debut']}"
