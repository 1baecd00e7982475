"""Whom a manager oversees: the active counsellors of their sites (an operator admin: every
active counsellor of the operator). The team view on their home lists them, and the lists it
links to accept one of them, and no one else, as their counsellor filter."""

from sqlmodel import Session, col, select

from app.core.errors import NotFound
from app.models.fields import french_sort_key
from app.models.nomenclatures import Role
from app.models.staff import StaffSite, StaffUser
from app.services.access.scope import operator_of, owned_by
from app.services.admin.staff import Colleague

SUPERVISOR_ROLES = frozenset({Role.MANAGER, Role.OPERATOR_ADMIN})


def oversees_a_team(actor: StaffUser) -> bool:
    return actor.role in SUPERVISOR_ROLES


def _overseen(actor: StaffUser):
    query = select(StaffUser.id, StaffUser.full_name).where(
        owned_by(StaffUser, operator_of(actor)),
        col(StaffUser.active).is_(True),
        StaffUser.role == Role.COUNSELLOR.value,
    )
    if actor.role == Role.MANAGER:
        their_sites = select(StaffSite.site_id).where(StaffSite.staff_id == actor.id)
        shares_one = select(StaffSite.staff_id).where(col(StaffSite.site_id).in_(their_sites))
        query = query.where(col(StaffUser.id).in_(shares_one))
    return query


def overseen_counsellors(*, session: Session, actor: StaffUser) -> list[Colleague]:
    """The counsellors the actor oversees, by name: none for a counsellor; for a manager, those
    sharing one of their sites; for an operator admin, all of the operator's."""
    if not oversees_a_team(actor):
        return []
    colleagues = [Colleague(*row) for row in session.exec(_overseen(actor))]
    return sorted(colleagues, key=lambda c: (french_sort_key(c.full_name), c.id))


def overseen_counsellor(*, session: Session, actor: StaffUser, counsellor_id: int) -> Colleague:
    """One counsellor the actor oversees (or the actor themself): anyone else is not found."""
    if counsellor_id == actor.id:
        return Colleague(actor.id, actor.full_name)
    row = None
    if oversees_a_team(actor):
        row = session.exec(_overseen(actor).where(StaffUser.id == counsellor_id)).first()
    if row is None:
        raise NotFound()
    return Colleague(*row)
