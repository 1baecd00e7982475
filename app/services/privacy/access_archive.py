"""The access archive (RGPD article 15): a ZIP of everything held on one person, built in the
background by the worker with the proof packs' leases (app/services/jobs/leases.py).

`donnees.json` holds their identity, profile and consents, their cases with the episodes,
interactions, action plan, deliverables (drafts and issued contents), referrals, appointments,
triage requests, surveys and the e-mails about them, their rights requests, and the audit
entries of accesses to their file (who by role, when, what kind of record: never a staff
name nor anyone else's data). Beside it, the issued PDFs exactly as issued and the files
attached to their cases. Everything is selected by the person's own id or their cases' ids:
nothing of another person can come in. Available to the operator's administrators for
ARCHIVE_DAYS, then the worker deletes the file."""

import contextlib
import json
import logging
import re
import threading
import unicodedata
import zipfile
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from sqlmodel import Session, SQLModel, col, or_, select

from app.core.errors import Conflict, NotFound
from app.core.storage import CHUNK, delete_after_commit, get_storage
from app.models.appointments import Appointment
from app.models.attachments import Attachment
from app.models.audit import AuditAction, AuditEvent
from app.models.base import utcnow
from app.models.beneficiaries import Beneficiary
from app.models.cases import Case, Episode, Interaction
from app.models.control import PackStatus
from app.models.deliverables import ActionPlan, ActionStep, Deliverable, DeliverableVersion
from app.models.nomenclatures import Role
from app.models.outbox import OutboxMessage
from app.models.partners import Partner, Referral, ReferralEvent
from app.models.rights import AccessArchive, RightKind, RightsRequest, RightStatus
from app.models.staff import StaffUser
from app.models.surveys import SurveyInvitation, SurveyResponse
from app.models.triage import TriageRequest
from app.models.waiting_list import WaitingListEntry
from app.services.access.scope import load_owned
from app.services.audit.trail import record
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
from app.services.privacy.rights import load_request, require_operator_admin

log = logging.getLogger(__name__)

ARCHIVE_DAYS = 7
DATA_FILE = "donnees.json"
# Never written out: search copies, storage keys, the secrets behind links sent by e-mail.
HIDDEN_FIELDS = {"operator_id", "search_text", "storage_key", "link_nonce", "lease_until"}


# ---- asking for it and fetching it --------------------------------------------------------


def request_archive(*, session: Session, actor: StaffUser, request_id: int) -> AccessArchive:
    """Queue the archive of an access request (the one under way, if any); the request is
    then « en cours »."""
    request = load_request(session=session, actor=actor, request_id=request_id)
    if request.kind != RightKind.ACCESS:
        raise Conflict("Cette demande n'est pas une demande d'accès.")
    if not request.is_open:
        raise Conflict("Cette demande a déjà reçu sa réponse.")
    current = latest_archive(session=session, request=request)
    if current is not None and current.status in (PackStatus.QUEUED, PackStatus.BUILDING):
        return current
    archive = AccessArchive(operator_id=request.operator_id, request_id=request.id)
    request.status = RightStatus.IN_PROGRESS.value
    request.handled_by_id = actor.id
    session.add_all([archive, request])
    session.flush()
    return archive


def latest_archive(*, session: Session, request: RightsRequest) -> AccessArchive | None:
    statement = select(AccessArchive).where(col(AccessArchive.request_id) == request.id)
    return session.exec(statement.order_by(col(AccessArchive.id).desc()).limit(1)).first()


def available(archive: AccessArchive, now: datetime) -> bool:
    return (
        archive.status == PackStatus.READY
        and archive.deleted_at is None
        and archive.expires_at is not None
        and archive.expires_at > now
    )


def download_archive(
    *, session: Session, actor: StaffUser, archive_id: int, now: datetime | None = None
) -> tuple[AccessArchive, str]:
    """The ready archive and its file name, recorded in the audit trail as an export; only for
    the administrators of the operator that received the request."""
    require_operator_admin(actor)
    archive = load_owned(session, AccessArchive, archive_id, actor)
    if not available(archive, now or utcnow()):
        raise NotFound("Cette archive n'est plus disponible : préparez-la de nouveau.")
    request = session.get(RightsRequest, archive.request_id)
    record(
        session,
        actor=actor,
        action=AuditAction.EXPORT,
        record_type="access_archive",
        record_id=archive.id,
        beneficiary_id=request.beneficiary_id,
    )
    return archive, f"acces-donnees-demande-{request.id}.zip"


def delete_expired_archives(*, session: Session, now: datetime | None = None) -> int:
    """The worker's job: delete the files of archives past their expiry; how many."""
    now = now or utcnow()
    statement = select(AccessArchive).where(
        col(AccessArchive.deleted_at).is_(None),
        col(AccessArchive.archive_key).is_not(None),
        col(AccessArchive.expires_at) <= now,
    )
    expired = list(session.exec(statement))
    delete_after_commit(session, [archive.archive_key for archive in expired])
    for archive in expired:
        archive.archive_key = None
        archive.deleted_at = now
        session.add(archive)
    session.flush()
    return len(expired)


# ---- building it ---------------------------------------------------------------------------


def build_pending_archives(bind: Bind, *, stop: threading.Event | None = None) -> list[int]:
    """Build every queued archive (and any whose builder stopped), oldest first; when `stop`
    is set, the archive under way is handed back at its next file and no other is started."""
    built = []
    while not stopping(stop) and (archive_id := next_claimable(bind, AccessArchive)) is not None:
        try:
            if build_archive(bind, archive_id, stop=stop):
                built.append(archive_id)
        except LeaseReleased:
            break
    return built


def build_archive(bind: Bind, archive_id: int, *, stop: threading.Event | None = None) -> bool:
    """Build this archive if no one else is; True when this call built it."""
    lease = claim(bind, AccessArchive, archive_id, stop=stop, steps_done=0, error="")
    if lease is None:
        return False
    storage = get_storage()
    path = storage.temporary_path()
    try:
        size = _write_archive(lease, path)
        key = storage.save_file(path)
    except LeaseReleased:
        path.unlink(missing_ok=True)
        raise
    except LeaseLost:
        path.unlink(missing_ok=True)
        return True
    except Exception as error:
        path.unlink(missing_ok=True)
        message = f"erreur inattendue ({type(error).__name__}) : relancez la préparation."
        with contextlib.suppress(LeaseLost):
            lease.write(status=PackStatus.FAILED, error=message, finished_at=utcnow())
        raise
    finished = utcnow()
    try:
        lease.write(
            status=PackStatus.READY,
            archive_key=key,
            archive_size=size,
            steps_done=AccessArchive.steps_total,
            finished_at=finished,
            expires_at=finished + timedelta(days=ARCHIVE_DAYS),
        )
    except LeaseLost:
        storage.delete(key)
    except BaseException:
        storage.delete(key)  # no archive without the row that points at it
        raise
    return True


@dataclass
class _File:
    name: str
    key: str


def _write_archive(lease: Lease, path: Path) -> int:
    with reading(lease.bind) as session:
        archive = session.get(AccessArchive, lease.row_id)
        request = session.get(RightsRequest, archive.request_id)
        data, files = person_data(session, request.beneficiary_id)
    lease.write(steps_total=len(files) + 1)
    storage = get_storage()
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zipped:
        zipped.writestr(DATA_FILE, json.dumps(data, ensure_ascii=False, indent=2, default=str))
        for done, file in enumerate(files, start=2):
            with storage.open(file.key) as source, zipped.open(file.name, "w") as target:
                while chunk := source.read(CHUNK):
                    target.write(chunk)
            lease.checkpoint(steps_done=done)
    return path.stat().st_size


# ---- what is held on the person -----------------------------------------------------------


def _fields(row: SQLModel, *hidden: str) -> dict:
    return {
        name: value
        for name, value in row.model_dump().items()
        if name not in HIDDEN_FIELDS and name not in hidden
    }


def _all(session: Session, statement) -> list:
    return list(session.exec(statement))


def person_data(session: Session, person_id: int) -> tuple[dict, list[_File]]:
    """Everything held on the person, as data and the files to join, by their own id or
    their cases' ids only."""
    person = session.get(Beneficiary, person_id)
    cases = _all(session, select(Case).where(col(Case.beneficiary_id) == person_id))
    case_ids = [case.id for case in cases]
    files: list[_File] = []
    data = {
        "genere_le": utcnow().isoformat(),
        "personne": _fields(person),
        "dossiers": [_case(session, case, files) for case in cases],
        "rendez_vous": [
            _fields(a)
            for a in _all(
                session, select(Appointment).where(Appointment.beneficiary_id == person_id)
            )
        ],
        "demandes_de_premier_contact": [
            _fields(t)
            for t in _all(
                session, select(TriageRequest).where(TriageRequest.beneficiary_id == person_id)
            )
        ],
        "liste_d_attente": [
            _fields(w)
            for w in _all(
                session,
                select(WaitingListEntry).where(WaitingListEntry.beneficiary_id == person_id),
            )
        ],
        "enquetes": _surveys(session, person_id),
        "messages": _messages(session, person, case_ids),
        "demandes_d_exercice_des_droits": [
            _fields(r, "created_by_id", "handled_by_id")
            for r in _all(
                session, select(RightsRequest).where(RightsRequest.beneficiary_id == person_id)
            )
        ],
        "acces_a_votre_dossier": _accesses(session, person_id),
    }
    return data, files


def _case(session: Session, case: Case, files: list[_File]) -> dict:
    of_case = case.id
    entry = _fields(case)
    entry["episodes"] = [
        _fields(e) for e in _all(session, select(Episode).where(Episode.case_id == of_case))
    ]
    entry["echanges"] = [
        _fields(i)
        for i in _all(
            session,
            select(Interaction)
            .where(Interaction.case_id == of_case)
            .order_by(Interaction.occurred_at),
        )
    ]
    plan = session.get(ActionPlan, of_case)
    entry["plan_d_action"] = {
        "objectif": plan.objective if plan else "",
        "etapes": [
            _fields(s)
            for s in _all(session, select(ActionStep).where(ActionStep.case_id == of_case))
        ],
    }
    entry["livrables"] = _deliverables(session, case, files)
    entry["pieces_jointes"] = _attachments(session, case, files)
    entry["orientations"] = _referrals(session, of_case)
    return entry


def _deliverables(session: Session, case: Case, files: list[_File]) -> list[dict]:
    found = []
    for deliverable in _all(session, select(Deliverable).where(Deliverable.case_id == case.id)):
        versions = _all(
            session,
            select(DeliverableVersion)
            .where(DeliverableVersion.deliverable_id == deliverable.id)
            .order_by(DeliverableVersion.number),
        )
        entry = _fields(deliverable)
        entry["versions_emises"] = []
        for version in versions:
            shown = _fields(version)
            if version.file_deleted_at is None:
                name = f"documents/{case.reference}-livrable-{deliverable.id}-v{version.number}.pdf"
                files.append(_File(name, version.storage_key))
                shown["fichier"] = name
            entry["versions_emises"].append(shown)
        found.append(entry)
    return found


def _attachments(session: Session, case: Case, files: list[_File]) -> list[dict]:
    found = []
    for attachment in _all(session, select(Attachment).where(Attachment.case_id == case.id)):
        shown = _fields(attachment)
        if attachment.file_deleted_at is None:
            name = f"pieces-jointes/{case.reference}-{attachment.id}-{_safe(attachment.filename)}"
            files.append(_File(name, attachment.storage_key))
            shown["fichier"] = name
        found.append(shown)
    return found


def _referrals(session: Session, case_id: int) -> list[dict]:
    found = []
    for referral in _all(session, select(Referral).where(Referral.case_id == case_id)):
        partner = session.get(Partner, referral.partner_id)
        entry = _fields(referral)
        entry["partenaire"] = partner.name
        entry["suivi"] = [
            _fields(e)
            for e in _all(
                session, select(ReferralEvent).where(ReferralEvent.referral_id == referral.id)
            )
        ]
        found.append(entry)
    return found


def _surveys(session: Session, person_id: int) -> list[dict]:
    found = []
    invitations = select(SurveyInvitation).where(SurveyInvitation.beneficiary_id == person_id)
    for invitation in _all(session, invitations):
        entry = _fields(invitation)
        answer = session.exec(
            select(SurveyResponse).where(SurveyResponse.invitation_id == invitation.id)
        ).first()
        entry["reponse"] = _fields(answer) if answer else None
        found.append(entry)
    return found


def _messages(session: Session, person: Beneficiary, case_ids: list[int]) -> list[dict]:
    """The e-mails to the person or about their cases; another recipient is not named (a
    partner's or a colleague's address is theirs, not the person's)."""
    about = [col(OutboxMessage.case_id).in_(case_ids)]
    if person.email:
        about.append(col(OutboxMessage.recipient) == person.email)
    found = []
    for message in _all(session, select(OutboxMessage).where(or_(*about))):
        entry = _fields(message, "message_id", "attachments", "last_error", "attempts")
        if not person.email or message.recipient != person.email:
            entry["recipient"] = "un tiers (partenaire ou équipe)"
        found.append(entry)
    return found


def _accesses(session: Session, person_id: int) -> list[dict]:
    """Who accessed the file, by role only, when, doing what, on what kind of record."""
    statement = select(AuditEvent).where(AuditEvent.beneficiary_id == person_id)
    return [
        {
            "le": event.at.isoformat(),
            "role": Role(event.actor_role).label if event.actor_role else "traitement automatique",
            "action": AuditAction(event.action).label,
            "type_d_enregistrement": event.record_type,
        }
        for event in _all(session, statement.order_by(AuditEvent.id))
    ]


def _safe(filename: str) -> str:
    """A file name fit for any unzip tool: ASCII letters, digits, dots and dashes."""
    ascii_name = unicodedata.normalize("NFKD", filename).encode("ascii", "ignore").decode()
    return re.sub(r"[^A-Za-z0-9.]+", "-", ascii_name).strip("-.")[:80] or "fichier"
