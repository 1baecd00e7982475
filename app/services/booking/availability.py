"""What can be booked: appointment types (motifs, operator admins), the counsellors' weekly
openings and their absences (managers and operator admins)."""

from dataclasses import dataclass

from sqlmodel import Session, col, select

from app.core.db import all_or_nothing
from app.core.errors import Forbidden, Invalid
from app.models.appointments import (
    Absence,
    AbsenceEdit,
    AppointmentType,
    AppointmentTypeEdit,
    OpeningSlot,
    OpeningSlotEdit,
)
from app.models.catalogue import ServiceUnit
from app.models.fields import french_sort_key, search_key
from app.models.nomenclatures import CASE_ROLES, Role
from app.models.operators import Site
from app.models.staff import StaffUser
from app.services.access.scope import get_owned, load_owned, operator_of, owned_by
from app.services.admin.catalogue import list_units
from app.services.admin.operators import list_sites, time_zone_of

PLANNER_ROLES = (Role.MANAGER, Role.OPERATOR_ADMIN)


def _require_admin(actor: StaffUser) -> int:
    operator_id = operator_of(actor)
    if actor.role != Role.OPERATOR_ADMIN:
        raise Forbidden("Seuls les administrateurs de l'opérateur modifient les motifs.")
    return operator_id


def _require_planner(actor: StaffUser) -> int:
    operator_id = operator_of(actor)
    if actor.role not in PLANNER_ROLES:
        raise Forbidden("Seuls les responsables et les administrateurs gèrent les disponibilités.")
    return operator_id


def require_type_admin(actor: StaffUser) -> None:
    """Refuse anyone but an operator admin, before their form is even read."""
    _require_admin(actor)


def require_planner(actor: StaffUser) -> None:
    """Refuse anyone but a manager or an operator admin, before their form is even read."""
    _require_planner(actor)


# ---- appointment types ----------------------------------------------------------------------


@dataclass
class TypesWithUnits:
    types: list[AppointmentType]
    units: list[ServiceUnit]  # what a motif may count as


def types_with_units(*, session: Session, actor: StaffUser) -> TypesWithUnits:
    return TypesWithUnits(list_types(session=session, actor=actor), list_units(session=session))


def list_types(*, session: Session, actor: StaffUser) -> list[AppointmentType]:
    """Every motif of the admin's operator, inactive ones included."""
    operator_id = _require_admin(actor)
    query = select(AppointmentType).where(owned_by(AppointmentType, operator_id))
    return list(session.exec(query.order_by(AppointmentType.position, AppointmentType.id)))


def get_type(*, session: Session, actor: StaffUser, type_id: int) -> AppointmentType:
    """A motif the admin may edit: another operator's is not found, a non-admin is refused."""
    kind = load_owned(session, AppointmentType, type_id, actor)
    _require_admin(actor)
    return kind


def _type_values(session: Session, operator_id: int, data: AppointmentTypeEdit, type_id=None):
    if data.unit_id is not None:
        unit = session.get(ServiceUnit, data.unit_id)
        if unit is None or not unit.active:
            raise Invalid({"unit_id": "Unité d'œuvre inconnue"})
    others = session.exec(select(AppointmentType).where(owned_by(AppointmentType, operator_id)))
    if any(o.id != type_id and search_key(o.name) == search_key(data.name) for o in others):
        raise Invalid({"name": "Un autre motif porte déjà ce nom"})
    return data.model_dump(exclude={"modes"}) | {"modes": " ".join(data.modes)}


@all_or_nothing
def create_type(
    *, session: Session, actor: StaffUser, data: AppointmentTypeEdit
) -> AppointmentType:
    """A new motif for the admin's operator, placed last."""
    operator_id = _require_admin(actor)
    values = _type_values(session, operator_id, data)
    count = len(list_types(session=session, actor=actor))
    kind = AppointmentType(**values, operator_id=operator_id, position=count)
    session.add(kind)
    session.flush()
    return kind


@all_or_nothing
def update_type(
    *, session: Session, actor: StaffUser, type_id: int, data: AppointmentTypeEdit
) -> AppointmentType:
    kind = get_type(session=session, actor=actor, type_id=type_id)
    kind.sqlmodel_update(_type_values(session, kind.operator_id, data, type_id))
    session.add(kind)
    session.flush()
    return kind


def set_type_active(
    *, session: Session, actor: StaffUser, type_id: int, active: bool
) -> AppointmentType:
    """Offer a motif again, or stop offering it: booking pages, the API and staff no longer
    book it, while the appointments already booked under it keep it."""
    kind = get_type(session=session, actor=actor, type_id=type_id)
    kind.active = active
    session.add(kind)
    session.flush()
    return kind


# ---- openings and absences ------------------------------------------------------------------


@dataclass
class OpeningRow:
    opening: OpeningSlot
    counsellor: StaffUser
    site: Site | None


@dataclass
class AbsenceRow:
    absence: Absence
    counsellor: StaffUser


@dataclass
class Planning:
    """The planner's page: openings, absences, and what their forms choose from."""

    openings: list[OpeningRow]
    absences: list[AbsenceRow]
    counsellors: list[StaffUser]
    sites: list[Site]
    time_zone: str  # the operator's: absences are typed in it


def planning(*, session: Session, actor: StaffUser) -> Planning:
    operator_id = _require_planner(actor)
    return Planning(
        openings=list_openings(session=session, actor=actor),
        absences=list_absences(session=session, actor=actor),
        counsellors=list_counsellors(session=session, actor=actor),
        sites=list_sites(session=session, operator_id=operator_id),
        time_zone=time_zone_of(session=session, operator_id=operator_id),
    )


def list_counsellors(*, session: Session, actor: StaffUser) -> list[StaffUser]:
    """Staff who can receive beneficiaries, for the planner's selects."""
    operator_id = _require_planner(actor)
    query = select(StaffUser).where(
        owned_by(StaffUser, operator_id),
        col(StaffUser.active).is_(True),
        col(StaffUser.role).in_([r.value for r in CASE_ROLES]),
    )
    staff = session.exec(query.order_by(StaffUser.id))
    return sorted(staff, key=lambda s: french_sort_key(s.full_name))


def _check_counsellor(session: Session, operator_id: int, counsellor_id: int) -> None:
    staff = get_owned(session, StaffUser, counsellor_id, operator_id)
    if staff is None or not staff.active or staff.role not in CASE_ROLES:
        raise Invalid({"counsellor_id": "Conseiller ou conseillère inconnu(e)"})


def list_openings(*, session: Session, actor: StaffUser) -> list[OpeningRow]:
    """The operator's openings, by counsellor, weekday and time."""
    operator_id = _require_planner(actor)
    query = (
        select(OpeningSlot, StaffUser, Site)
        .join(StaffUser, col(StaffUser.id) == OpeningSlot.counsellor_id)
        .outerjoin(Site, col(Site.id) == OpeningSlot.site_id)
        .where(owned_by(OpeningSlot, operator_id))
        .order_by(StaffUser.id, OpeningSlot.weekday, OpeningSlot.start_time)
    )
    rows = [OpeningRow(*row) for row in session.exec(query)]
    return sorted(rows, key=lambda row: french_sort_key(row.counsellor.full_name))


@all_or_nothing
def create_opening(*, session: Session, actor: StaffUser, data: OpeningSlotEdit) -> OpeningSlot:
    """A weekly opening; on site needs a site, and a remote opening offers no on-site mode."""
    operator_id = _require_planner(actor)
    _check_counsellor(session, operator_id, data.counsellor_id)
    if data.site_id is not None:
        site = get_owned(session, Site, data.site_id, operator_id)
        if site is None or not site.active:
            raise Invalid({"site_id": "Lieu d'accueil inconnu"})
    elif "on_site" in data.modes:
        raise Invalid({"modes": "Sur place suppose un lieu d'accueil"})
    opening = OpeningSlot(
        **data.model_dump(exclude={"modes"}), modes=" ".join(data.modes), operator_id=operator_id
    )
    session.add(opening)
    session.flush()
    return opening


def delete_opening(*, session: Session, actor: StaffUser, opening_id: int) -> None:
    opening = load_owned(session, OpeningSlot, opening_id, actor)
    _require_planner(actor)
    session.delete(opening)
    session.flush()


def list_absences(*, session: Session, actor: StaffUser) -> list[AbsenceRow]:
    operator_id = _require_planner(actor)
    query = (
        select(Absence, StaffUser)
        .join(StaffUser, col(StaffUser.id) == Absence.counsellor_id)
        .where(owned_by(Absence, operator_id))
        .order_by(col(Absence.starts_at).desc())
    )
    return [AbsenceRow(*row) for row in session.exec(query)]


@all_or_nothing
def create_absence(*, session: Session, actor: StaffUser, data: AbsenceEdit) -> Absence:
    """An absence: no slot is offered then (appointments already booked stay, to be moved)."""
    operator_id = _require_planner(actor)
    _check_counsellor(session, operator_id, data.counsellor_id)
    absence = Absence(**data.model_dump(), operator_id=operator_id)
    session.add(absence)
    session.flush()
    return absence


def delete_absence(*, session: Session, actor: StaffUser, absence_id: int) -> None:
    absence = load_owned(session, Absence, absence_id, actor)
    _require_planner(actor)
    session.delete(absence)
    session.flush()
