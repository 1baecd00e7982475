"""Demo proofs: most units that ended got their deliverables, most of those were read;
the rest shows up in « Preuves manquantes »."""

from datetime import datetime, timedelta

from sqlmodel import select

from app.models.base import utcnow
from app.models.cases import Case, Episode
from app.models.catalogue import DeliverableKind, UnitProofRequirement
from app.models.deliverables import ActionStepWrite, DeliverableDraft
from app.models.nomenclatures import AcknowledgementMethod, StepOwner, StepStatus
from app.models.staff import StaffUser
from app.services.action_plan import add_step, list_steps
from app.services.deliverables import issue_deliverable, save_draft, start_draft

PROOF_RATE = 0.8  # ended units whose deliverables were issued
ACKNOWLEDGED_RATE = 0.75  # issued versions the beneficiary has read

EXTRA_TEXTS = {
    "Pistes évoquées": "Aide-soignant·e en EHPAD ; technicien·ne de maintenance ; formation "
    "de formateur·rice. Chaque piste sera confrontée au terrain avant de choisir.",
    "Prochaines étapes": "Rencontrer deux professionnel·les du métier visé, consulter les "
    "offres de formation sur Mon Compte Formation, revenir vers nous d'ici un mois.",
    "Projet retenu": "Devenir aide-soignant·e, par une formation en alternance financée par "
    "un projet de transition professionnelle.",
    "Atouts et compétences mobilisables": "Relation d'aide, organisation, sens du service "
    "acquis en dix ans d'accueil du public ; mobilité géographique possible.",
    "Objectif": "Entrer en formation d'aide-soignant·e à la rentrée prochaine.",
    "Bilan de la mise en œuvre": "Le dossier de financement est déposé ; l'employeur a "
    "donné son accord de principe pour le congé.",
}
PLAN = [
    (
        "Faire une immersion professionnelle de deux jours",
        StepOwner.BENEFICIARY,
        20,
        StepStatus.DONE,
    ),
    ("Constituer le dossier Transitions Pro", StepOwner.BENEFICIARY, 45, StepStatus.IN_PROGRESS),
    ("Relire le dossier avant dépôt", StepOwner.COUNSELLOR, 50, StepStatus.TODO),
    ("Confirmer la place en formation", StepOwner.PARTNER, 90, StepStatus.TODO),
]


def prove_episode(session, rng, actor: StaffUser, case: Case, episode: Episode, ended_at: datetime):
    """Issue the deliverables the operator requires for this unit, as the counsellor would."""
    if rng.random() > PROOF_RATE:
        return
    for kind in _required_kinds(session, case.operator_id, episode.unit_id):
        if kind.includes_action_plan and not list_steps(
            session=session, actor=actor, case_id=case.id
        ):
            _plan(session, actor, case, ended_at)
        data = DeliverableDraft(kind_id=kind.id, episode_id=episode.id)
        deliverable = start_draft(session=session, actor=actor, case_id=case.id, data=data)
        bodies = {s["key"]: EXTRA_TEXTS.get(s["title"], "") for s in deliverable.sections}
        bodies = {key: text for key, text in bodies.items() if text}
        save_draft(session=session, actor=actor, deliverable_id=deliverable.id, bodies=bodies)
        issued_at = min(ended_at + timedelta(hours=rng.randint(1, 30)), utcnow())
        version = issue_deliverable(
            session=session, actor=actor, deliverable_id=deliverable.id, issued_at=issued_at
        )
        version.shared_at = issued_at
        if rng.random() < ACKNOWLEDGED_RATE:
            version.acknowledged_at = min(issued_at + timedelta(hours=rng.randint(2, 72)), utcnow())
            version.acknowledgement_method = AcknowledgementMethod.ONLINE.value
        session.add(version)
    session.flush()


def _required_kinds(session, operator_id: int, unit_id: int) -> list[DeliverableKind]:
    query = (
        select(DeliverableKind)
        .join(UnitProofRequirement, UnitProofRequirement.kind_id == DeliverableKind.id)
        .where(
            UnitProofRequirement.operator_id == operator_id, UnitProofRequirement.unit_id == unit_id
        )
        .order_by(DeliverableKind.position)
    )
    return list(session.exec(query))


def _plan(session, actor, case, start: datetime) -> None:
    for description, owner, days, status in PLAN:
        due_on = (start + timedelta(days=days)).date()
        data = ActionStepWrite(description=description, owner=owner, due_on=due_on, status=status)
        add_step(session=session, actor=actor, case_id=case.id, data=data)
