"""What a downloaded table says in its title row of the filters chosen on its page: a file read
away from the page must not pass one site's figures off as the operator's."""

from sqlmodel import Session, select

from app.models.operators import Site
from app.models.staff import StaffUser
from app.services.access.scope import owned_by


def _name_within(session: Session, column, model, row_id: int, operator_id: int) -> str | None:
    # Within the operator: another operator's id, typed into the address, names nothing.
    statement = select(column).where(model.id == row_id, owned_by(model, operator_id))
    return session.exec(statement).first()


def filters_label(
    *,
    session: Session,
    operator_id: int,
    site_id: int | None = None,
    counsellor_id: int | None = None,
) -> str:
    """« lieu d'accueil Villeurbanne, conseiller·ère Camille Martin »; empty without filters."""
    parts = []
    if site_id is not None:
        name = _name_within(session, Site.name, Site, site_id, operator_id)
        parts.append(f"lieu d'accueil {name or 'inconnu'}")
    if counsellor_id is not None:
        name = _name_within(session, StaffUser.full_name, StaffUser, counsellor_id, operator_id)
        parts.append(f"conseiller·ère {name or 'inconnu·e'}")
    return ", ".join(parts)
