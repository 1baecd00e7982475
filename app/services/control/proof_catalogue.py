"""The deliverable kinds each operator uses and the units they prove (catalogue data)."""

import re
from dataclasses import dataclass

from sqlmodel import Session, col, delete, func, select

from app.core.db import all_or_nothing
from app.core.errors import Forbidden, Invalid
from app.models.catalogue import (
    DeliverableKind,
    DeliverableKindEdit,
    ServiceUnit,
    UnitProofRequirement,
)
from app.models.fields import search_key
from app.models.nomenclatures import Role
from app.models.staff import StaffUser
from app.services.access.scope import load_owned, operator_of, owned_by
from app.services.admin.catalogue import list_units

# The 2020–2023 market's defaults, given to every new operator; admins change them freely.
# (code, label, parts included, extra section titles, unit codes it proves)
DEFAULT_KINDS = [
    (
        "synthese_entretien",
        "Synthèse de l'entretien",
        {"includes_request": True, "includes_interactions": True},
        "Pistes évoquées\nProchaines étapes",
        ["UO1"],
    ),
    (
        "document_synthese",
        "Document de synthèse",
        {"includes_request": True, "includes_interactions": True, "includes_referrals": True},
        "Projet retenu\nAtouts et compétences mobilisables",
        ["UO2.1"],
    ),
    ("plan_action", "Plan d'action", {"includes_action_plan": True}, "Objectif", ["UO2.1"]),
    (
        "suivi_mise_en_oeuvre",
        "Suivi de la mise en œuvre",
        {"includes_interactions": True, "includes_referrals": True, "includes_action_plan": True},
        "Bilan de la mise en œuvre",
        ["UO2.2"],
    ),
]


def seed_default_kinds(*, session: Session, operator_id: int) -> list[DeliverableKind]:
    """Give a new operator the default kinds and proof requirements."""
    unit_ids = dict(session.exec(select(ServiceUnit.code, ServiceUnit.id)).all())
    kinds = []
    for position, (code, label, parts, extra, unit_codes) in enumerate(DEFAULT_KINDS):
        kind = DeliverableKind(
            operator_id=operator_id,
            code=code,
            label=label,
            position=position,
            extra_sections=extra,
            **parts,
        )
        session.add(kind)
        session.flush()
        for unit_code in unit_codes:
            session.add(
                UnitProofRequirement(
                    operator_id=operator_id, kind_id=kind.id, unit_id=unit_ids[unit_code]
                )
            )
        kinds.append(kind)
    session.flush()
    return kinds


def list_kinds(
    *, session: Session, operator_id: int, active_only: bool = True
) -> list[DeliverableKind]:
    query = select(DeliverableKind).where(owned_by(DeliverableKind, operator_id))
    if active_only:
        query = query.where(DeliverableKind.active.is_(True))
    return list(session.exec(query.order_by(DeliverableKind.position, DeliverableKind.id)))


@dataclass
class KindWithUnits:
    """A kind and the ids of the units that require it, as the admin page lists them."""

    kind: DeliverableKind
    unit_ids: list[int]


def requirements_by_unit(*, session: Session, operator_id: int) -> dict[int, list[DeliverableKind]]:
    """The active kinds each unit requires, by unit id; units requiring nothing are absent.

    An inactive kind can no longer be drafted, so it is no longer required either."""
    statement = (
        select(UnitProofRequirement.unit_id, DeliverableKind)
        .join(DeliverableKind, DeliverableKind.id == UnitProofRequirement.kind_id)
        .where(
            owned_by(UnitProofRequirement, operator_id),
            DeliverableKind.active.is_(True),
        )
        .order_by(DeliverableKind.position, DeliverableKind.id)
    )
    required: dict[int, list[DeliverableKind]] = {}
    for unit_id, kind in session.exec(statement):
        required.setdefault(unit_id, []).append(kind)
    return required


def _require_admin(actor: StaffUser) -> int:
    operator_id = operator_of(actor)
    if actor.role != Role.OPERATOR_ADMIN:
        raise Forbidden(
            "Seuls les administrateurs de l'opérateur modifient les types de livrables."
        )
    return operator_id


def kinds_with_units(*, session: Session, actor: StaffUser) -> list[KindWithUnits]:
    """Every kind of the admin's operator, inactive ones included, with the units requiring it."""
    operator_id = _require_admin(actor)
    pairs = session.exec(
        select(UnitProofRequirement.kind_id, UnitProofRequirement.unit_id).where(
            owned_by(UnitProofRequirement, operator_id)
        )
    )
    units_of: dict[int, list[int]] = {}
    for kind_id, unit_id in pairs:
        units_of.setdefault(kind_id, []).append(unit_id)
    kinds = list_kinds(session=session, operator_id=operator_id, active_only=False)
    return [KindWithUnits(kind, sorted(units_of.get(kind.id, []))) for kind in kinds]


@dataclass
class KindsPage:
    """The admin's deliverable kinds, the units they may be required by, and who requires what."""

    kinds: list[KindWithUnits]
    units: list[ServiceUnit]
    required: dict[int, list[DeliverableKind]]


def kinds_view(*, session: Session, actor: StaffUser) -> KindsPage:
    kinds = kinds_with_units(session=session, actor=actor)
    return KindsPage(
        kinds=kinds,
        units=list_units(session=session),
        required=requirements_by_unit(session=session, operator_id=operator_of(actor)),
    )


def get_kind(*, session: Session, actor: StaffUser, kind_id: int) -> DeliverableKind:
    """A kind the admin may edit: another operator's is not found, a non-admin is refused."""
    kind = load_owned(session, DeliverableKind, kind_id, actor)
    _require_admin(actor)
    return kind


@all_or_nothing
def update_kind(
    *, session: Session, actor: StaffUser, kind_id: int, data: DeliverableKindEdit
) -> DeliverableKind:
    """Change a kind's label, parts and sections, and which units require it."""
    kind = get_kind(session=session, actor=actor, kind_id=kind_id)
    unit_ids = _checked_units(session, data)
    _check_label_free(session, kind.operator_id, data.label, kind.id)
    kind.sqlmodel_update(data.model_dump(exclude={"unit_ids"}))
    session.add(kind)
    _replace_requirements(session, kind, unit_ids)
    session.flush()
    return kind


@all_or_nothing
def create_kind(
    *, session: Session, actor: StaffUser, data: DeliverableKindEdit
) -> DeliverableKind:
    """A new kind for the admin's operator, placed last; its code comes from the label."""
    operator_id = _require_admin(actor)
    unit_ids = _checked_units(session, data)
    _check_label_free(session, operator_id, data.label, None)
    last = session.exec(
        select(func.max(DeliverableKind.position)).where(owned_by(DeliverableKind, operator_id))
    ).one()
    kind = DeliverableKind(
        **data.model_dump(exclude={"unit_ids"}),
        operator_id=operator_id,
        code=_new_code(session, operator_id, data.label),
        position=(last if last is not None else -1) + 1,
    )
    session.add(kind)
    session.flush()
    _replace_requirements(session, kind, unit_ids)
    session.flush()
    return kind


def _checked_units(session: Session, data: DeliverableKindEdit) -> set[int]:
    wanted = {unit_id for unit_id in data.unit_ids if unit_id is not None}
    if not wanted:
        return wanted
    known = set(
        session.exec(
            select(ServiceUnit.id).where(
                col(ServiceUnit.id).in_(wanted), ServiceUnit.active.is_(True)
            )
        )
    )
    if known != wanted:
        raise Invalid({"unit_ids": "Unité d'œuvre inconnue"})
    return wanted


def _check_label_free(session: Session, operator_id: int, label: str, kind_id: int | None) -> None:
    """Two kinds with one label would be indistinguishable in every list and on every badge."""
    for other in list_kinds(session=session, operator_id=operator_id, active_only=False):
        if other.id != kind_id and search_key(other.label) == search_key(label):
            raise Invalid({"label": "Un autre type de livrable porte déjà ce libellé"})


def _new_code(session: Session, operator_id: int, label: str) -> str:
    """A stable identifier for exports and the API: « Plan d'action » → plan_d_action."""
    base = re.sub(r"[^a-z0-9]+", "_", search_key(label)).strip("_")[:36] or "livrable"
    taken = set(
        session.exec(select(DeliverableKind.code).where(owned_by(DeliverableKind, operator_id)))
    )
    code, n = base, 2
    while code in taken:
        code, n = f"{base}_{n}", n + 1
    return code


def _replace_requirements(session: Session, kind: DeliverableKind, unit_ids: set[int]) -> None:
    current = set(
        session.exec(
            select(UnitProofRequirement.unit_id).where(UnitProofRequirement.kind_id == kind.id)
        )
    )
    if current - unit_ids:
        session.exec(
            delete(UnitProofRequirement).where(
                UnitProofRequirement.kind_id == kind.id,
                col(UnitProofRequirement.unit_id).in_(current - unit_ids),
            )
        )
    for unit_id in sorted(unit_ids - current):
        session.add(
            UnitProofRequirement(operator_id=kind.operator_id, kind_id=kind.id, unit_id=unit_id)
        )
