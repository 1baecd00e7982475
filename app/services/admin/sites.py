"""« Sites »: an operator's administrators (system administrators: any operator's) create, edit
and close the operator's sites, attach colleagues to them; every change is recorded
(SiteEvent) and shown on the site's page. Permanences are in `permanences.py`, closing a site
with appointments to come in `site_closing.py`, what the pages show in `site_views.py`.

A site's position and time zone follow from its postcode (app/data, offline): a postcode the
shipped positions do not know is refused, so that the booking pages can always order the
site by distance."""

from sqlmodel import Session, select

from app.core.db import all_or_nothing
from app.core.errors import Forbidden, Invalid, NotFound
from app.models.base import utcnow
from app.models.fields import display_phone
from app.models.nomenclatures import Role
from app.models.operators import Operator, Site, SiteEdit, SiteEvent, SiteEventKind
from app.models.staff import StaffSite, StaffUser
from app.services.access.scope import get_owned
from app.services.admin.team import change_sites, load_member, managed_operators, manages_staff
from app.services.booking.geography import postcode_position, postcode_time_zone

# What the site form names each field in the record of changes.
FIELD_LABELS = {
    "name": "Nom",
    "address": "Adresse",
    "postcode": "Code postal",
    "city": "Ville",
    "phone": "Téléphone",
    "accessibility": "Accessibilité",
    "opening_hours": "Horaires d'ouverture",
    "time_zone": "Fuseau horaire",
}


def _require_manager(actor: StaffUser) -> None:
    if not manages_staff(actor):
        raise Forbidden("Seuls les administrateur·rices de l'opérateur gèrent ses sites.")


def managed_operator(session: Session, actor: StaffUser, operator_id: int | None) -> Operator:
    """The operator asked for, among those the actor manages (their own by default)."""
    _require_manager(actor)
    operators = managed_operators(session=session, actor=actor)
    if operator_id is None and operators:
        return operators[0]
    chosen = next((operator for operator in operators if operator.id == operator_id), None)
    if chosen is None:
        raise NotFound()
    return chosen


def load_site(*, session: Session, actor: StaffUser, site_id: int) -> Site:
    """A site of an operator the actor manages; 404 anywhere else."""
    _require_manager(actor)
    if actor.role == Role.SYSADMIN:
        site = session.get(Site, site_id) if site_id >= 1 else None
    else:
        site = get_owned(session, Site, site_id, actor.operator_id)
    if site is None:
        raise NotFound()
    return site


def open_site(*, session: Session, actor: StaffUser, site_id: int) -> Site:
    """A site the actor manages that is still open: a closed one is only read."""
    site = load_site(session=session, actor=actor, site_id=site_id)
    if not site.active:
        raise Invalid({"__all__": "Ce site est fermé : il ne se modifie plus."})
    return site


def record_site_event(
    *, session: Session, site: Site, actor: StaffUser | None, kind: SiteEventKind, detail=""
) -> SiteEvent:
    event = SiteEvent(
        operator_id=site.operator_id,
        site_id=site.id,
        actor_id=actor.id if actor else None,
        kind=kind.value,
        detail=detail[:2000],
    )
    session.add(event)
    session.flush()
    return event


def position_of(postcode: str, field: str = "postcode") -> tuple[float, float]:
    """The postcode's position, or the field's message when the shipped positions lack it."""
    position = postcode_position(postcode)
    if position is None:
        raise Invalid({field: "Code postal inconnu : vérifiez-le (la position du lieu en dépend)."})
    return position


# ---- create, edit -----------------------------------------------------------------------------


def _values(data: SiteEdit) -> dict[str, str]:
    position_of(data.postcode)
    return {
        "name": data.name,
        "address": data.address,
        "postcode": data.postcode,
        "city": data.city,
        "phone": data.phone or "",
        "accessibility": data.accessibility,
        "opening_hours": data.opening_hours,
        "time_zone": postcode_time_zone(data.postcode),
    }


def _shown(field: str, value: str) -> str:
    if field == "phone":
        value = display_phone(value)
    return f"« {value} »" if value else "—"


@all_or_nothing
def create_site(*, session: Session, actor: StaffUser, data: SiteEdit) -> Site:
    operator = managed_operator(session, actor, data.operator_id)
    site = Site(operator_id=operator.id, **_values(data))
    session.add(site)
    session.flush()
    detail = f"{site.name}, {site.postcode} {site.city} (fuseau {site.time_zone})"
    record_site_event(
        session=session, site=site, actor=actor, kind=SiteEventKind.CREATED, detail=detail
    )
    return site


@all_or_nothing
def update_site(*, session: Session, actor: StaffUser, site_id: int, data: SiteEdit) -> Site:
    site = open_site(session=session, actor=actor, site_id=site_id)
    changes = []
    for field, value in _values(data).items():
        before = getattr(site, field)
        if before != value:
            changes.append(
                f"{FIELD_LABELS[field]} : {_shown(field, before)} → {_shown(field, value)}"
            )
            setattr(site, field, value)
    if changes:
        session.add(site)
        record_site_event(
            session=session,
            site=site,
            actor=actor,
            kind=SiteEventKind.EDITED,
            detail=" ; ".join(changes),
        )
    return site


# ---- who works there -------------------------------------------------------------------------


def _held_site_ids(session: Session, staff_id: int) -> list[int]:
    return list(session.exec(select(StaffSite.site_id).where(StaffSite.staff_id == staff_id)))


@all_or_nothing
def attach_member(*, session: Session, actor: StaffUser, site_id: int, staff_id: int) -> Site:
    """Attach a colleague to the site (their page records it too, as « Sites modifiés »)."""
    site = open_site(session=session, actor=actor, site_id=site_id)
    load_member(session=session, actor=actor, staff_id=staff_id)
    member = get_owned(session, StaffUser, staff_id, site.operator_id)
    if member is None or not member.active:
        raise Invalid({"staff_id": "Choisissez une personne active de l'opérateur."})
    held = _held_site_ids(session, member.id)
    if site.id in held:
        return site
    change_sites(session=session, actor=actor, staff_id=member.id, site_ids=[*held, site.id])
    record_site_event(
        session=session,
        site=site,
        actor=actor,
        kind=SiteEventKind.STAFF_ATTACHED,
        detail=member.full_name,
    )
    return site


@all_or_nothing
def detach_member(*, session: Session, actor: StaffUser, site_id: int, staff_id: int) -> Site:
    site = load_site(session=session, actor=actor, site_id=site_id)
    member = load_member(session=session, actor=actor, staff_id=staff_id)
    held = _held_site_ids(session, member.id)
    if site.id not in held:
        return site
    others = [held_id for held_id in held if held_id != site.id]
    change_sites(session=session, actor=actor, staff_id=member.id, site_ids=others)
    record_site_event(
        session=session,
        site=site,
        actor=actor,
        kind=SiteEventKind.STAFF_DETACHED,
        detail=member.full_name,
    )
    return site


def close_now(session: Session, site: Site, actor: StaffUser, detail: str) -> Site:
    """Mark the site closed and record why (the appointments' fate is the caller's)."""
    site.active = False
    site.closed_at = utcnow()
    session.add(site)
    record_site_event(
        session=session, site=site, actor=actor, kind=SiteEventKind.CLOSED, detail=detail
    )
    return site
