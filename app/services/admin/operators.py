"""Operators and their sites."""

from dataclasses import dataclass

from sqlmodel import Session, col, func, select

from app.core.errors import Forbidden, Invalid
from app.models.nomenclatures import REGIONS_BY_INSEE, Region, Role
from app.models.operators import Operator, OperatorCreate, Site
from app.models.staff import StaffUser
from app.services.access.scope import get_owned, owned_by
from app.services.control.proof_catalogue import seed_default_kinds


def create_operator(
    *, session: Session, code: str, name: str, region_code: str, time_zone: str = "Europe/Paris"
) -> Operator:
    """A new tenant, with the default deliverable kinds and proof requirements."""
    operator = Operator(code=code, name=name, region_code=region_code, time_zone=time_zone)
    session.add(operator)
    session.flush()
    seed_default_kinds(session=session, operator_id=operator.id)
    return operator


def get_operator(*, session: Session, operator_id: int) -> Operator:
    return session.get(Operator, operator_id)


def time_zone_of(*, session: Session, operator_id: int, site_id: int | None = None) -> str:
    """Where something happens sets its clock: the site's time zone, else the operator's (a
    remote appointment, a case followed without a site, the operator's own pages).

    Objects already loaded by the session cost no query."""
    site = session.get(Site, site_id) if site_id else None
    return site.time_zone if site else session.get(Operator, operator_id).time_zone


def list_sites(*, session: Session, operator_id: int) -> list[Site]:
    query = select(Site).where(owned_by(Site, operator_id), Site.active.is_(True))
    return list(session.exec(query.order_by(Site.name)))


def get_site(*, session: Session, operator_id: int, site_id: int) -> Site:
    site = get_owned(session, Site, site_id, operator_id)
    if site is None:
        raise Invalid({"site_id": "Lieu d'accueil inconnu"})
    return site


@dataclass
class OperatorLine:
    operator: Operator
    region: Region | None
    active_staff: int
    open_sites: int


def _require_sysadmin(actor: StaffUser) -> None:
    if actor.role != Role.SYSADMIN:
        raise Forbidden("Seuls les administrateur·rices système ouvrent des opérateurs.")


def operators_view(*, session: Session, actor: StaffUser) -> list[OperatorLine]:
    """Every operator with its active staff and open sites, by code."""
    _require_sysadmin(actor)
    staff = dict(
        session.exec(
            select(StaffUser.operator_id, func.count())
            .where(col(StaffUser.active).is_(True))
            .group_by(StaffUser.operator_id)
        ).all()
    )
    sites = dict(
        session.exec(
            select(Site.operator_id, func.count())
            .where(col(Site.active).is_(True))
            .group_by(Site.operator_id)
        ).all()
    )
    operators = session.exec(select(Operator).order_by(Operator.code))
    return [
        OperatorLine(
            operator,
            REGIONS_BY_INSEE.get(operator.region_code),
            staff.get(operator.id, 0),
            sites.get(operator.id, 0),
        )
        for operator in operators
    ]


def open_operator(*, session: Session, actor: StaffUser, data: OperatorCreate) -> Operator:
    """A new operator on the region's clock; its admin is then invited from « Équipe »."""
    _require_sysadmin(actor)
    if session.exec(select(Operator.id).where(Operator.code == data.code)).first():
        raise Invalid({"code": "Ce code est déjà celui d'un opérateur"})
    region = REGIONS_BY_INSEE[data.region_code]
    return create_operator(
        session=session,
        code=data.code,
        name=data.name,
        region_code=region.insee,
        time_zone=region.time_zone,
    )
