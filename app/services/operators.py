"""Operators and their sites."""

from sqlmodel import Session, select

from app.errors import Invalid
from app.models.operators import Operator, Site


def get_operator(*, session: Session, operator_id: int) -> Operator:
    return session.get(Operator, operator_id)


def list_sites(*, session: Session, operator_id: int) -> list[Site]:
    query = select(Site).where(Site.operator_id == operator_id, Site.active.is_(True))
    return list(session.exec(query.order_by(Site.name)))


def get_site(*, session: Session, operator_id: int, site_id: int) -> Site:
    site = session.get(Site, site_id)
    if site is None or site.operator_id != operator_id:
        raise Invalid({"site_id": "Lieu d'accueil inconnu"})
    return site
