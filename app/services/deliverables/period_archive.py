"""« Archive des livrables »: a manager or an admin asks for the deliverables of a period; the
worker builds the ZIP (app/services/deliverables/archive_build.py); they follow it, may cancel
it, download it until it expires, then the worker deletes its file.

An admin sees every archive of the operator; a manager only the ones they asked for (an
admin's may cover sites that are not theirs)."""

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import update
from sqlmodel import Session, col, select

from app.core.config import get_settings
from app.core.dates import format_period
from app.core.errors import Conflict, Invalid, NotFound
from app.core.storage import delete_after_commit
from app.models.base import utcnow
from app.models.deliverable_archives import ArchiveFilters, ArchiveStatus, DeliverableArchive
from app.models.nomenclatures import Role
from app.models.notifications import NotificationKind
from app.models.staff import StaffUser
from app.services.access.scope import load_owned, owned_by
from app.services.deliverables.archive_selection import (
    checked_filters,
    count_selected,
    covers,
    require_archivist,
)
from app.services.messaging.notifications import notify

PAGE = "/admin/archives-livrables"
TOO_MANY = (
    "Cette archive compterait {count} documents, au-delà des {limit} permis : choisissez une "
    "période plus courte (ou moins de sites, de conseiller·ères ou de types de livrables)."
)


def archive_path(archive_id: int) -> str:
    return f"{PAGE}/{archive_id}"


def count_documents(*, session: Session, actor: StaffUser, filters: ArchiveFilters) -> int:
    """How many documents these filters cover, as the form shows before the request."""
    operator_id = require_archivist(actor)
    stored = checked_filters(session=session, actor=actor, filters=filters)
    return count_selected(session=session, operator_id=operator_id, stored=stored)


def request_archive(
    *, session: Session, actor: StaffUser, filters: ArchiveFilters
) -> DeliverableArchive:
    """Queue an archive for the worker; refused beyond the configured number of documents."""
    operator_id = require_archivist(actor)
    stored = checked_filters(session=session, actor=actor, filters=filters)
    count = count_selected(session=session, operator_id=operator_id, stored=stored)
    if message := size_refusal(count):
        raise Invalid({"du": message}, message)
    if count == 0:
        message = "Aucun document émis ne correspond à ces choix."
        raise Invalid({"du": message}, message)
    archive = DeliverableArchive(
        operator_id=operator_id,
        requested_by_id=actor.id,
        filters=stored,
        documents_total=count,
    )
    session.add(archive)
    session.flush()
    return archive


def size_refusal(count: int) -> str | None:
    """Why an archive of `count` documents is refused (beyond the configured limit), or None."""
    limit = get_settings().archive_max_documents
    if count <= limit:
        return None
    return TOO_MANY.format(count=_french_int(count), limit=_french_int(limit))


def _documents(count: int) -> str:
    return f"{_french_int(count)} document{'s' if count > 1 else ''}"


def _french_int(value: int) -> str:
    return f"{value:,}".replace(",", "\u202f")


def _visible(actor: StaffUser) -> list:
    operator_id = require_archivist(actor)
    scope = [owned_by(DeliverableArchive, operator_id)]
    if actor.role == Role.MANAGER:
        scope.append(col(DeliverableArchive.requested_by_id) == actor.id)
    return scope


def load_archive(*, session: Session, actor: StaffUser, archive_id: int) -> DeliverableArchive:
    """One archive the actor may follow: 404 for another operator's or another manager's."""
    require_archivist(actor)
    archive = load_owned(session, DeliverableArchive, archive_id, actor)
    if actor.role == Role.MANAGER and archive.requested_by_id != actor.id:
        raise NotFound()
    return archive


@dataclass
class ArchiveRow:
    archive: DeliverableArchive
    requested_by: str

    @property
    def period_label(self) -> str:
        return format_period(*self.archive.period)


def archive_list(*, session: Session, actor: StaffUser, limit: int = 50) -> list[ArchiveRow]:
    """The newest archives the actor may see, with who asked for each."""
    statement = (
        select(DeliverableArchive, StaffUser.full_name)
        .join(StaffUser, col(StaffUser.id) == DeliverableArchive.requested_by_id)
        .where(*_visible(actor))
        .order_by(col(DeliverableArchive.id).desc())
        .limit(limit)
    )
    return [ArchiveRow(archive, name) for archive, name in session.exec(statement)]


def cancel_archive(*, session: Session, actor: StaffUser, archive_id: int) -> DeliverableArchive:
    """Stop an archive asked for or under way: its builder sees it between two documents and
    deletes what it wrote."""
    archive = load_archive(session=session, actor=actor, archive_id=archive_id)
    now = utcnow()
    statement = (  # conditional: a build that has just finished is not overwritten
        update(DeliverableArchive)
        .where(
            owned_by(DeliverableArchive, archive.operator_id),
            col(DeliverableArchive.id) == archive.id,
            col(DeliverableArchive.status).in_(
                [ArchiveStatus.REQUESTED.value, ArchiveStatus.BUILDING.value]
            ),
        )
        .values(
            status=ArchiveStatus.CANCELLED.value,
            cancelled_at=now,
            finished_at=now,
            lease_until=None,
        )
    )
    changed = session.execute(statement).rowcount
    session.refresh(archive)
    if changed != 1:
        raise Conflict("Cette archive n'est plus en préparation.")
    return archive


def available(archive: DeliverableArchive, now: datetime | None = None) -> bool:
    return (
        archive.status == ArchiveStatus.READY
        and archive.storage_key is not None
        and archive.expires_at is not None
        and archive.expires_at > (now or utcnow())
    )


def ready_archive(*, session: Session, actor: StaffUser, archive_id: int) -> DeliverableArchive:
    """The archive to download, if ready and not expired, and if the actor still covers every
    case it selected — a manager who lost a site, an admin now a manager: 404 otherwise."""
    archive = load_archive(session=session, actor=actor, archive_id=archive_id)
    if not covers(session, actor, archive.filters):
        raise NotFound()
    if not available(archive):
        raise NotFound("Cette archive n'est pas disponible : demandez-en une nouvelle.")
    return archive


def archive_filename(archive: DeliverableArchive) -> str:
    start, end = archive.period
    return f"archive-livrables-{start.isoformat()}-{end.isoformat()}-{archive.id}.zip"


def notify_ready(*, session: Session, archive: DeliverableArchive) -> None:
    """Tell the requester their archive can be downloaded (the worker's step once built)."""
    notify(
        session=session,
        operator_id=archive.operator_id,
        recipient_id=archive.requested_by_id,
        kind=NotificationKind.ARCHIVE_READY,
        text=(
            f"L'archive des livrables ({format_period(*archive.period)}, "
            f"{_documents(archive.documents_total)}) est prête à télécharger."
        ),
        link=archive_path(archive.id),
    )


def delete_expired_period_archives(*, session: Session, now: datetime | None = None) -> int:
    """The worker's job: delete the files of ready archives past their expiry and mark them
    expired; how many."""
    now = now or utcnow()
    statement = select(DeliverableArchive).where(
        DeliverableArchive.status == ArchiveStatus.READY,
        col(DeliverableArchive.expires_at) <= now,
    )
    expired = list(session.exec(statement))
    delete_after_commit(session, [a.storage_key for a in expired if a.storage_key])
    for archive in expired:
        archive.status = ArchiveStatus.EXPIRED.value
        archive.storage_key = None
        session.add(archive)
    _delete_abandoned_uploads(session)
    session.flush()
    return len(expired)


def _delete_abandoned_uploads(session: Session) -> None:
    """A builder records its key before uploading (archive_build.py): one that died between
    the upload and « ready » of an archive since cancelled or failed leaves its key here."""
    statement = select(DeliverableArchive).where(
        col(DeliverableArchive.status).in_(
            [ArchiveStatus.CANCELLED.value, ArchiveStatus.FAILED.value]
        ),
        col(DeliverableArchive.storage_key).is_not(None),
    )
    abandoned = list(session.exec(statement))
    delete_after_commit(session, [archive.storage_key for archive in abandoned])
    for archive in abandoned:
        archive.storage_key = None
        session.add(archive)
