"""Demo surveys (issue 17): most people agreed to be asked; each level that ended has the
invitation the app sends, and each case its utility survey six months after its last level.
Some were answered (at the market's rates), others reminded; two people gave only a phone
(« non contactable »), one opted out, and the recent cases' utility surveys are still to come.

Written as the app's sending would have left them, whether or not it already wrote them when
the demo's episodes ended (the same rows are completed, never doubled)."""

import random
import secrets
from datetime import datetime, timedelta

from sqlmodel import Session, col, func, select

from app.core.config import get_settings
from app.demo.survey_answers import RESPONSE_RATE, AnswerDrawer, answer_delay
from app.models.beneficiaries import Beneficiary
from app.models.cases import Case, Episode
from app.models.catalogue import ServiceUnit
from app.models.consents import ConsentChannel, ConsentPurpose
from app.models.fields import search_key
from app.models.surveys import SurveyInvitation as Invitation
from app.models.surveys import SurveyKind, SurveyResponse, SurveyStatus
from app.services.privacy.consents import record_consent, withdraw
from app.services.surveys.invitations import months_after
from app.services.surveys.questionnaires import current_questionnaire

SURVEY_CONSENT = 0.85  # people who agree to be asked for their opinion
# The closed cases (in the order the demo tells them) whose person gave only a phone.
PHONE_ONLY = (1, 8)
EMAIL = "email"


def ask_for_surveys(session: Session, rng: random.Random, person: Beneficiary) -> None:
    """Most people agree to be asked (recorded at first contact, like their consent)."""
    if rng.random() < SURVEY_CONSENT:
        _agree_to_surveys(session, person)


def _agree_to_surveys(session: Session, person: Beneficiary) -> None:
    record_consent(
        session=session,
        person=person,
        purpose=ConsentPurpose.SURVEYS,
        given=True,
        actor=None,
        how=ConsentChannel.INTERVIEW,
        now=person.created_at,
    )


def give_only_a_phone(session: Session, person: Beneficiary) -> None:
    """Someone who agreed to be asked but has no e-mail: no survey can reach them (no SMS)."""
    person.email = None
    if person.survey_consent_at is None:
        _agree_to_surveys(session, person)
    digits = (person.phone or "").replace("+33", "0")
    person.search_text = search_key(person.first_name, person.last_name, None, person.phone, digits)[:600]  # fmt: skip
    session.add(person)
    session.flush()


def seed_surveys(*, session: Session, operator_id: int, rng: random.Random, now: datetime) -> None:
    """The operator's invitations and answers, from its episodes as the demo left them."""
    settings = get_settings()
    rows = session.exec(
        select(Episode, ServiceUnit.level, Case, Beneficiary)
        .join(ServiceUnit, col(ServiceUnit.id) == Episode.unit_id)
        .join(Case, col(Case.id) == Episode.case_id)
        .join(Beneficiary, col(Beneficiary.id) == Case.beneficiary_id)
        .where(
            Episode.operator_id == operator_id,
            col(Episode.ended_at).is_not(None),
            col(Episode.cancelled_at).is_(None),
            col(ServiceUnit.level).in_((1, 2)),
            col(Beneficiary.survey_consent_at).is_not(None),
        )
        .order_by(col(Episode.ended_at), col(Episode.id))
    ).all()
    writer = _Writer(session, operator_id, rng, now, settings)
    anchors: dict[int, tuple] = {}  # case id → (level, episode, case, person)
    for episode, level, case, person in rows:
        writer.write(case, person, episode, SurveyKind.end_of_level(level), level, episode.ended_at)  # fmt: skip
        if level >= anchors.get(case.id, (0,))[0]:
            anchors[case.id] = (level, episode, case, person)
    running = dict(
        session.exec(
            select(Episode.case_id, func.min(Episode.started_at))
            .join(ServiceUnit, col(ServiceUnit.id) == Episode.unit_id)
            .where(
                Episode.operator_id == operator_id,
                col(Episode.ended_at).is_(None),
                col(Episode.cancelled_at).is_(None),
                col(ServiceUnit.level).in_((1, 2)),
            )
            .group_by(Episode.case_id)
        ).all()
    )
    for level, episode, case, person in anchors.values():
        due = months_after(episode.ended_at, settings.survey_utility_months)
        back = running.get(case.id)
        if back is not None and back < due <= now:
            due = now + timedelta(days=1)  # back in a level: the worker looks again tomorrow
        writer.write(case, person, episode, SurveyKind.UTILITY, level, due)
    writer.finish()


class _Writer:
    def __init__(self, session: Session, operator_id: int, rng, now: datetime, settings):
        self.session, self.operator_id, self.rng, self.now = session, operator_id, rng, now
        self.reminder = timedelta(days=settings.survey_reminder_days)
        self.delays = {"reminder_days": settings.survey_reminder_days, "link_days": settings.survey_link_days}  # fmt: skip
        self.questionnaires = {
            kind: current_questionnaire(session=session, operator_id=operator_id, kind=kind)
            for kind in SurveyKind
        }
        self.drawers = {
            kind: AnswerDrawer(kind.value, q.questions) for kind, q in self.questionnaires.items()
        }
        self.written: list[tuple[Invitation, Beneficiary]] = []

    def write(self, case, person, episode, kind: SurveyKind, level: int, due: datetime) -> None:
        rng, now = self.rng, self.now
        invitation = self.session.exec(
            select(Invitation).where(Invitation.kind == kind, Invitation.episode_id == episode.id)
        ).first() or Invitation(
            operator_id=self.operator_id, case_id=case.id, beneficiary_id=person.id,
            episode_id=episode.id, kind=kind.value, level=level, site_id=case.site_id,
            counsellor_id=case.referent_id, due_at=due,
        )  # fmt: skip
        invitation.level, invitation.due_at, invitation.created_at = level, due, episode.ended_at
        invitation.status, invitation.channel, invitation.questionnaire_id = SurveyStatus.SCHEDULED.value, "", None  # fmt: skip
        invitation.sent_at = invitation.reminded_at = invitation.answered_at = None
        answered = None
        if due > now:
            invitation.link_nonce = None
        elif not person.email:
            invitation.status, invitation.link_nonce = SurveyStatus.UNREACHABLE.value, None
        else:
            sent = due + timedelta(minutes=rng.randint(1, 15)) if kind == SurveyKind.UTILITY else due  # fmt: skip
            invitation.status, invitation.sent_at, invitation.channel = SurveyStatus.SENT.value, sent, EMAIL  # fmt: skip
            invitation.questionnaire_id = self.questionnaires[kind].id
            # A link the app already e-mailed keeps working.
            invitation.link_nonce = invitation.link_nonce or secrets.token_urlsafe(24)
            if rng.random() < RESPONSE_RATE[kind.value]:
                at = sent + answer_delay(rng, **self.delays)
                answered = at if at < now else None
            reminder = sent + self.reminder + timedelta(minutes=rng.randint(1, 15))
            if reminder < now and (answered is None or answered > reminder):
                invitation.reminded_at = reminder
        self.session.add(invitation)
        self.session.flush()
        if answered is not None:
            self.answer(invitation, answered)
        self.written.append((invitation, person))

    def answer(self, invitation: Invitation, at: datetime) -> None:
        kind = SurveyKind(invitation.kind)
        drawn = self.drawers[kind].draw(self.rng, invitation.level)
        invitation.status, invitation.answered_at, invitation.link_nonce = SurveyStatus.ANSWERED.value, at, None  # fmt: skip
        if invitation.reminded_at is not None and invitation.reminded_at > at:
            invitation.reminded_at = None  # answered first: never reminded
        invitation.positive = drawn.useful if kind == SurveyKind.UTILITY else drawn.satisfied
        self.session.add(invitation)
        self.session.add(
            SurveyResponse(
                operator_id=self.operator_id, invitation_id=invitation.id,
                questionnaire_id=invitation.questionnaire_id, answers=drawn.answers,
                comment=drawn.comment, satisfied=drawn.satisfied, useful=drawn.useful,
                started_at=at - timedelta(minutes=4), updated_at=at, submitted_at=at,
            )
        )  # fmt: skip

    def finish(self) -> None:
        """Something to read in every table of the results, and one person who opted out."""
        sent = sorted(
            ((i, p) for i, p in self.written if i.status == SurveyStatus.SENT),
            key=lambda pair: pair[0].sent_at,
        )
        for kind in SurveyKind:
            statuses = {i.status for i, _ in self.written if i.kind == kind}
            waiting = [i for i, _ in sent if i.kind == kind and i.status == SurveyStatus.SENT]
            if SurveyStatus.ANSWERED not in statuses and waiting:
                self.answer(waiting[0], waiting[0].sent_at + timedelta(hours=20))
        # The person's last survey, sent some days ago and unanswered: they followed its
        # opt-out link.
        last = {}
        for invitation, person in self.written:
            if invitation.sent_at is not None:
                last[person.id] = max(last.get(person.id, invitation.sent_at), invitation.sent_at)
        for invitation, person in reversed(sent):
            left = invitation.sent_at + timedelta(days=2)
            if invitation.status == SurveyStatus.SENT and last[person.id] == invitation.sent_at and left < self.now:  # fmt: skip
                self.opt_out(person, left)
                break
        self.session.flush()

    def opt_out(self, person: Beneficiary, at: datetime) -> None:
        """As the opt-out link does: no more agreement, and every survey of theirs still to
        come or to answer is closed."""
        withdraw(
            session=self.session,
            person=person,
            purpose=ConsentPurpose.SURVEYS,
            actor=None,
            now=at,
            how=ConsentChannel.SURVEY_LINK,
        )
        for invitation, owner in self.written:
            if owner.id == person.id and invitation.status in (SurveyStatus.SCHEDULED, SurveyStatus.SENT):  # fmt: skip
                invitation.status, invitation.link_nonce = SurveyStatus.OPTED_OUT.value, None
                if invitation.reminded_at is not None and invitation.reminded_at > at:
                    invitation.reminded_at = None
                self.session.add(invitation)
