"""The unit catalogue, read from the database."""

from sqlmodel import Session, select

from app.core.errors import Invalid
from app.models.catalogue import ServiceUnit


def list_units(*, session: Session) -> list[ServiceUnit]:
    query = select(ServiceUnit).where(ServiceUnit.active.is_(True)).order_by(ServiceUnit.position)
    return list(session.exec(query))


def get_unit(*, session: Session, unit_id: int) -> ServiceUnit:
    unit = session.get(ServiceUnit, unit_id)
    if unit is None or not unit.active:
        raise Invalid({"unit_id": "Unité d'œuvre inconnue"})
    return unit


def triage_unit(*, session: Session) -> ServiceUnit:
    return session.exec(select(ServiceUnit).where(ServiceUnit.is_triage.is_(True))).one()
