"""What a period's archive of deliverables covers: who may ask for one (managers for their
sites, the operator's admins for all), the choices the form offers them, and the issued
versions the filters select — counted before the request, read again by the builder."""

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import Select
from sqlmodel import Session, and_, col, exists, func, or_, select

from app.core.errors import Forbidden, Invalid
from app.models.cases import Case
from app.models.catalogue import DeliverableKind
from app.models.deliverable_archives import ArchiveContent, ArchiveFilters
from app.models.deliverables import Deliverable, DeliverableVersion
from app.models.fields import french_sort_key
from app.models.nomenclatures import Role
from app.models.operators import Operator, Site
from app.models.staff import StaffSite, StaffUser
from app.services.access.scope import operator_of, owned_by
from app.services.reports.periods import check_period

ARCHIVIST_ROLES = frozenset({Role.MANAGER, Role.OPERATOR_ADMIN})
REFUSED = "Les archives des livrables sont réservées aux responsables et aux administrateurs."


def require_archivist(actor: StaffUser) -> int:
    """The actor's operator, if they may archive its deliverables (403 otherwise)."""
    operator_id = operator_of(actor)
    if actor.role not in ARCHIVIST_ROLES:
        raise Forbidden(REFUSED)
    return operator_id


@dataclass
class Choice:
    id: int
    label: str


@dataclass
class ArchiveChoices:
    """What the form offers: the actor's sites, the counsellors who issued documents there,
    the operator's kinds of deliverables, and the operator's time zone for the period."""

    sites: list[Choice]
    counsellors: list[Choice]
    kinds: list[Choice]
    time_zone: str


def archive_choices(*, session: Session, actor: StaffUser) -> ArchiveChoices:
    operator_id = require_archivist(actor)
    sites = session.exec(select(Site).where(*_site_scope(actor, operator_id)))
    staff = session.exec(
        select(StaffUser).where(
            owned_by(StaffUser, operator_id),
            col(StaffUser.role).in_([role.value for role in (Role.COUNSELLOR, *ARCHIVIST_ROLES)]),
            *_colleague_scope(actor),
        )
    )
    kinds = session.exec(select(DeliverableKind).where(owned_by(DeliverableKind, operator_id)))
    return ArchiveChoices(
        _sorted(Choice(site.id, site.name) for site in sites),
        _sorted(Choice(person.id, person.full_name) for person in staff),
        _sorted(Choice(kind.id, kind.label) for kind in kinds),
        session.get(Operator, operator_id).time_zone,
    )


def _sorted(choices) -> list[Choice]:
    return sorted(choices, key=lambda choice: (french_sort_key(choice.label), choice.id))


def managed_sites(session: Session, actor: StaffUser) -> list[int] | None:
    """The sites a manager covers now, or None when the actor covers the whole team: an admin,
    or a manager attached to no site (the rule of app/services/audit/outside_reads.py)."""
    if actor.role != Role.MANAGER:
        return None
    held = session.exec(select(StaffSite.site_id).where(StaffSite.staff_id == actor.id))
    return sorted(set(held)) or None


def _site_scope(actor: StaffUser, operator_id: int) -> list:
    scope = [owned_by(Site, operator_id)]
    if actor.role == Role.MANAGER:
        held = select(StaffSite.site_id).where(StaffSite.staff_id == actor.id)
        scope.append(or_(col(Site.id).in_(held), ~exists(held)))  # no site: the whole team
    return scope


def _colleague_scope(actor: StaffUser) -> list:
    """A manager chooses among the people of their sites (all, when attached to no site); an
    admin among everyone."""
    if actor.role != Role.MANAGER:
        return []
    held = select(StaffSite.site_id).where(StaffSite.staff_id == actor.id)
    sharing = select(StaffSite.staff_id).where(col(StaffSite.site_id).in_(held))
    return [or_(col(StaffUser.id).in_(sharing), ~exists(held))]


def covers(session: Session, actor: StaffUser, stored: dict) -> bool:
    """Whether the actor, as they are now, may still see everything the archive selects: an
    admin always; a manager only when the sites chosen and the sites they covered when asking
    are still theirs (or they still lead the whole team). An archive of every case that was
    not a manager's (an admin's) needs the admin role now."""
    if actor.role == Role.OPERATOR_ADMIN:
        return True
    if actor.role != Role.MANAGER or "manager_site_ids" not in stored:
        return False
    now = managed_sites(session, actor)
    if now is None:  # attached to no site: leads the whole team
        return True
    asked = stored["manager_site_ids"]
    if asked is None:  # asked while leading the whole team, no longer does
        return False
    return set(asked) | set(stored["site_ids"] or ()) <= set(now)


def checked_filters(*, session: Session, actor: StaffUser, filters: ArchiveFilters) -> dict:
    """The filters as stored on the archive, every id checked against what the actor may
    choose; no site chosen: every case the requester covers (a manager: the cases of their
    sites and of their sites' referents, kept as `manager_site_ids` so that the download and
    the build can check they still cover them). Refused choices are the field's message."""
    check_period(filters.start, filters.end, bounded=True)
    choices = archive_choices(session=session, actor=actor)
    errors = {}
    for field, offered in (
        ("site_ids", choices.sites),
        ("counsellor_ids", choices.counsellors),
        ("kind_ids", choices.kinds),
    ):
        if set(getattr(filters, field)) - {choice.id for choice in offered}:
            errors[field] = "Ce choix n'est pas proposé."
    if errors:
        raise Invalid(errors)
    site_ids = sorted(set(filters.site_ids))
    stored = {
        "start": filters.start.isoformat(),
        "end": filters.end.isoformat(),
        "site_ids": site_ids or None,  # None: every case the requester covers
        "counsellor_ids": sorted(set(filters.counsellor_ids)),
        "kind_ids": sorted(set(filters.kind_ids)),
        "content": ArchiveContent(filters.content).value,
        "pseudonymise": filters.pseudonymise,
        "time_zone": choices.time_zone,
    }
    if actor.role == Role.MANAGER:  # their sites when asking; None: they lead the whole team
        stored["manager_site_ids"] = managed_sites(session, actor)
    return stored


def selected_versions(
    session: Session, operator_id: int, stored: dict, *, issued_before: datetime | None = None
) -> Select:
    """The ids of the versions an archive holds, by case reference, document and number;
    with `issued_before` (the archive's request), none issued since — the builder packs what
    was counted.

    « Dernière version de chaque document »: the highest number issued within the period (and
    before `issued_before`), whoever issued it; the issuer filter applies to that version
    only, so an older version is never presented as the latest."""
    period = _issued_in_period(session, operator_id, stored)
    if issued_before is not None:
        period.append(col(DeliverableVersion.issued_at) < issued_before)
    documents = _document_conditions(operator_id, stored)
    statement = (
        select(DeliverableVersion.id)
        .join(Deliverable, col(Deliverable.id) == DeliverableVersion.deliverable_id)
        .join(Case, col(Case.id) == Deliverable.case_id)
        .where(owned_by(DeliverableVersion, operator_id), *documents, *period)
    )
    if stored["counsellor_ids"]:
        statement = statement.where(
            col(DeliverableVersion.issued_by_id).in_(stored["counsellor_ids"])
        )
    if stored["content"] == ArchiveContent.LATEST_VERSION:
        latest = (
            select(
                DeliverableVersion.deliverable_id,
                func.max(DeliverableVersion.number).label("number"),
            )
            .join(Deliverable, col(Deliverable.id) == DeliverableVersion.deliverable_id)
            .join(Case, col(Case.id) == Deliverable.case_id)
            .where(owned_by(DeliverableVersion, operator_id), *documents, *period)
            .group_by(DeliverableVersion.deliverable_id)
            .subquery()
        )
        statement = statement.join(
            latest,
            and_(
                latest.c.deliverable_id == DeliverableVersion.deliverable_id,
                latest.c.number == DeliverableVersion.number,
            ),
        )
    return statement.order_by(Case.reference, Deliverable.id, DeliverableVersion.number)


def count_selected(*, session: Session, operator_id: int, stored: dict) -> int:
    selection = selected_versions(session, operator_id, stored).order_by(None).subquery()
    return session.exec(select(func.count()).select_from(selection)).one()


def _document_conditions(operator_id: int, stored: dict) -> list:
    """Which documents: the operator's, of the sites and kinds chosen (not which versions)."""
    conditions = [owned_by(Deliverable, operator_id), owned_by(Case, operator_id)]
    if stored["site_ids"] is not None:
        conditions.append(_at_sites(stored["site_ids"], referents_without_site=True))
    if manager_sites := stored.get("manager_site_ids"):
        conditions.append(_at_sites(manager_sites, referents_without_site=False))
    if stored["kind_ids"]:
        conditions.append(col(Deliverable.kind_id).in_(stored["kind_ids"]))
    return conditions


def _issued_in_period(session: Session, operator_id: int, stored: dict) -> list:
    """Issued on one of the period's days as its file is dated: in the case's site's time
    zone, the operator's for a case without a site. One UTC range per zone the operator uses,
    inside the union of them all (which an index on issued_at can serve)."""
    operator_zone = stored["time_zone"]
    used = select(Site.time_zone).where(owned_by(Site, operator_id)).distinct()
    zones = sorted(set(session.exec(used)) | {operator_zone})
    issued_at = col(DeliverableVersion.issued_at)
    ranges, bounds = [], []
    for zone in zones:
        first, after = _utc_bounds(stored, zone)
        bounds.append((first, after))
        located = col(Case.site_id).in_(
            select(Site.id).where(owned_by(Site, operator_id), Site.time_zone == zone)
        )
        if zone == operator_zone:
            located = or_(located, col(Case.site_id).is_(None))
        ranges.append(and_(located, issued_at >= first, issued_at < after))
    widest = (min(first for first, _ in bounds), max(after for _, after in bounds))
    return [issued_at >= widest[0], issued_at < widest[1], or_(*ranges)]


def _at_sites(site_ids: list[int], *, referents_without_site: bool):
    """The cases of these sites: at one of them, or followed by a referent who works at one
    (only when the case has no site, with `referents_without_site`: a chosen site does not
    take another site's cases; a manager covers those too, as outside_reads.py says)."""
    staff = select(StaffSite.staff_id).where(col(StaffSite.site_id).in_(site_ids))
    followed = col(Case.referent_id).in_(staff)
    if referents_without_site:
        followed = and_(col(Case.site_id).is_(None), followed)
    return or_(col(Case.site_id).in_(site_ids), followed)


def _utc_bounds(stored: dict, time_zone: str) -> tuple[datetime, datetime]:
    """The period's days in `time_zone`, from the first one's midnight to the midnight after
    the last."""
    zone = ZoneInfo(time_zone)
    start, end = date.fromisoformat(stored["start"]), date.fromisoformat(stored["end"])
    first = datetime.combine(start, time(), tzinfo=zone)
    after = datetime.combine(end + timedelta(days=1), time(), tzinfo=zone)
    return first.astimezone(UTC), after.astimezone(UTC)
