"""The beneficiary's side of a survey: the signed link opens the questionnaire version the
invitation asks, answers are saved as they are given and submitted once; the opt-out link
stops every survey still to come for that person.

No account: the link is the key. It is purpose-bound and expiring (app/core/security.py),
carries the invitation's nonce, which submission forgets (single use), and names one
invitation, whose operator bounds everything read or written."""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import update
from sqlmodel import Session, col, select

from app.core.db import all_or_nothing
from app.core.errors import Invalid, NotFound
from app.core.security import InvalidToken, create_link_token, read_link_claims, tokens_match
from app.models.base import utcnow
from app.models.beneficiaries import Beneficiary
from app.models.consents import ConsentChannel, ConsentPurpose
from app.models.operators import Operator
from app.models.surveys import (
    Measure,
    Question,
    QuestionType,
    SurveyInvitation,
    SurveyKind,
    SurveyQuestionnaire,
    SurveyResponse,
    SurveyStatus,
)
from app.services.access.rate_limits import check_rate, rate_limit_target
from app.services.access.scope import get_owned
from app.services.privacy.consents import withdraw

LINK_PURPOSE = "survey"
OPT_OUT_PURPOSE = "survey-opt-out"
# Each answer form or opt-out sent counts against the client's address (FILROUGE_PUBLIC_RATE_LIMIT).
ANSWER_BUCKET = "survey_answers"
OPT_OUT_BUCKET = "survey_opt_out"
# A free answer is text, never longer than this.
MAX_TEXT = 2000
# How a question's answer is named in the form: « q-satisfaction ».
FIELD_PREFIX = "q-"
# The other fields the answer form carries.
FORM_CONTROLS = {"csrf_token", "action"}
_STILL_TO_COME = (SurveyStatus.SCHEDULED.value, SurveyStatus.SENT.value)


class SurveyLinkInvalid(NotFound):
    """Tampered with, expired, or naming nothing: one message for all, nothing more said."""

    default_message = (
        "Ce lien n'est pas valable ou a expiré. Si vous souhaitez donner votre avis, "
        "contactez le service qui vous a accompagné·e."
    )


class SurveyLinkWithdrawn(SurveyLinkInvalid):
    """The survey was cancelled, the person opted out, or a newer link replaced this one."""

    status_code = 410
    default_message = (
        "Ce questionnaire n'est plus ouvert. Merci de l'attention que vous lui avez portée."
    )


class AlreadyAnswered(Exception):
    """The answers were submitted already (perhaps a moment ago, by a second click)."""

    def __init__(self, operator: Operator):
        super().__init__(operator.name)
        self.operator = operator


class AnswersInvalid(Invalid):
    """Answers that do not fit the questionnaire; `answers` holds what was typed, to show again."""

    def __init__(self, fields: dict[str, str], answers: dict):
        super().__init__(fields)
        self.answers = answers


@dataclass
class OpenSurvey:
    """What the answer page shows: the version asked, and the answers saved so far."""

    invitation: SurveyInvitation
    questionnaire: SurveyQuestionnaire
    questions: list[Question]
    operator: Operator
    answers: dict = field(default_factory=dict)
    saved_at: datetime | None = None


@dataclass
class OptOut:
    operator: Operator
    opted_out: bool


def _operator(session: Session, operator_id: int) -> Operator:
    return session.get(Operator, operator_id)


def _claims(token: str, purpose: str) -> tuple[int, str | None]:
    try:
        return read_link_claims(token, purpose=purpose)
    except InvalidToken as exc:
        raise SurveyLinkInvalid() from exc


def _invitation(session: Session, token: str, *, lock: bool) -> SurveyInvitation:
    """The invitation the link names, checked; locked (until the request ends) to write it."""
    invitation_id, nonce = _claims(token, LINK_PURPOSE)
    # populate_existing: under the lock, read the row as the last commit left it.
    invitation = session.get(
        SurveyInvitation, invitation_id, with_for_update=lock, populate_existing=lock
    )
    if invitation is None:
        raise SurveyLinkInvalid()
    if invitation.status == SurveyStatus.ANSWERED:
        raise AlreadyAnswered(_operator(session, invitation.operator_id))
    if invitation.status != SurveyStatus.SENT or invitation.questionnaire_id is None:
        raise SurveyLinkWithdrawn()
    if not tokens_match(invitation.link_nonce, nonce):
        raise SurveyLinkWithdrawn()
    return invitation


def _questionnaire(session: Session, invitation: SurveyInvitation) -> SurveyQuestionnaire:
    # Tenant-bound: a version of another operator's is never shown, whatever the row says.
    questionnaire = get_owned(
        session, SurveyQuestionnaire, invitation.questionnaire_id, invitation.operator_id
    )
    if questionnaire is None:
        raise SurveyLinkInvalid()
    return questionnaire


def _response(session: Session, invitation: SurveyInvitation) -> SurveyResponse | None:
    return session.exec(
        select(SurveyResponse).where(SurveyResponse.invitation_id == invitation.id)
    ).first()


def open_survey(*, session: Session, token: str) -> OpenSurvey:
    """The questionnaire a link opens, with the answers saved so far; SurveyLinkInvalid (404),
    SurveyLinkWithdrawn (410) or AlreadyAnswered otherwise."""
    invitation = _invitation(session, token, lock=True)
    questionnaire = _questionnaire(session, invitation)
    saved = _response(session, invitation)
    return OpenSurvey(
        invitation=invitation,
        questionnaire=questionnaire,
        questions=questionnaire.parsed_questions(),
        operator=_operator(session, invitation.operator_id),
        answers=dict(saved.answers) if saved is not None else {},
        saved_at=saved.updated_at if saved is not None else None,
    )


def read_answers(questions: Sequence[Question], form: Mapping[str, Sequence[str]]) -> dict:
    """The answers a form gives, {key: value, [values] or text}; unanswered questions are left
    out. AnswersInvalid for a field that is no question, an option that is not offered, two
    answers to a one-answer question or a text longer than MAX_TEXT."""
    by_field = {f"{FIELD_PREFIX}{q.key}": q for q in questions}
    errors: dict[str, str] = {}
    answers: dict = {}
    unknown = [name for name in form if name not in by_field and name not in FORM_CONTROLS]
    if unknown:
        errors["__all__"] = "Ce formulaire contient une réponse à une question qui n'existe pas."
    for name, question in by_field.items():
        given = [value.replace("\x00", "") for value in form.get(name, ())]
        problem, answer = _one_answer(question, given)
        if answer not in (None, "", []):
            answers[question.key] = answer
        if problem:
            errors[name] = problem
    if errors:
        raise AnswersInvalid(errors, answers)
    return answers


def _one_answer(question: Question, given: list[str]) -> tuple[str | None, object]:
    offered = {option.value for option in question.options}
    if question.type == QuestionType.TEXT:
        text = "\n".join(given).strip()
        if len(text) > MAX_TEXT:
            return f"Votre réponse dépasse {MAX_TEXT} caractères : raccourcissez-la.", text
        return None, text
    chosen = [value for value in given if value != ""]
    if any(value not in offered for value in chosen):
        return "Cette réponse ne fait pas partie des choix proposés.", None
    if question.type == QuestionType.MULTI:
        return None, [option.value for option in question.options if option.value in chosen]
    if len(chosen) > 1:
        return "Choisissez une seule réponse.", None
    return None, chosen[0] if chosen else None


def _missing(questions: Sequence[Question], answers: dict) -> dict[str, str]:
    return {
        f"{FIELD_PREFIX}{q.key}": "Répondez à cette question pour envoyer vos réponses."
        for q in questions
        if q.required and answers.get(q.key) in (None, "", [])
    }


def _measure(questions: Sequence[Question], answers: dict, measure: Measure) -> bool | None:
    """Whether the answer to the question that gives `measure` is a positive one."""
    for question in questions:
        if question.measure == measure and question.key in answers:
            given = answers[question.key]
            chosen = given if isinstance(given, list) else [given]
            return any(value in question.positive for value in chosen)
    return None


def save_answers(
    *,
    session: Session,
    token: str,
    form: Mapping[str, Sequence[str]],
    ip: str | None,
    submit: bool,
    now: datetime | None = None,
) -> OpenSurvey:
    """« Enregistrer et finir plus tard » (submit=False) keeps the answers as given; « Envoyer
    mes réponses » (submit=True) checks the required ones, works out `satisfied` / `useful`,
    copies the free text to `comment` and closes the invitation — once: the invitation is
    locked first, so that a second submission, even at the same instant, finds it answered
    (AlreadyAnswered). Counts against the client's rate limit first (TooManyAttempts)."""
    # Before anything else: on a connection of its own, so that a refused request counts too.
    check_rate(session_or_engine=rate_limit_target(session), bucket=ANSWER_BUCKET, keys=[ip])
    return _save(session=session, token=token, form=form, submit=submit, now=now or utcnow())


@all_or_nothing
def _save(
    *,
    session: Session,
    token: str,
    form: Mapping[str, Sequence[str]],
    submit: bool,
    now: datetime,
) -> OpenSurvey:
    invitation = _invitation(session, token, lock=True)
    questionnaire = _questionnaire(session, invitation)
    questions = questionnaire.parsed_questions()
    answers = read_answers(questions, form)
    if submit and (missing := _missing(questions, answers)):
        raise AnswersInvalid(missing, answers)
    response = _response(session, invitation) or SurveyResponse(
        operator_id=invitation.operator_id,
        invitation_id=invitation.id,
        questionnaire_id=questionnaire.id,
        started_at=now,
    )
    response.questionnaire_id = questionnaire.id
    response.answers = answers
    response.updated_at = now
    if submit:
        response.satisfied = _measure(questions, answers, Measure.SATISFACTION)
        response.useful = _measure(questions, answers, Measure.UTILITY)
        response.comment = "\n\n".join(
            answers[q.key] for q in questions if q.type == QuestionType.TEXT and q.key in answers
        )
        response.submitted_at = now
        invitation.status = SurveyStatus.ANSWERED.value
        invitation.answered_at = now
        utility = invitation.kind == SurveyKind.UTILITY
        invitation.positive = response.useful if utility else response.satisfied
        invitation.link_nonce = None  # single use
        session.add(invitation)
    session.add(response)
    session.flush()
    return OpenSurvey(
        invitation=invitation,
        questionnaire=questionnaire,
        questions=questions,
        operator=_operator(session, invitation.operator_id),
        answers=answers,
        saved_at=now,
    )


def opt_out_path(invitation: SurveyInvitation) -> str:
    """The address where the person asked stops every survey to come (shown on the answer page)."""
    token = create_link_token(
        purpose=OPT_OUT_PURPOSE, subject_id=invitation.id, lifetime=timedelta(days=365)
    )
    return f"/enquete/desinscription/{token}"


def _opt_out_invitation(session: Session, token: str) -> SurveyInvitation:
    invitation_id, _nonce = _claims(token, OPT_OUT_PURPOSE)
    invitation = session.get(SurveyInvitation, invitation_id)
    if invitation is None:
        raise SurveyLinkInvalid()
    return invitation


def _has_opted_out(beneficiary: Beneficiary) -> bool:
    """Opted out, and not agreed again since."""
    return beneficiary.survey_opt_out_at is not None and beneficiary.survey_consent_at is None


def opt_out_page(*, session: Session, token: str) -> OptOut:
    """What the opt-out link shows before the person confirms; SurveyLinkInvalid otherwise."""
    invitation = _opt_out_invitation(session, token)
    beneficiary = session.get(Beneficiary, invitation.beneficiary_id)
    return OptOut(
        operator=_operator(session, invitation.operator_id),
        opted_out=_has_opted_out(beneficiary),
    )


def opt_out(*, session: Session, token: str, ip: str | None, now: datetime | None = None) -> OptOut:
    """« Ne plus recevoir de questionnaire »: the person's agreement is withdrawn and every
    survey of theirs not yet answered is closed at once. Asked again, nothing changes.
    Counts against the client's rate limit first (TooManyAttempts)."""
    check_rate(session_or_engine=rate_limit_target(session), bucket=OPT_OUT_BUCKET, keys=[ip])
    return _opt_out(session=session, token=token, now=now or utcnow())


@all_or_nothing
def _opt_out(*, session: Session, token: str, now: datetime) -> OptOut:
    invitation = _opt_out_invitation(session, token)
    beneficiary = session.get(
        Beneficiary, invitation.beneficiary_id, with_for_update=True, populate_existing=True
    )
    if not _has_opted_out(beneficiary):
        withdraw(
            session=session,
            person=beneficiary,
            purpose=ConsentPurpose.SURVEYS,
            actor=None,
            now=now,
            how=ConsentChannel.SURVEY_LINK,
        )
    session.execute(
        update(SurveyInvitation)
        .where(
            SurveyInvitation.beneficiary_id == beneficiary.id,
            col(SurveyInvitation.status).in_(_STILL_TO_COME),
        )
        .values(status=SurveyStatus.OPTED_OUT.value)
        .execution_options(synchronize_session="fetch")
    )
    session.flush()
    return OptOut(operator=_operator(session, invitation.operator_id), opted_out=True)
