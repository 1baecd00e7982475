"""Signing in from the login page, in one step or two: after the right password, an account
with a second factor is asked for a code (or a recovery code), and one whose role requires a
second factor it has not yet set up is asked to enrol it, before any session exists.

Between the two steps the browser holds only a login step (`LoginStep`): its own cookie,
read by the second step's pages alone, that opens no session and grants nothing else. It
ends once used, after MAX_STEP_FAILURES wrong codes (back to the password), or after
STEP_MINUTES."""

from datetime import timedelta
from typing import NamedTuple

from sqlalchemy import update
from sqlmodel import Session, col, select

from app.core.errors import Invalid, NotFound
from app.core.security import new_token, token_digest
from app.models.base import utcnow
from app.models.credentials import LoginStep, LoginStepPurpose
from app.models.staff import StaffUser
from app.services.access.auth import authenticate, start_session
from app.services.access.login_limits import login_delay
from app.services.access.two_factor import (
    Enrolment,
    check_code,
    confirm_enrolment,
    enrolment,
    second_factor_of,
    second_factor_required,
)

STEP_MINUTES = 10
MAX_STEP_FAILURES = 5
STEP_ENDED = (
    "Cette connexion a expiré : saisissez de nouveau votre adresse e-mail et votre mot de passe."
)


class SignIn(NamedTuple):
    """What a right password gives: a session's cookie value, or a login step's and its
    purpose (the session comes with the second factor)."""

    session_token: str | None = None
    step_token: str | None = None
    purpose: LoginStepPurpose | None = None


def sign_in(*, session: Session, email: str, password: str, ip: str) -> SignIn:
    """Check the credentials (authenticate); open a browser session, or the second step.

    Not all or nothing: a refused attempt is recorded and stays, for the login limits."""
    user = authenticate(session=session, email=email, password=password, ip=ip)
    if second_factor_of(session=session, user=user) is not None:
        purpose = LoginStepPurpose.CODE
    elif second_factor_required(session=session, user=user):
        purpose = LoginStepPurpose.ENROLMENT
    else:
        token, _row = start_session(session=session, user=user)
        return SignIn(session_token=token)
    return SignIn(step_token=_open_step(session, user, purpose), purpose=purpose)


def _open_step(session: Session, user: StaffUser, purpose: LoginStepPurpose) -> str:
    token = new_token()
    session.add(
        LoginStep(
            staff_id=user.id,
            token_hash=token_digest(token),
            purpose=purpose.value,
            expires_at=utcnow() + timedelta(minutes=STEP_MINUTES),
        )
    )
    session.flush()
    return token


def find_login_step(
    *, session: Session, token: str | None, purpose: LoginStepPurpose
) -> tuple[LoginStep, StaffUser]:
    """The live login step of this cookie value, for this purpose, and its active account;
    NotFound otherwise (expired, ended, or never begun)."""
    if not token:
        raise NotFound(STEP_ENDED)
    found = session.exec(
        select(LoginStep, StaffUser)
        .join(StaffUser, col(StaffUser.id) == LoginStep.staff_id)
        .where(
            LoginStep.token_hash == token_digest(token),
            LoginStep.purpose == purpose.value,
            col(LoginStep.ended_at).is_(None),
            LoginStep.expires_at > utcnow(),
            col(StaffUser.active).is_(True),
        )
    ).first()
    if found is None:
        raise NotFound(STEP_ENDED)
    return tuple(found)


def login_step_delay(*, session: Session, token: str | None) -> float:
    """Seconds the second step of this login waits, as its password step would
    (login_limits.login_delay for the account's e-mail); none for an unknown step."""
    if not token:
        return 0.0
    email = session.exec(
        select(StaffUser.email)
        .join(LoginStep, col(LoginStep.staff_id) == StaffUser.id)
        .where(LoginStep.token_hash == token_digest(token))
    ).first()
    return login_delay(session=session, email=email) if email else 0.0


def _end_step(session: Session, step: LoginStep) -> None:
    """End the step; one UPDATE decides, so that a step opens one session at most."""
    ended = session.exec(
        update(LoginStep)
        .where(col(LoginStep.id) == step.id, col(LoginStep.ended_at).is_(None))
        .values(ended_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    if ended.rowcount != 1:
        raise NotFound(STEP_ENDED)


class TooManyWrongCodes(NotFound):
    """The step ended on its last wrong code: back to the password."""

    default_message = "Trop de codes erronés : saisissez de nouveau votre mot de passe."


def _count_failure(session: Session, step: LoginStep) -> None:
    """A wrong code: after MAX_STEP_FAILURES of them the step ends, back to the password."""
    step.failures += 1
    if step.failures >= MAX_STEP_FAILURES:
        step.ended_at = utcnow()
    session.add(step)
    session.flush()
    if step.ended_at is not None:
        raise TooManyWrongCodes()


class SecondStepDone(NamedTuple):
    session_token: str
    user: StaffUser
    used_recovery_code: bool


def finish_with_code(
    *, session: Session, token: str | None, code: str, recovery_code: str, ip: str
) -> SecondStepDone:
    """The second step: a code of the app or a recovery code opens the session.

    Not all or nothing: a wrong code is counted (login limits, the step's failures)."""
    step, user = find_login_step(session=session, token=token, purpose=LoginStepPurpose.CODE)
    try:
        used_recovery = check_code(
            session=session, user=user, code=code, recovery_code=recovery_code, ip=ip
        )
    except Invalid:
        _count_failure(session, step)
        raise
    _end_step(session, step)
    session_token, _row = start_session(session=session, user=user)
    return SecondStepDone(session_token, user, used_recovery)


def enrolment_at_login(*, session: Session, token: str | None) -> tuple[StaffUser, Enrolment]:
    """The enrolment a role requires, shown between the password and the session."""
    _step, user = find_login_step(session=session, token=token, purpose=LoginStepPurpose.ENROLMENT)
    return user, enrolment(session=session, user=user)


class EnrolledAtLogin(NamedTuple):
    session_token: str
    user: StaffUser
    recovery_codes: list[str]


def finish_with_enrolment(
    *, session: Session, token: str | None, code: str, ip: str
) -> EnrolledAtLogin:
    """A first code of the new app confirms the enrolment and opens the session."""
    step, user = find_login_step(session=session, token=token, purpose=LoginStepPurpose.ENROLMENT)
    try:
        codes = confirm_enrolment(session=session, user=user, code=code, ip=ip)
    except Invalid:
        _count_failure(session, step)
        raise
    _end_step(session, step)
    session_token, _row = start_session(session=session, user=user)
    return EnrolledAtLogin(session_token, user, codes)
