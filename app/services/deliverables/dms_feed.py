"""The feed of issued versions for an operator's document management system: its versions in
issue order (`feed_seq`, feed_order.py), a page at a time, each page ending with an opaque
cursor that resumes right after it; and each version's PDF, for the download URL it lists.

The cursor is the operator's id and the last number read, signed with the app's secret key: a
cursor altered in any way is refused (400), and another operator's cursor is unknown (404)."""

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import aliased
from sqlmodel import Session, col, select

from app.core.errors import DomainError, NotFound
from app.core.security import InvalidToken, read_signed_value, sign_value
from app.core.storage import get_storage
from app.models.audit import AuditAction
from app.models.cases import Case, Episode
from app.models.catalogue import DeliverableKind, ServiceUnit
from app.models.deliverables import Deliverable, DeliverableVersion
from app.models.operators import Operator, Site
from app.models.staff import StaffUser
from app.services.access.scope import get_owned, owned_by
from app.services.audit.trail import record
from app.services.deliverables.documents import DELETED_WITH_THE_PERSON
from app.services.deliverables.file_names import deliverable_file_name

CURSOR_PURPOSE = "dms-feed"
# Far longer than any cursor this feed gives: a longer one is refused before being read.
MAX_CURSOR_LENGTH = 200
DEFAULT_LIMIT = 100
MAX_LIMIT = 1000


@dataclass(frozen=True)
class FeedReading:
    """Who reads the feed: an API client (by name) or an operator admin; one operator."""

    operator_id: int
    staff: StaffUser | None = None
    client_name: str | None = None


class BadCursor(DomainError):
    status_code = 400
    default_message = (
        "Curseur invalide : reprenez le flux avec le dernier curseur « next » reçu tel quel, "
        "ou sans curseur pour repartir du début."
    )


@dataclass(frozen=True)
class FeedVersion:
    """One issued version as the feed lists it."""

    id: int
    feed_seq: int
    case_reference: str
    kind_code: str
    kind_label: str
    unit_code: str | None
    unit_label: str | None
    episode_id: int | None
    number: int
    issued_at: datetime
    sha256: str
    size_bytes: int
    file_name: str
    file_deleted_at: datetime | None


@dataclass(frozen=True)
class FeedPage:
    versions: list[FeedVersion]
    next_cursor: str
    has_more: bool


def feed_cursor(operator_id: int, last_seq: int) -> str:
    return sign_value(CURSOR_PURPOSE, f"{operator_id}:{last_seq}")


def read_feed_cursor(cursor: str, operator_id: int) -> int:
    """The last number the cursor's page read; BadCursor if altered, NotFound if another
    operator's."""
    if len(cursor) > MAX_CURSOR_LENGTH:
        raise BadCursor()
    try:
        owner, last_seq = (
            int(part) for part in read_signed_value(CURSOR_PURPOSE, cursor).split(":")
        )
    except (InvalidToken, ValueError) as exc:
        raise BadCursor() from exc
    if owner != operator_id:
        raise NotFound("Curseur inconnu pour cet opérateur")
    return last_seq


def feed_page(
    *, session: Session, operator_id: int, since: str | None, limit: int = DEFAULT_LIMIT
) -> FeedPage:
    """The operator's next `limit` versions after the cursor `since` (from the first without)."""
    after = read_feed_cursor(since, operator_id) if since else 0
    query = _listed(operator_id).where(DeliverableVersion.feed_seq > after)
    query = query.order_by(col(DeliverableVersion.feed_seq)).limit(limit + 1)
    rows = list(session.exec(query))
    versions = [_feed_version(*row) for row in rows[:limit]]
    last = versions[-1].feed_seq if versions else after
    return FeedPage(versions, feed_cursor(operator_id, last), has_more=len(rows) > limit)


def _listed(operator_id: int):
    """The operator's versions with what the feed says of each."""
    # Both the site's and the operator's zone: the issue day in a file name is the site's.
    site, operator = aliased(Site), aliased(Operator)
    return (
        select(
            DeliverableVersion,
            Case.reference,
            DeliverableKind,
            ServiceUnit,
            Episode.id,
            site.time_zone,
            operator.time_zone,
        )  # fmt: skip
        .join(Deliverable, col(Deliverable.id) == DeliverableVersion.deliverable_id)
        .join(Case, col(Case.id) == Deliverable.case_id)
        .join(DeliverableKind, col(DeliverableKind.id) == Deliverable.kind_id)
        .join(operator, owned_by(operator, DeliverableVersion.operator_id))
        .outerjoin(site, col(site.id) == Case.site_id)
        .outerjoin(Episode, col(Episode.id) == Deliverable.episode_id)
        .outerjoin(ServiceUnit, col(ServiceUnit.id) == Episode.unit_id)
        .where(owned_by(DeliverableVersion, operator_id))
    )


def _feed_version(version, reference, kind, unit, episode_id, site_zone, operator_zone):
    name = deliverable_file_name(
        reference, kind.label, version.number, version.issued_at,
        time_zone=site_zone or operator_zone,
    )  # fmt: skip
    return FeedVersion(
        id=version.id,
        feed_seq=version.feed_seq,
        case_reference=reference,
        kind_code=kind.code,
        kind_label=kind.label,
        unit_code=unit.code if unit else None,
        unit_label=unit.label if unit else None,
        episode_id=episode_id,
        number=version.number,
        issued_at=version.issued_at,
        sha256=version.sha256,
        size_bytes=version.size_bytes,
        file_name=name,
        file_deleted_at=version.file_deleted_at,
    )


@dataclass(frozen=True)
class FeedPdf:
    """What the PDF route answers: the version's ETag (its quoted SHA-256), file name, size,
    and its bytes in chunks, unless the client said it holds them already (`unchanged`)."""

    etag: str
    file_name: str
    size_bytes: int
    storage_key: str
    unchanged: bool

    def chunks(self) -> Iterator[bytes]:
        return get_storage().iter_chunks(self.storage_key)


def etag_matches(if_none_match: str | None, etag: str) -> bool:
    """RFC 9110 If-None-Match: a list of tags, weak or strong, compared weakly; `*` is any."""
    if not if_none_match:
        return False
    tags = {tag.strip().removeprefix("W/") for tag in if_none_match.split(",")}
    return "*" in tags or etag in tags


def feed_pdf(
    *,
    session: Session,
    reader: FeedReading,
    version_id: int,
    if_none_match: str | None = None,
) -> FeedPdf:
    """The PDF of one of the operator's versions (NotFound for another's, or once deleted);
    each download sent is in the audit trail, under the client's name or the admin's."""
    version = get_owned(session, DeliverableVersion, version_id, reader.operator_id)
    if version is None:
        raise NotFound()
    if version.file_deleted_at is not None:
        raise NotFound(DELETED_WITH_THE_PERSON)
    query = _listed(reader.operator_id).where(DeliverableVersion.id == version.id)
    item = _feed_version(*session.exec(query).one())
    etag = f'"{version.sha256}"'
    unchanged = etag_matches(if_none_match, etag)
    if not unchanged:
        _record_download(session, reader, version)
    return FeedPdf(etag, item.file_name, version.size_bytes, version.storage_key, unchanged)


def _record_download(session: Session, reader: FeedReading, version: DeliverableVersion) -> None:
    deliverable = session.get(Deliverable, version.deliverable_id)
    case = session.get(Case, deliverable.case_id)
    reason = (
        f"Flux des documents, client d'API « {reader.client_name} »"
        if reader.client_name
        else "Flux des documents"
    )
    record(session, actor=reader.staff, action=AuditAction.EXPORT,
           record_type="deliverable_version", record_id=version.id,
           beneficiary_id=case.beneficiary_id, operator_id=reader.operator_id, reason=reason)  # fmt: skip
