"""Operators and their sites."""

from sqlmodel import Session, select

from app.core.errors import Invalid
from app.models.operators import Operator, Site
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
