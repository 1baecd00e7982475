"""Referrals (orientations) to partners: proposal with consent, the status machine, sending
by e-mail with a single-use link, counsellor transitions and expiry without an answer."""

from datetime import date, datetime, timedelta

from sqlmodel import Session, col, select

from app.core.config import get_settings
from app.core.dates import local_today
from app.core.db import all_or_nothing
from app.core.errors import Conflict, Invalid, NotFound
from app.models.base import utcnow
from app.models.beneficiaries import Beneficiary
from app.models.cases import Case
from app.models.consents import ConsentPurpose, ConsentRecord
from app.models.nomenclatures import ReferralOutcome
from app.models.notifications import NotificationKind
from app.models.outbox import OutboxMessage
from app.models.partners import (
    Partner,
    Referral,
    ReferralCreate,
    ReferralEvent,
    ReferralStatus,
    ReferralTransition,
    consent_required,
)
from app.models.staff import StaffUser
from app.services.access.scope import load_owned
from app.services.cases.lifecycle import case_time_zone, get_case, touch
from app.services.messaging.notifications import case_follower, notify
from app.services.privacy.consents import record_consent, share_consent
from app.services.referrals.messages import queue_request

S = ReferralStatus
CLOSED_CASE = "Ce dossier est clos : rouvrez-le pour orienter la personne vers un partenaire."
NO_EMAIL = (
    "Ce partenaire n'a pas d'adresse e-mail : transmettez-lui l'orientation par téléphone ou "
    "par courrier, puis indiquez-la comme envoyée."
)

TRANSITIONS: dict[str, frozenset[str]] = {
    S.PROPOSED: frozenset({S.SENT, S.ABANDONED}),
    S.SENT: frozenset({S.ACCEPTED, S.DECLINED, S.EXPIRED, S.ABANDONED}),
    S.ACCEPTED: frozenset({S.IN_PROGRESS, S.COMPLETED, S.ABANDONED}),
    S.IN_PROGRESS: frozenset({S.COMPLETED, S.ABANDONED}),
    S.EXPIRED: frozenset({S.SENT, S.ABANDONED}),
    S.DECLINED: frozenset(),
    S.COMPLETED: frozenset(),
    S.ABANDONED: frozenset(),
}
"""Every status a referral may move to from each status; nothing else is ever allowed.

proposed → sent (by e-mail or by hand) | abandoned; sent → accepted | declined (with a
reason) | expired (no answer, by the system) | abandoned; accepted → in_progress | completed
(with an outcome) | abandoned; in_progress → completed | abandoned; expired → sent (sent
again) | abandoned. declined, completed and abandoned are final."""

FINAL = frozenset(s for s, targets in TRANSITIONS.items() if not targets)
# How far along the usual path a status lies: going back to an earlier one "repasse".
_STAGE = {S.PROPOSED: 0, S.SENT: 1, S.EXPIRED: 2, S.ACCEPTED: 2, S.DECLINED: 2}
_STAGE |= {S.IN_PROGRESS: 3, S.COMPLETED: 4, S.ABANDONED: 4}
# "Une orientation … ne peut pas …": each status as an adjective.
_AS_ADJECTIVE = {
    S.PROPOSED: "proposée",
    S.SENT: "envoyée au partenaire",
    S.ACCEPTED: "acceptée",
    S.DECLINED: "refusée",
    S.IN_PROGRESS: "en cours",
    S.COMPLETED: "terminée",
    S.ABANDONED: "abandonnée",
    S.EXPIRED: "expirée",
}


# ---- the status machine -------------------------------------------------------------------


def refusal(current: str, target: str) -> str:
    """The French message for a move the machine does not allow."""
    if current == target:
        return f"Cette orientation est déjà « {S(target).label} »."
    verb = "repasser" if _STAGE[S(target)] <= _STAGE[S(current)] else "passer"
    return (
        f"Une orientation {_AS_ADJECTIVE[S(current)]} ne peut pas {verb} à « {S(target).label} »."
    )


def move(
    session: Session,
    referral: Referral,
    target: str,
    *,
    actor: StaffUser | None,
    via: str,
    note: str = "",
    now: datetime | None = None,
) -> ReferralEvent:
    """Change the status if TRANSITIONS allows it, keep the event and touch the case."""
    if target not in TRANSITIONS[S(referral.status)]:
        raise Conflict(refusal(referral.status, target))
    now = now or utcnow()
    event = ReferralEvent(
        operator_id=referral.operator_id,
        referral_id=referral.id,
        from_status=referral.status,
        to_status=target,
        at=now,
        actor_id=actor.id if actor else None,
        via=via,
        note=note[:1000],
    )
    _stamp(referral, target, now)
    case = session.get(Case, referral.case_id)
    touch(case, now)
    session.add_all([event, referral, case])
    session.flush()
    if via != "counsellor":
        _tell_counsellor(session, referral, case, target)
    return event


# What the counsellor is told when the partner (through its link) or the system moves a
# referral; {partner} is the partner's name, {reference} the case's.
_NOTICES = {
    S.ACCEPTED: "{partner} a accepté l'orientation (dossier {reference}).",
    S.DECLINED: "{partner} a refusé l'orientation (dossier {reference}) : voyez son motif.",
    S.IN_PROGRESS: "{partner} indique que l'accompagnement a commencé (dossier {reference}).",
    S.COMPLETED: "{partner} a indiqué l'issue de l'orientation (dossier {reference}).",
    S.EXPIRED: (
        "L'orientation vers {partner} est expirée, sans réponse après {days} jours "
        "(dossier {reference}) : renvoyez-la ou abandonnez-la."
    ),
}


def _tell_counsellor(session: Session, referral: Referral, case: Case, target: str) -> None:
    text = _NOTICES.get(S(target))
    if text is None:
        return
    partner = session.get(Partner, referral.partner_id)
    notify(
        session=session,
        operator_id=referral.operator_id,
        recipient_id=case_follower(case, referral.created_by_id),
        kind=NotificationKind.REFERRAL_EXPIRED
        if target == S.EXPIRED
        else NotificationKind.REFERRAL_ANSWERED,
        text=text.format(
            partner=partner.name,
            reference=case.reference,
            days=get_settings().referral_answer_days,
        ),
        link=f"/cases/{case.id}?section=orientations#ref-{referral.id}",
        case_id=case.id,
    )


def _stamp(referral: Referral, target: str, now: datetime) -> None:
    referral.status = target
    referral.updated_at = now
    if target == S.SENT:
        referral.sent_at = now
    if target in (S.ACCEPTED, S.DECLINED):
        referral.answered_at = now
    if target in FINAL:
        referral.closed_at = now
    # A change ends the partner's pending link, except while the partner reports progress:
    # the link to report the outcome stays valid until the outcome is in.
    if target != S.IN_PROGRESS:
        referral.link_nonce = None


def counsellor_targets(status: str) -> list[str]:
    """What a counsellor may move a referral to (expiry is the system's, never a person's)."""
    return [s.value for s in S if s in TRANSITIONS[S(status)] and s != S.EXPIRED]


# ---- proposing ----------------------------------------------------------------------------


@all_or_nothing
def propose_referral(
    *, session: Session, actor: StaffUser, case_id: int, data: ReferralCreate
) -> Referral:
    """Record a referral the person agreed to; sent at once when `data.send_now`."""
    case = get_case(session=session, actor=actor, case_id=case_id)
    if not case.is_open:
        raise Conflict(CLOSED_CASE)
    errors = _proposal_errors(session, actor, case, data)
    if errors:
        raise Invalid(errors)
    now = utcnow()
    agreement = _share_agreement(session, actor, case, data, now)
    referral = Referral(
        operator_id=case.operator_id,
        case_id=case.id,
        partner_id=data.partner_id,
        purpose=data.purpose,
        shared_information=data.shared_information,
        consent_at=agreement.at,
        follow_up_on=data.follow_up_on,
        created_by_id=actor.id,
        created_at=now,
        updated_at=now,
    )
    session.add(referral)
    session.flush()
    _record_creation(session, referral, actor, case, now)
    if data.send_now:
        send_referral(session=session, actor=actor, referral_id=referral.id)
    return referral


def _share_agreement(session, actor, case, data: ReferralCreate, now) -> ConsentRecord:
    """The person's agreement in force to share with the partner: the one recorded, or the one
    the counsellor records now (the box ticked)."""
    person = session.get(Beneficiary, case.beneficiary_id)
    agreement = share_consent(session=session, person=person, partner_id=data.partner_id)
    if agreement is not None:
        return agreement
    return record_consent(
        session=session,
        person=person,
        purpose=ConsentPurpose.PARTNER_SHARE,
        given=True,
        actor=actor,
        how=data.consent_how,
        now=now,
        partner_id=data.partner_id,
    )


def _record_creation(session, referral, actor, case, now) -> None:
    session.add(
        ReferralEvent(
            operator_id=referral.operator_id,
            referral_id=referral.id,
            to_status=S.PROPOSED.value,
            at=now,
            actor_id=actor.id,
            via="counsellor",
        )
    )
    touch(case, now)
    session.add(case)
    session.flush()


def _proposal_errors(session, actor, case, data: ReferralCreate) -> dict[str, str]:
    errors = {}
    partner = _partner_or_none(session, actor, data.partner_id)
    if partner is None:
        errors["partner_id"] = "Partenaire inconnu"
    elif not partner.active:
        errors["partner_id"] = "Ce partenaire n'est plus actif dans l'annuaire"
    elif data.send_now and not partner.email:
        errors["send_now"] = NO_EMAIL
    if partner is not None and not data.consent and not _agreed_to_share(session, case, partner.id):
        errors["consent"] = consent_required(partner.name)
    follow_up = _follow_up_error(data.follow_up_on, local_today(case_time_zone(session, case)))
    if follow_up:
        errors["follow_up_on"] = follow_up
    return errors


def _agreed_to_share(session, case: Case, partner_id: int) -> bool:
    person = session.get(Beneficiary, case.beneficiary_id)
    return share_consent(session=session, person=person, partner_id=partner_id) is not None


def _partner_or_none(session, actor, partner_id: int) -> Partner | None:
    try:
        return load_owned(session, Partner, partner_id, actor)
    except NotFound:
        return None


def _follow_up_error(day: date | None, today: date) -> str | None:
    if day is None:
        return None
    if day < today:
        return "La date de relance ne peut pas être passée"
    if day > today + timedelta(days=366):
        return "La date de relance doit tomber dans l'année qui vient"
    return None


# ---- counsellor actions -------------------------------------------------------------------


def get_referral(*, session: Session, actor: StaffUser, referral_id: int) -> Referral:
    return load_owned(session, Referral, referral_id, actor)


@all_or_nothing
def send_referral(*, session: Session, actor: StaffUser, referral_id: int) -> OutboxMessage:
    """E-mail the partner the referral and a single-use link to accept or decline it."""
    referral = get_referral(session=session, actor=actor, referral_id=referral_id)
    _case, partner = _case_for_sending(session, referral)
    if not partner.email:
        raise Conflict(NO_EMAIL)
    move(session, referral, S.SENT, actor=actor, via="counsellor", note="Envoyée par e-mail")
    return queue_request(session=session, referral=referral, partner=partner, counsellor=actor)


def mark_sent_manually(
    *, session: Session, actor: StaffUser, referral_id: int, note: str = ""
) -> Referral:
    """The counsellor sent the referral by telephone or post: recorded, no link involved."""
    referral = get_referral(session=session, actor=actor, referral_id=referral_id)
    _case_for_sending(session, referral)
    text = "Envoyée sans e-mail (téléphone, courrier…)" + (f" : {note}" if note else "")
    move(session, referral, S.SENT, actor=actor, via="counsellor", note=text)
    return referral


def _case_for_sending(session, referral) -> tuple[Case, Partner]:
    case = session.get(Case, referral.case_id)
    if not case.is_open:
        raise Conflict(CLOSED_CASE)
    if referral.status not in (S.PROPOSED, S.EXPIRED):
        raise Conflict(refusal(referral.status, S.SENT))
    partner = session.get(Partner, referral.partner_id)
    if not partner.active:
        raise Conflict("Ce partenaire n'est plus actif dans l'annuaire : orientez vers un autre.")
    if not _agreed_to_share(session, case, partner.id):
        # Withdrawn since the proposal: nothing about the person may reach the partner.
        raise Conflict(
            f"La personne a retiré son accord au partage de ses informations avec {partner.name} "
            ": l'orientation ne peut pas être transmise."
        )
    return case, partner


@all_or_nothing
def change_status(
    *, session: Session, actor: StaffUser, referral_id: int, data: ReferralTransition
) -> Referral:
    """A counsellor moves the referral (often on the partner's word, by telephone)."""
    referral = get_referral(session=session, actor=actor, referral_id=referral_id)
    target = data.to
    if target == S.SENT:
        return mark_sent_manually(
            session=session, actor=actor, referral_id=referral_id, note=data.note
        )
    if target == S.EXPIRED and target in TRANSITIONS[S(referral.status)]:
        days = get_settings().referral_answer_days
        raise Conflict(f"L'expiration est automatique, après {days} jours sans réponse.")
    record_answer(
        session,
        referral,
        target,
        actor=actor,
        via="counsellor",
        reason=data.reason,
        outcome=data.outcome,
        note=data.note,
    )
    return referral


def record_answer(
    session: Session,
    referral: Referral,
    target: str,
    *,
    actor: StaffUser | None,
    via: str,
    reason: str = "",
    outcome: ReferralOutcome | str | None = None,
    note: str = "",
) -> ReferralEvent:
    """Accept, decline, start, complete or abandon; a refusal needs its reason, an end its outcome."""
    if target not in TRANSITIONS[S(referral.status)]:  # before touching any field
        raise Conflict(refusal(referral.status, target))
    reason, note = reason.strip(), note.strip()
    if target == S.DECLINED:
        if not reason:
            raise Invalid({"reason": "Indiquez le motif du refus"})
        referral.decline_reason = note = reason
    if target == S.COMPLETED:
        referral.outcome = _outcome_code(outcome)
        referral.outcome_note = note
    return move(session, referral, target, actor=actor, via=via, note=note)


def _outcome_code(outcome) -> str:
    try:
        return ReferralOutcome(outcome).value
    except ValueError:
        raise Invalid({"outcome": "Indiquez l'issue de l'orientation"}) from None


# ---- expiry (the worker) ------------------------------------------------------------------


def expire_unanswered(*, session: Session, now: datetime | None = None) -> int:
    """Sent referrals left without an answer for `referral_answer_days` become expired."""
    now = now or utcnow()
    days = get_settings().referral_answer_days
    due = (
        select(Referral)
        .where(Referral.status == S.SENT, col(Referral.sent_at) <= now - timedelta(days=days))
        .order_by(col(Referral.id))
        # Rows a partner is answering right now are skipped; the next pass sees their new state.
        .with_for_update(skip_locked=True)
    )
    referrals = list(session.exec(due))
    for referral in referrals:
        move(
            session,
            referral,
            S.EXPIRED,
            actor=None,
            via="system",
            note=f"Sans réponse du partenaire après {days} jours",
            now=now,
        )
    return len(referrals)
