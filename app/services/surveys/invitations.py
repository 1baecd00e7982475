"""Sending the surveys: the end-of-level invitation when a level 1 or 2 episode ends, the
utility invitation scheduled `survey_utility_months` after the case's last level, and the
worker's pass that sends what is due and reminds once.

By e-mail, and by SMS to a mobile number not opted out (the worker writes the SMS: see
app/services/surveys/sms_texts.py); a person with neither is « non contactable ».

The person is asked only if they agreed to be (Beneficiary.survey_consent_at) and did not opt
out since; both are checked again whenever something is sent, so that an opt-out is honoured
at once, even by a survey scheduled months earlier."""

import calendar
import secrets
from datetime import datetime, timedelta

from markupsafe import escape
from sqlalchemy import exists, or_, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from app.core.config import get_settings
from app.core.dates import format_date
from app.core.security import create_link_token
from app.models.base import utcnow
from app.models.beneficiaries import Beneficiary
from app.models.cases import Case, Episode
from app.models.catalogue import ServiceUnit
from app.models.consents import ConsentPurpose
from app.models.operators import Operator
from app.models.surveys import SurveyInvitation as Invitation
from app.models.surveys import SurveyKind, SurveyResponse, SurveyStatus
from app.models.surveys import SurveyQuestionnaire as Questionnaire
from app.services.admin.operators import time_zone_of
from app.services.messaging.outbox import queue_email, queue_sms
from app.services.messaging.sms import may_get_sms, mobile_number
from app.services.privacy.consents import may_contact
from app.services.surveys import sms_texts
from app.services.surveys.links import answer_link, link_expires_at
from app.services.surveys.questionnaires import current_questionnaire

OPT_OUT_PURPOSE = "survey-opt-out"
OPT_OUT_LIFETIME = timedelta(days=365)
EMAIL = "email"
SMS = "sms"
# Invitations sent (and, apart, reminders) per worker pass: the rest wait for the next one.
BATCH = 100
SURVEYED_LEVELS = (1, 2)


# ---------- When an episode ends, or is cancelled ----------


def on_episode_ended(*, session: Session, episode: Episode, ask: bool = True) -> None:
    """In the transaction that ends `episode`: ask the person about the level it ends (unless
    `ask` is false) and schedule, or move, the case's utility survey. Nothing for a triage
    (level 0) episode, nor for a person who did not agree to be asked."""
    unit = session.get(ServiceUnit, episode.unit_id)
    if unit.level not in SURVEYED_LEVELS or episode.ended_at is None or episode.is_cancelled:
        return
    case = session.get(Case, episode.case_id)
    beneficiary = session.get(Beneficiary, case.beneficiary_id)
    if not beneficiary.may_be_surveyed:
        # Nothing is written: an end-of-level survey is sent now or never, and the reports
        # count only the people invited. A later agreement is taken up by the next end.
        return
    _lock(session, case)
    if ask:
        now = utcnow()
        invitation = _new_invitation(
            case, episode, SurveyKind.end_of_level(unit.level), unit.level, now
        )
        if _insert(session, invitation):
            _dispatch(session, invitation, now)
    schedule_utility(session=session, case=case, create=True)


def on_episode_cancelled(*, session: Session, episode: Episode) -> None:
    """An episode started by mistake counts nowhere: its surveys not sent are cancelled, and
    the utility survey follows the case's last level that remains (or is cancelled)."""
    case = session.get(Case, episode.case_id)
    _lock(session, case)
    session.exec(
        update(Invitation)
        .where(
            col(Invitation.episode_id) == episode.id,
            # The utility survey waiting on it moves to the level before, just below.
            col(Invitation.kind) != SurveyKind.UTILITY,
            col(Invitation.status).in_([SurveyStatus.SCHEDULED, SurveyStatus.UNREACHABLE]),
        )
        .values(status=SurveyStatus.CANCELLED.value)
        .execution_options(synchronize_session="fetch")
    )
    schedule_utility(session=session, case=case, create=False)


def schedule_utility(*, session: Session, case: Case, create: bool) -> Invitation | None:
    """Put the case's scheduled utility survey `survey_utility_months` after the end of its last
    level-2 episode, else of its last level-1 one; cancel it when no such episode is left.
    With `create`, schedule one when none is waiting (one already sent stays as it is: a new
    level ended since deserves its own). The caller holds the case's lock."""
    anchor, level = _utility_anchor(session, case)
    waiting = session.exec(
        select(Invitation)
        .where(
            Invitation.case_id == case.id,
            Invitation.kind == SurveyKind.UTILITY,
            Invitation.status == SurveyStatus.SCHEDULED,
        )
        .order_by(col(Invitation.id).desc())
    ).first()
    if anchor is None:
        if waiting is not None:
            waiting.status = SurveyStatus.CANCELLED.value
            session.add(waiting)
            session.flush()
        return None
    due_at = months_after(anchor.ended_at, get_settings().survey_utility_months)
    if waiting is not None and waiting.episode_id == anchor.id:
        waiting.due_at, waiting.level = due_at, level
        session.add(waiting)
        session.flush()
        return waiting
    if _asked(session, SurveyKind.UTILITY, anchor.id):
        # The last level already has its utility survey (sent, or not to be): keep that one.
        if waiting is not None:
            waiting.status = SurveyStatus.CANCELLED.value
            session.add(waiting)
            session.flush()
        return None
    if waiting is not None:
        waiting.episode_id, waiting.due_at, waiting.level = anchor.id, due_at, level
        waiting.site_id, waiting.counsellor_id = case.site_id, case.referent_id
        session.add(waiting)
        session.flush()
        return waiting
    if not create:
        return None
    invitation = _new_invitation(case, anchor, SurveyKind.UTILITY, level, due_at)
    return invitation if _insert(session, invitation) else None


def _utility_anchor(session: Session, case: Case) -> tuple[Episode | None, int]:
    rows = session.exec(
        select(Episode, ServiceUnit.level)
        .join(ServiceUnit, col(ServiceUnit.id) == Episode.unit_id)
        .where(
            Episode.case_id == case.id,
            col(Episode.ended_at).is_not(None),
            col(Episode.cancelled_at).is_(None),
            col(ServiceUnit.level).in_(SURVEYED_LEVELS),
        )
    ).all()
    if not rows:
        return None, 0
    level = max(lvl for _, lvl in rows)
    anchor = max((e for e, lvl in rows if lvl == level), key=lambda e: (e.ended_at, e.id))
    return anchor, level


def _level_running(session: Session, case_id: int) -> bool:
    running = (
        select(Episode.id)
        .join(ServiceUnit, col(ServiceUnit.id) == Episode.unit_id)
        .where(
            Episode.case_id == case_id,
            col(Episode.ended_at).is_(None),
            col(Episode.cancelled_at).is_(None),
            col(ServiceUnit.level).in_(SURVEYED_LEVELS),
        )
    )
    return session.exec(running.limit(1)).first() is not None


def months_after(moment: datetime, months: int) -> datetime:
    """The same day and time `months` later; the month's last day when it is shorter
    (31 August + 6 months = 28 or 29 February)."""
    index = moment.month - 1 + months
    year, month = moment.year + index // 12, index % 12 + 1
    return moment.replace(
        year=year, month=month, day=min(moment.day, calendar.monthrange(year, month)[1])
    )


def _lock(session: Session, case: Case) -> None:
    # PostgreSQL only (SQLite already serialises writers): two episodes of one case ending at
    # once must not schedule two utility surveys.
    session.exec(select(Case.id).where(Case.id == case.id).with_for_update()).one()


def _new_invitation(
    case: Case, episode: Episode, kind: SurveyKind, level: int, due_at: datetime
) -> Invitation:
    return Invitation(
        operator_id=case.operator_id,
        case_id=case.id,
        beneficiary_id=case.beneficiary_id,
        episode_id=episode.id,
        kind=kind.value,
        level=level,
        site_id=case.site_id,
        counsellor_id=case.referent_id,
        due_at=due_at,
    )


def _insert(session: Session, invitation: Invitation) -> bool:
    """Write the invitation unless the episode has one of its kind already (perhaps written
    by a concurrent request a moment ago: the unique constraint decides)."""
    try:
        with session.begin_nested():
            session.add(invitation)
    except IntegrityError:
        return False
    return True


def _asked(session: Session, kind: SurveyKind, episode_id: int) -> bool:
    return (
        session.exec(
            select(Invitation.id).where(
                Invitation.kind == kind, Invitation.episode_id == episode_id
            )
        ).first()
        is not None
    )


# ---------- The worker's pass ----------


def send_due_surveys(*, session: Session, now: datetime | None = None) -> int:
    """Send the scheduled invitations now due, then remind once those sent
    `survey_reminder_days` ago and still unanswered; returns how many messages were queued.
    Each is claimed by a conditional UPDATE, so that two workers never send one twice."""
    now = now or utcnow()
    queued = 0
    due = (
        select(Invitation.id)
        .where(Invitation.status == SurveyStatus.SCHEDULED, col(Invitation.due_at) <= now)
        .order_by(col(Invitation.due_at), col(Invitation.id))
        .limit(BATCH)
    )
    for invitation_id in list(session.exec(due)):
        invitation = session.get(Invitation, invitation_id)
        if _dispatch(session, invitation, now):
            queued += 1
    for invitation_id in list(session.exec(_reminders_due(now))):
        if _remind(session, invitation_id, now):
            queued += 1
    return queued


def _reminders_due(now: datetime):
    settings = get_settings()
    answered = exists().where(
        col(SurveyResponse.invitation_id) == Invitation.id,
        col(SurveyResponse.submitted_at).is_not(None),
    )
    return (
        select(Invitation.id)
        .join(Beneficiary, col(Beneficiary.id) == Invitation.beneficiary_id)
        .where(
            Invitation.status == SurveyStatus.SENT,
            col(Invitation.reminded_at).is_(None),
            col(Invitation.answered_at).is_(None),
            col(Invitation.link_nonce).is_not(None),
            col(Invitation.sent_at) <= now - timedelta(days=settings.survey_reminder_days),
            # A day left at least to answer: no reminder for a link about to expire.
            col(Invitation.sent_at) > now - timedelta(days=settings.survey_link_days - 1),
            ~answered,
            # Beneficiary.may_be_surveyed, with an address or a number to write to (in SQL,
            # so that those who may not be asked never fill the batch).
            or_(col(Beneficiary.email).is_not(None), col(Beneficiary.phone).is_not(None)),
            col(Beneficiary.survey_consent_at).is_not(None),
            or_(
                col(Beneficiary.survey_opt_out_at).is_(None),
                col(Beneficiary.survey_opt_out_at) < col(Beneficiary.survey_consent_at),
            ),
        )
        .order_by(col(Invitation.sent_at), col(Invitation.id))
        .limit(BATCH)
    )


def _dispatch(session: Session, invitation: Invitation, now: datetime) -> bool:
    """Send a scheduled invitation, or record why it cannot be; True when an e-mail is queued."""
    beneficiary = session.get(Beneficiary, invitation.beneficiary_id)
    values: dict = {}
    if invitation.kind == SurveyKind.UTILITY and _level_running(session, invitation.case_id):
        # Back in support before six months passed: ask after this level instead (its end
        # moves the survey); meanwhile look again the next day.
        values["due_at"] = now + timedelta(days=1)
    elif not beneficiary.may_be_surveyed:
        opted_out = beneficiary.survey_opt_out_at is not None
        values["status"] = (SurveyStatus.OPTED_OUT if opted_out else SurveyStatus.CANCELLED).value
    elif not (_email_to(session, beneficiary) or _sms_to(session, beneficiary)):
        # An address or a mobile the person no longer wants written to: as good as an opt-out.
        reachable = beneficiary.email or _sms_number(beneficiary)
        values["status"] = (SurveyStatus.OPTED_OUT if reachable else SurveyStatus.UNREACHABLE).value
    else:
        questionnaire = current_questionnaire(
            session=session, operator_id=invitation.operator_id, kind=SurveyKind(invitation.kind)
        )
        values = {
            "status": SurveyStatus.SENT.value,
            "sent_at": now,
            "channel": EMAIL if _email_to(session, beneficiary) else SMS,
            "questionnaire_id": questionnaire.id,
            "link_nonce": secrets.token_urlsafe(24),
        }
    claimed = session.exec(
        update(Invitation)
        .where(
            col(Invitation.id) == invitation.id,
            col(Invitation.status) == SurveyStatus.SCHEDULED,
        )
        .values(**values)
        .execution_options(synchronize_session=False)
    ).rowcount
    if claimed != 1:
        return False  # another worker's pass took it
    session.refresh(invitation)
    if invitation.status != SurveyStatus.SENT:
        return False
    _queue(session, invitation, beneficiary, now, reminder=False)
    return True


def _remind(session: Session, invitation_id: int, now: datetime) -> bool:
    claimed = session.exec(
        update(Invitation)
        .where(
            col(Invitation.id) == invitation_id,
            col(Invitation.status) == SurveyStatus.SENT,
            col(Invitation.reminded_at).is_(None),
        )
        .values(reminded_at=now)
        .execution_options(synchronize_session=False)
    ).rowcount
    if claimed != 1:
        return False
    invitation = session.get(Invitation, invitation_id)
    session.refresh(invitation)
    _queue(
        session,
        invitation,
        session.get(Beneficiary, invitation.beneficiary_id),
        now,
        reminder=True,
    )
    return True


# ---------- The message ----------


def opt_out_link(invitation: Invitation) -> str:
    token = create_link_token(
        purpose=OPT_OUT_PURPOSE, subject_id=invitation.id, lifetime=OPT_OUT_LIFETIME
    )
    return f"{_base_url()}/enquete/desinscription/{token}"


def _base_url() -> str:
    return get_settings().public_base_url.rstrip("/")


def _queue(
    session: Session,
    invitation: Invitation,
    beneficiary: Beneficiary,
    now: datetime,
    *,
    reminder: bool,
) -> None:
    # The version the link asks (fixed when it was sent), not a newer one.
    questionnaire = session.get(Questionnaire, invitation.questionnaire_id)
    operator = session.get(Operator, invitation.operator_id)
    time_zone = time_zone_of(
        session=session, operator_id=invitation.operator_id, site_id=invitation.site_id
    )
    answer, opt_out = answer_link(invitation, now), opt_out_link(invitation)
    expires = format_date(link_expires_at(invitation), time_zone)
    lead = (
        "Il y a quelques jours, nous vous avons demandé votre avis. Si vous ne l'avez pas "
        "encore donné, il est encore temps."
        if reminder
        else questionnaire.intro
    )
    subject = f"Rappel : {questionnaire.title}" if reminder else questionnaire.title
    greeting = f"Bonjour {beneficiary.first_name} {beneficiary.last_name},"
    closing = (
        "Répondre est facultatif ; vos réponses ne sont pas transmises à votre conseiller·ère."
    )
    signature = f"{operator.name} — conseil en évolution professionnelle"
    text = (
        f"{greeting}\n\n"
        f"{lead}\n\n"
        "Pour répondre (deux minutes au plus) :\n"
        f"{answer}\n\n"
        f"Ce lien vous est personnel ; il est valable jusqu'au {expires}. {closing}\n\n"
        "Pour ne plus recevoir d'enquête de notre part :\n"
        f"{opt_out}\n\n"
        f"{signature}\n"
    )
    html = (
        '<!DOCTYPE html><html lang="fr"><body>'
        f"<p>{escape(greeting)}</p>"
        f"<p>{escape(lead)}</p>"
        f'<p><a href="{escape(answer)}">Donner mon avis</a> (deux minutes au plus)</p>'
        f"<p>Ce lien vous est personnel ; il est valable jusqu'au {escape(expires)}. "
        f"{escape(closing)}</p>"
        f'<p><a href="{escape(opt_out)}">Ne plus recevoir d\'enquête de notre part</a></p>'
        f"<p>{escape(signature)}</p>"
        "</body></html>"
    )
    if email := _email_to(session, beneficiary):
        queue_email(
            session=session,
            recipient=email,
            subject=subject,
            text=text,
            html=html,
            operator_id=invitation.operator_id,
            case_id=invitation.case_id,
        )
    _queue_sms(session, invitation, beneficiary, reminder=reminder)


def _sms_number(beneficiary: Beneficiary) -> str | None:
    """The mobile number an SMS may go to (None for a landline or after a STOP)."""
    return mobile_number(beneficiary.phone) if may_get_sms(beneficiary) else None


def _email_to(session: Session, beneficiary: Beneficiary) -> str | None:
    """The address a survey e-mail may go to: none, or one the person withdrew from e-mails."""
    allowed = may_contact(session=session, person=beneficiary, purpose=ConsentPurpose.EMAIL)
    return beneficiary.email if beneficiary.email and allowed else None


def _sms_to(session: Session, beneficiary: Beneficiary) -> str | None:
    """The mobile a survey SMS may go to, the person's consent to SMS not withdrawn."""
    number = _sms_number(beneficiary)
    allowed = may_contact(session=session, person=beneficiary, purpose=ConsentPurpose.SMS)
    return number if number and allowed else None


def _queue_sms(
    session: Session, invitation: Invitation, beneficiary: Beneficiary, *, reminder: bool
) -> None:
    number = _sms_to(session, beneficiary)
    if number is None:
        return
    template = sms_texts.REMINDER if reminder else sms_texts.INVITATION
    queue_sms(
        session=session,
        recipient=number,
        template=template,
        payload={"invitation_id": invitation.id},
        subject=sms_texts.SUBJECTS[template],
        operator_id=invitation.operator_id,
        case_id=invitation.case_id,
    )
