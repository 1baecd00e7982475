"""Demo referrals: a third of the open cases were referred to a partner of the directory, at
every stage of the status flow, so that home lists and case sections have something to show."""

from datetime import datetime, timedelta

from sqlmodel import select

from app.models.base import utcnow
from app.models.cases import Case
from app.models.consents import ConsentRecord
from app.models.partners import Partner, ReferralCreate, ReferralEvent
from app.models.staff import StaffUser
from app.services.referrals.workflow import move, propose_referral

REFERRAL_RATE = 0.35
PURPOSES = {
    "bilan_competences": "Bilan de compétences pour confirmer le projet de reconversion.",
    "vae": "Accompagnement VAE vers le titre professionnel visé.",
    "transitions_pro": "Dossier de projet de transition professionnelle (PTP).",
    "france_travail": "Information sur le dispositif démission-reconversion.",
    "apec": "Appui à la recherche d'un poste de cadre dans le secteur visé.",
    "creation_entreprise": "Étude de faisabilité du projet de création d'entreprise.",
    "cpf": "Choix et financement d'une formation avec le CPF.",
    "opco": "Financement de la formation par le plan de développement des compétences.",
    "sante_travail": "Aménagement du poste après un arrêt de travail.",
}
# Each script is the path a referral took, with the days after the proposal of each step.
SCRIPTS = [
    [("sent", 0)],
    [("sent", 0), ("accepted", 3)],
    [("sent", 0), ("accepted", 2), ("in_progress", 9)],
    [("sent", 0), ("accepted", 4), ("in_progress", 10), ("completed", 45)],
    [("sent", 0), ("declined", 5)],
    [("sent", 0), ("expired", 16)],
    [],
]
DECLINE_REASON = "Pas de place avant plusieurs mois : nous conseillons un autre centre."
OUTCOME_NOTE = "Le bilan a confirmé le projet ; la demande de financement est déposée."


def refer_some(session, rng, actor: StaffUser, case: Case) -> None:
    """Maybe refer the case to a partner the directory has for one of the usual purposes."""
    if rng.random() > REFERRAL_RATE:
        return
    partners = session.exec(
        select(Partner)
        .where(
            Partner.operator_id == case.operator_id,
            Partner.active.is_(True),
            Partner.type.in_(list(PURPOSES)),
        )
        .order_by(Partner.id)
    ).all()
    if not partners:
        return
    partner = rng.choice(partners)
    data = ReferralCreate(
        partner_id=partner.id,
        purpose=PURPOSES[partner.type],
        shared_information=f"Dossier {case.reference}",
        consent=True,
    )
    last_activity = case.last_activity_at  # proposing stamps "now"; the history is older
    referral = propose_referral(session=session, actor=actor, case_id=case.id, data=data)
    case.last_activity_at = last_activity
    started = utcnow() - timedelta(days=rng.randint(1, 60), hours=rng.randint(0, 8))
    started = max(started, case.opened_at + timedelta(hours=2))
    _backdate_proposal(session, referral, started)
    case.last_activity_at = max(last_activity, started)
    for status, days in rng.choice(SCRIPTS):
        at = started + timedelta(days=days, hours=1)
        if at > utcnow():
            break
        _apply(session, referral, status, actor, at)
    if referral.status in ("sent", "accepted", "in_progress") and rng.random() < 0.5:
        referral.follow_up_on = (started + timedelta(days=rng.randint(10, 90))).date()
        session.add(referral)


def _backdate_proposal(session, referral, at: datetime) -> None:
    referral.created_at = referral.consent_at = referral.updated_at = at
    # The agreement to share was given at the proposal, as the counsellor recorded it.
    agreement = session.exec(
        select(ConsentRecord).where(
            ConsentRecord.partner_id == referral.partner_id,
            ConsentRecord.at > at,
            ConsentRecord.beneficiary_id
            == select(Case.beneficiary_id).where(Case.id == referral.case_id).scalar_subquery(),
        )
    ).all()
    for record in agreement:
        record.at = at
        session.add(record)
    for event in session.exec(
        select(ReferralEvent).where(ReferralEvent.referral_id == referral.id)
    ):
        event.at = at
        session.add(event)
    session.add(referral)


def _apply(session, referral, status: str, actor: StaffUser, at: datetime) -> None:
    """One step of the script, as the counsellor, the partner's link or the worker made it."""
    via = {"accepted": "partner_link", "declined": "partner_link", "expired": "system"}.get(
        status, "counsellor"
    )
    if status == "declined":
        referral.decline_reason = DECLINE_REASON
    if status == "completed":
        referral.outcome, referral.outcome_note = "achieved", OUTCOME_NOTE
    note = {"declined": DECLINE_REASON, "completed": OUTCOME_NOTE}.get(status, "")
    move(
        session,
        referral,
        status,
        actor=actor if via == "counsellor" else None,
        via=via,
        note=note,
        now=at,
    )
