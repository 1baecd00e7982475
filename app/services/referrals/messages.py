"""The e-mails a partner receives about a referral, and the signed single-use links in them.

They carry the purpose and the information the person agreed to share — never anything else
from the case."""

import re
import secrets
from datetime import timedelta

from sqlmodel import Session

from app.core.config import get_settings
from app.core.dates import format_date
from app.core.security import create_link_token
from app.models.cases import Case
from app.models.operators import Operator
from app.models.outbox import OutboxMessage
from app.models.partners import Partner, Referral
from app.models.staff import StaffUser
from app.services.cases.lifecycle import case_time_zone
from app.services.messaging.outbox import queue_email

LINK_PURPOSE = "referral"
# The partner may report the outcome of a long accompaniment (a VAE takes months).
OUTCOME_LINK_DAYS = 365
SUBJECT_START = "Orientation n° "
_SUBJECT = re.compile(rf"^{SUBJECT_START}(\d+) — ")


def partner_link(session: Session, referral: Referral, *, lifetime: timedelta) -> str:
    """A new single-use link for the partner; any earlier one stops working."""
    referral.link_nonce = secrets.token_urlsafe(24)
    session.add(referral)
    session.flush()
    token = create_link_token(
        purpose=LINK_PURPOSE, subject_id=referral.id, lifetime=lifetime, nonce=referral.link_nonce
    )
    return f"{get_settings().public_base_url.rstrip('/')}/partenaire/orientations/{token}"


def subject_prefix(referral: Referral) -> str:
    """Every e-mail about a referral starts so; the case page finds its last message by it
    (an outbox row has no referral column)."""
    return f"{SUBJECT_START}{referral.id} — "


def referral_id_in_subject(subject: str) -> int | None:
    match = _SUBJECT.match(subject)
    return int(match.group(1)) if match else None


def queue_request(
    *, session: Session, referral: Referral, partner: Partner, counsellor: StaffUser
) -> OutboxMessage:
    """The referral itself, with a link to accept or decline that lasts the answer period."""
    days = get_settings().referral_answer_days
    link = partner_link(session, referral, lifetime=timedelta(days=days + 1))
    case = session.get(Case, referral.case_id)
    deadline = format_date(referral.sent_at + timedelta(days=days), case_time_zone(session, case))
    operator = session.get(Operator, referral.operator_id)
    greeting = f"Bonjour {partner.contact_name}," if partner.contact_name else "Bonjour,"
    text = (
        f"{greeting}\n\n"
        f"{counsellor.full_name}, conseiller·ère en évolution professionnelle chez "
        f"{operator.name}, vous oriente une personne accompagnée dans le cadre du conseil en "
        "évolution professionnelle (CEP).\n\n"
        f"Objet de l'orientation :\n{referral.purpose}\n\n"
        "Informations transmises avec l'accord de la personne :\n"
        f"{referral.shared_information or '(aucune information transmise)'}\n\n"
        "Pour accepter ou refuser cette orientation (sans créer de compte) :\n"
        f"{link}\n\n"
        f"Merci de répondre avant le {deadline} ; sans réponse, l'orientation sera close. "
        "Ce lien ne sert qu'une fois.\n" + _contact(counsellor)
    )
    subject = f"{subject_prefix(referral)}{operator.name} : merci de nous répondre"
    return _queue(session, referral, partner, subject, text)


def queue_outcome_request(
    *, session: Session, referral: Referral, partner: Partner, counsellor: StaffUser | None
) -> OutboxMessage:
    """After an acceptance: a fresh link to say the accompaniment started, then how it ended."""
    link = partner_link(session, referral, lifetime=timedelta(days=OUTCOME_LINK_DAYS))
    operator = session.get(Operator, referral.operator_id)
    text = (
        "Bonjour,\n\n"
        f"Merci d'avoir accepté l'orientation proposée par {operator.name}.\n\n"
        f"Objet de l'orientation :\n{referral.purpose}\n\n"
        "Lorsque l'accompagnement aura commencé, puis lorsqu'il sera terminé, indiquez-le "
        "ici (sans créer de compte) :\n"
        f"{link}\n\n"
        f"Ce lien reste valable {OUTCOME_LINK_DAYS} jours, jusqu'à ce que l'issue soit "
        "indiquée.\n" + _contact(counsellor)
    )
    subject = f"{subject_prefix(referral)}{operator.name} : issue de l'orientation"
    return _queue(session, referral, partner, subject, text)


def _contact(counsellor: StaffUser | None) -> str:
    if counsellor is None:
        return ""
    return f"Pour toute question : {counsellor.full_name}, {counsellor.email}.\n"


def _queue(session, referral, partner, subject, text) -> OutboxMessage:
    return queue_email(
        session=session,
        recipient=partner.email,
        subject=subject,
        text=text,
        operator_id=referral.operator_id,
        case_id=referral.case_id,
    )
