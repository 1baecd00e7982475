"""Demo proofs: most units that ended got their deliverables, most of those were read;
the rest shows up in « Preuves manquantes »."""

from datetime import datetime, timedelta

from sqlmodel import select

from app.core.errors import Conflict
from app.models.base import utcnow
from app.models.cases import Case, Episode
from app.models.catalogue import DeliverableKind, UnitProofRequirement
from app.models.deliverables import (
    AcknowledgementMethod,
    ActionStepWrite,
    DeliverableDraft,
    StepStatus,
)
from app.models.nomenclatures import StepOwner
from app.models.outbox import MessageStatus
from app.models.staff import StaffUser
from app.services.deliverables.action_plan import add_step, list_steps, set_objective
from app.services.deliverables.documents import issue_deliverable, save_draft, start_draft
from app.services.deliverables.sharing import share_version

PROOF_RATE = 0.8  # ended units whose deliverables were issued
ACKNOWLEDGED_RATE = 0.75  # issued versions the beneficiary has read
BOUNCE_RATE = 0.03  # e-mails the beneficiary's server refused

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
    # Drafting and sharing stamp "now" on the case; the demo's history happened earlier.
    last_activity = case.last_activity_at
    kinds = _required_kinds(session, case.operator_id, episode.unit_id)
    # The plan is built during the unit, before any of its documents is drafted.
    if any(kind.includes_action_plan for kind in kinds) and not list_steps(
        session=session, actor=actor, case_id=case.id
    ):
        _plan(session, actor, case, ended_at)
    for kind in kinds:
        data = DeliverableDraft(kind_id=kind.id, episode_id=episode.id)
        deliverable = start_draft(session=session, actor=actor, case_id=case.id, data=data)
        # The counsellor writes what the case did not record (the draft filled the rest).
        bodies = {
            s["key"]: EXTRA_TEXTS.get(s["title"], "") for s in deliverable.sections if not s["body"]
        }
        bodies = {key: text for key, text in bodies.items() if text}
        save_draft(session=session, actor=actor, deliverable_id=deliverable.id, bodies=bodies)
        issued_at = min(ended_at + timedelta(hours=rng.randint(1, 30)), utcnow())
        version = issue_deliverable(
            session=session, actor=actor, deliverable_id=deliverable.id, issued_at=issued_at
        )
        _shared(session, rng, actor, deliverable.id, version, issued_at)
        if rng.random() < ACKNOWLEDGED_RATE:
            version.acknowledged_at = min(issued_at + timedelta(hours=rng.randint(2, 72)), utcnow())
            version.acknowledgement_method = AcknowledgementMethod.ONLINE.value
        session.add(version)
        last_activity = max(last_activity, issued_at)
    case.last_activity_at = last_activity
    session.add(case)
    session.flush()


def _shared(session, rng, actor, deliverable_id, version, at: datetime) -> None:
    """E-mailed to the beneficiary long ago: delivered, or bounced for a few addresses."""
    try:
        message = share_version(
            session=session, actor=actor, deliverable_id=deliverable_id, number=version.number
        )
    except Conflict:  # no e-mail address: handed over in person
        return
    message.created_at = message.next_attempt_at = version.shared_at = at
    message.attempts = 1
    if rng.random() < BOUNCE_RATE:
        message.status = MessageStatus.FAILED.value
        message.last_error = "550 5.1.1 Adresse inconnue du serveur de destination"
    else:
        message.status, message.sent_at = MessageStatus.SENT.value, at + timedelta(minutes=1)
    session.add_all([message, version])


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
    objective = EXTRA_TEXTS["Objectif"]
    set_objective(session=session, actor=actor, case_id=case.id, objective=objective)
    for description, owner, days, status in PLAN:
        due_on = (start + timedelta(days=days)).date()
        data = ActionStepWrite(description=description, owner=owner, due_on=due_on, status=status)
        add_step(session=session, actor=actor, case_id=case.id, data=data)
