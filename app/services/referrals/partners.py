"""The partner directory: each operator's own list of organisations it refers people to."""

from sqlalchemy import String, literal
from sqlmodel import Session, col, or_, select

from app.core.db import all_or_nothing
from app.core.errors import Forbidden, Invalid
from app.models.base import utcnow
from app.models.fields import normalise_departement, search_key
from app.models.nomenclatures import PartnerType, Role
from app.models.partners import Partner, PartnerCreate, PartnerEdit, PartnerUpdate
from app.models.staff import StaffUser
from app.services.access.scope import load_owned, operator_of, owned_by, readable

SEARCH_LIMIT = 200
EDITOR_ROLES = frozenset({Role.MANAGER, Role.OPERATOR_ADMIN})
NAME_TAKEN = "Un autre partenaire de votre annuaire porte déjà ce nom"


def can_edit_partners(actor: StaffUser) -> bool:
    """Managers and operator admins keep the directory; counsellors read and search it."""
    return actor.sees_cases and actor.role in EDITOR_ROLES


def require_editor(actor: StaffUser) -> int:
    """The operator whose directory the actor may change, or Forbidden for a counsellor."""
    operator_id = operator_of(actor)
    if actor.role not in EDITOR_ROLES:
        raise Forbidden(
            "Seuls les responsables d'équipe et les administrateurs de l'opérateur "
            "modifient l'annuaire des partenaires."
        )
    return operator_id


def search_partners(
    *,
    session: Session,
    actor: StaffUser,
    type: PartnerType | str | None = None,
    departement: str | None = None,
    query: str = "",
    active_only: bool = True,
    limit: int = SEARCH_LIMIT,
) -> list[Partner]:
    """The actor's partners of a type, serving a département, matching every word of `query`
    in their name, city or services (case and accents ignored), sorted by name.

    A partner with no département serves the whole territory, so it matches any of them."""
    statement = readable(Partner, actor)
    if type:
        statement = statement.where(Partner.type == _known_type(type))
    if departement:
        statement = statement.where(_serves(_known_departement(departement)))
    if active_only:
        statement = statement.where(col(Partner.active).is_(True))
    words = search_key(query).split()
    # One operator's directory holds tens or hundreds of rows: filtering the words and sorting
    # here gives the same accent-blind result on SQLite and PostgreSQL without a search column.
    found = [p for p in session.exec(statement) if _has_words(p, words)]
    return sorted(found, key=lambda p: (search_key(p.name), p.id))[:limit]


def _serves(code: str):
    """The space-separated codes padded with spaces, so that " 6 " never matches inside "69"."""
    padded = literal(" ", String) + col(Partner.departements) + literal(" ", String)
    return or_(Partner.departements == "", padded.contains(f" {code} ", autoescape=True))


def _has_words(partner: Partner, words: list[str]) -> bool:
    text = search_key(partner.name, partner.city, partner.services)
    return all(word in text for word in words)


def _known_type(value: PartnerType | str) -> PartnerType:
    try:
        return PartnerType(value)
    except ValueError:
        raise Invalid({"type": "Type de partenaire inconnu"}) from None


def _known_departement(value: str) -> str:
    try:
        return normalise_departement(value)
    except ValueError as exc:
        raise Invalid({"departement": str(exc)}) from None


def get_partner(*, session: Session, actor: StaffUser, partner_id: int) -> Partner:
    """One partner of the actor's operator (any case role may read it); another's is not found."""
    return load_owned(session, Partner, partner_id, actor)


def partners_by_name(*, session: Session, operator_id: int) -> dict[str, Partner]:
    """The operator's partners keyed by their name as search sees it (case and accents ignored)."""
    partners = session.exec(select(Partner).where(owned_by(Partner, operator_id)))
    return {search_key(p.name): p for p in partners}


def _check_name_free(session: Session, operator_id: int, name: str, partner_id: int | None):
    """Names differing only by case or accents would be two entries for one organisation."""
    same = partners_by_name(session=session, operator_id=operator_id).get(search_key(name))
    if same is not None and same.id != partner_id:
        raise Invalid({"name": NAME_TAKEN})


def apply_edit(partner: Partner, data: PartnerEdit) -> None:
    """Copy validated input onto a partner row (no permission check: callers have done it)."""
    partner.sqlmodel_update(data.model_dump())
    partner.updated_at = utcnow()


def add_partner(*, session: Session, operator_id: int, data: PartnerEdit) -> Partner:
    """Insert a partner without a permission check: for the demo seed and the checked import."""
    partner = Partner(operator_id=operator_id, name=data.name, type=data.type)
    apply_edit(partner, data)
    session.add(partner)
    session.flush()
    return partner


@all_or_nothing
def create_partner(*, session: Session, actor: StaffUser, data: PartnerCreate) -> Partner:
    """Add a partner to the actor's directory; its name must be new there."""
    operator_id = require_editor(actor)
    _check_name_free(session, operator_id, data.name, None)
    return add_partner(session=session, operator_id=operator_id, data=data)


@all_or_nothing
def update_partner(
    *, session: Session, actor: StaffUser, partner_id: int, data: PartnerUpdate
) -> Partner:
    """Replace every field of a partner; another operator's is not found, a counsellor refused."""
    partner = get_partner(session=session, actor=actor, partner_id=partner_id)
    require_editor(actor)
    _check_name_free(session, partner.operator_id, data.name, partner.id)
    apply_edit(partner, data)
    session.add(partner)
    session.flush()
    return partner


def set_active(*, session: Session, actor: StaffUser, partner_id: int, active: bool) -> Partner:
    """Deactivate a partner (kept for past referrals, no longer proposed) or bring it back."""
    partner = get_partner(session=session, actor=actor, partner_id=partner_id)
    require_editor(actor)
    partner.active = active
    partner.updated_at = utcnow()
    session.add(partner)
    session.flush()
    return partner
