"""The deliverable kinds each operator uses and the units they prove (catalogue data)."""

from sqlmodel import Session, select

from app.models.catalogue import DeliverableKind, ServiceUnit, UnitProofRequirement

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


def list_kinds(*, session: Session, operator_id: int, active_only: bool = True) -> list[DeliverableKind]:
    query = select(DeliverableKind).where(DeliverableKind.operator_id == operator_id)
    if active_only:
        query = query.where(DeliverableKind.active.is_(True))
    return list(session.exec(query.order_by(DeliverableKind.position, DeliverableKind.id)))
