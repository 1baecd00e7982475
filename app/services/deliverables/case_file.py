"""A case's whole file (« Télécharger le dossier »): what it holds and how its files are named.

Every issued version of every deliverable, the signed scans that acknowledged them, and the
attachments the counsellor chooses (app/services/deliverables/case_file_archive.py packs them
with the manifest). Nothing of the interviews is taken: private notes never leave the case."""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Annotated

from pydantic import Field
from sqlalchemy import and_
from sqlmodel import Session, col, select

from app.core.dates import local_today, to_local
from app.core.errors import Invalid, NotFound
from app.core.files import ACCEPTED, type_label
from app.models.attachments import Attachment
from app.models.beneficiaries import Beneficiary
from app.models.bounds import RowId
from app.models.cases import Case, Episode
from app.models.catalogue import DeliverableKind, ServiceUnit
from app.models.deliverables import Deliverable, DeliverableVersion
from app.models.markets import Lot, Market
from app.models.operators import Operator
from app.models.staff import StaffUser
from app.services.access.scope import owned_by
from app.services.audit.outside_reads import reason_to_read
from app.services.audit.purposes import StatedPurpose
from app.services.cases.lifecycle import case_time_zone, get_case
from app.services.cases.private_notes import follows_case
from app.services.deliverables.file_names import (
    case_folder_name,
    deliverable_file_name,
    safe_part,
)
from app.services.deliverables.pseudonyms import PersonNames

# More attachments than any case holds: a longer list is garbage, refused before any query.
MAX_CHOSEN = 1000
UNKNOWN_ATTACHMENT = "Cette pièce jointe n'appartient pas au dossier."
DELETED_ATTACHMENT = "Cette pièce jointe a été supprimée : la personne a été anonymisée."
PSEUDONYMISED_ATTACHMENTS = (
    "Un dossier pseudonymisé ne contient pas de pièces jointes : elles peuvent porter le nom de "
    "la personne. Décochez les pièces jointes ou la pseudonymisation."
)


@dataclass
class FiledVersion:
    """An issued version as the case file holds it, with what it proves and its signed scan."""

    deliverable: Deliverable
    kind: DeliverableKind
    version: DeliverableVersion
    unit: ServiceUnit | None
    episode: Episode | None
    scan: Attachment | None
    # The market and lot the episode proven started under (issue 11): None before any market.
    lot: Lot | None = None
    market: Market | None = None

    @property
    def deleted(self) -> bool:
        """Its PDF went with the person, anonymised: listed, no file."""
        return self.version.file_deleted_at is not None

    @property
    def label(self) -> str:
        """How messages name it: « Document de synthèse » v2."""
        return f"« {self.deliverable.title} » v{self.version.number}"


@dataclass
class CaseFile:
    """What « Télécharger le dossier » lists and packs for one case."""

    case: Case
    beneficiary: Beneficiary
    operator: Operator
    time_zone: str
    versions: list[FiledVersion]
    # Files kept with the case that are no signed scan, oldest first; with their position.
    attachments: list[Attachment]

    def attachment_number(self, attachment: Attachment) -> int:
        """Its place among the case's attachments: how a pseudonymised file names it."""
        return self.attachments.index(attachment) + 1

    @staticmethod
    def type_label(attachment: Attachment) -> str:
        return type_label(attachment.content_type)


class CaseFileRequest(StatedPurpose):
    """The « Télécharger le dossier » form: the attachments chosen, whether names stay out of
    the manifest, and the purpose of the export (the trail's reason)."""

    pieces: Annotated[list[RowId], Field(max_length=MAX_CHOSEN)] = []
    pseudonymise: bool = False


# ---- what the case holds --------------------------------------------------------------------


def case_file_case(*, session: Session, actor: StaffUser, case_id: int) -> Case:
    """The case whose file the actor may take, checked before anything of it is read: only
    those who follow it (its counsellors, their managers, the operator's admins) do, whatever
    the reason setting — anyone else finds nothing, as with another operator's case; and a file
    outside the actor's cases would ask its reason first (ReasonRequired), so that no page or
    error lists its documents to whoever has not given it."""
    case = get_case(session=session, actor=actor, case_id=case_id)
    if not follows_case(session=session, actor=actor, case=case):
        raise NotFound()
    reason_to_read(session, actor=actor, beneficiary_id=case.beneficiary_id)
    return case


def case_file(*, session: Session, actor: StaffUser, case_id: int) -> CaseFile:
    """The case's issued versions (by deliverable, oldest first) and its other attachments."""
    case = case_file_case(session=session, actor=actor, case_id=case_id)
    attachments = _attachments(session, case)
    versions = _versions(session, case, {a.id: a for a in attachments})
    scan_ids = {item.scan.id for item in versions if item.scan is not None}
    return CaseFile(
        case=case,
        beneficiary=session.get(Beneficiary, case.beneficiary_id),
        operator=session.get(Operator, case.operator_id),
        time_zone=case_time_zone(session, case),
        versions=versions,
        attachments=[a for a in attachments if a.id not in scan_ids],
    )


def _attachments(session: Session, case: Case) -> list[Attachment]:
    statement = select(Attachment).where(Attachment.case_id == case.id)
    return list(session.exec(statement.order_by(Attachment.uploaded_at, Attachment.id)))


def _versions(session: Session, case: Case, attachments: dict) -> list[FiledVersion]:
    statement = (
        select(DeliverableVersion, Deliverable, DeliverableKind, Episode, ServiceUnit, Lot, Market)
        .join(Deliverable, col(Deliverable.id) == DeliverableVersion.deliverable_id)
        .join(DeliverableKind, col(DeliverableKind.id) == Deliverable.kind_id)
        .outerjoin(Episode, col(Episode.id) == Deliverable.episode_id)
        .outerjoin(ServiceUnit, col(ServiceUnit.id) == Episode.unit_id)
        .outerjoin(Lot, and_(col(Lot.id) == Episode.lot_id, owned_by(Lot, case.operator_id)))
        .outerjoin(Market, col(Market.id) == Lot.market_id)
        .where(Deliverable.case_id == case.id)
        .order_by(Deliverable.created_at, Deliverable.id, DeliverableVersion.number)
    )
    return [
        FiledVersion(
            deliverable,
            kind,
            version,
            unit,
            episode,
            attachments.get(version.scan_attachment_id),
            lot,
            market,
        )
        for version, deliverable, kind, episode, unit, lot, market in session.exec(statement)
    ]


def chosen_attachments(
    file: CaseFile, ids: Iterable[int], *, pseudonymise: bool = False
) -> list[Attachment]:
    """The attachments ticked, in the case's order. An id that is none of the case's (a signed
    scan comes with its version) is not found, as any row outside the page; one whose file went
    with the person since the page was shown is Invalid, and so is any in a pseudonymised file
    (a payslip or an ID card cannot be printed again without the name)."""
    wanted = set(ids)
    chosen = [a for a in file.attachments if a.id in wanted]
    if len(chosen) != len(wanted):
        raise NotFound(UNKNOWN_ATTACHMENT)
    if chosen and pseudonymise:
        raise Invalid({"pieces": PSEUDONYMISED_ATTACHMENTS})
    if any(a.file_deleted for a in chosen):
        raise Invalid({"pieces": DELETED_ATTACHMENT})
    return chosen


# ---- names ------------------------------------------------------------------------------------


class CaseFileNames:
    """The names inside the archive and its manifest: ASCII file names by reference, kind,
    version and day; the person's name only where the operator asks for it, never when the
    file is pseudonymised."""

    def __init__(self, file: CaseFile, pseudonymise: bool):
        self.file, self.pseudonymise = file, pseudonymise
        self.root = case_folder_name(file.case.reference)
        person = file.beneficiary
        # The proof packs' rule: the person's code in every text, each PDF printed again.
        self.person_names = PersonNames(person, file.operator.id, active=pseudonymise)
        self.person = self.person_names.display
        with_names = file.operator.person_names_in_file_names and not pseudonymise
        self.person_in_names = person.full_name if with_names else None

    def document(self, item: FiledVersion, folder: str, extension: str = "pdf") -> str:
        name = deliverable_file_name(
            self.file.case.reference,
            item.kind.label,
            item.version.number,
            item.version.issued_at,
            person_name=self.person_in_names,
            time_zone=self.file.time_zone,
            extension=extension,
        )
        return f"{self.root}/{folder}/{name}"

    def attachment(self, attachment: Attachment) -> str:
        number = self.file.attachment_number(attachment)
        day = to_local(attachment.uploaded_at, self.file.time_zone).date().isoformat()
        parts = [self.root, f"piece-jointe-{number}", day]
        if self.person_in_names and (given := safe_part(Path(attachment.filename).stem)):
            parts.append(given)  # the name it was given may well name people too
        return f"{self.root}/pieces-jointes/{'_'.join(parts)}.{extension_of(attachment)}"

    def attachment_title(self, attachment: Attachment) -> str:
        if self.pseudonymise:
            return f"Pièce jointe n° {self.file.attachment_number(attachment)}"
        return attachment.filename

    def archive(self, now: datetime) -> str:
        return f"{self.root}_dossier_{local_today(self.file.time_zone, now=now).isoformat()}.zip"


def extension_of(attachment: Attachment) -> str:
    """The extension of a kept file's type (read from its content when it was received)."""
    kind = ACCEPTED.get(attachment.content_type)
    return kind.extensions[0] if kind else "bin"
