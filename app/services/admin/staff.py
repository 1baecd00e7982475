"""Staff accounts of an operator: created, listed, closed, and the record of their changes."""

from typing import NamedTuple

from sqlalchemy import update
from sqlmodel import Session, col, select

from app.core.errors import Conflict, Invalid, NotFound
from app.core.passwords import password_problem
from app.core.security import hash_password
from app.models.base import utcnow
from app.models.credentials import ApiKey, LoginStep
from app.models.fields import french_sort_key
from app.models.nomenclatures import CASE_ROLES, Role
from app.models.operators import Operator
from app.models.staff import AccountLink, StaffEvent, StaffEventKind, StaffSession, StaffUser
from app.services.access.scope import get_owned, owned_by


def create_staff_user(
    *,
    session: Session,
    email: str,
    full_name: str,
    role: Role,
    password: str,
    operator_code: str | None,
    control_team: str | None = None,
) -> StaffUser:
    """Create an account; operator roles need an operator, observers and sysadmins have none;
    a controller needs its control team, nobody else has one."""
    email = email.strip().lower()
    control_team = control_team_of(role, control_team)
    problem = password_problem(password, personal=[email, full_name])
    if problem:
        raise Invalid({"password": problem})
    operator_id = None
    if role in CASE_ROLES:
        if not operator_code:
            raise Invalid({"operator": "Ce rôle appartient à un opérateur"})
        operator = session.exec(select(Operator).where(Operator.code == operator_code)).first()
        if operator is None:
            raise NotFound(f"Opérateur inconnu : {operator_code}")
        operator_id = operator.id
    if session.exec(select(StaffUser.id).where(StaffUser.email == email)).first():
        raise Conflict(f"Un compte existe déjà pour {email}")
    user = StaffUser(
        email=email,
        full_name=full_name.strip() or email,
        role=role.value,
        password_hash=hash_password(password),
        password_set_at=utcnow(),
        operator_id=operator_id,
        control_team=control_team,
    )
    session.add(user)
    session.flush()
    record_staff_event(session=session, user=user, actor=None, kind=StaffEventKind.CREATED)
    return user


def control_team_of(role: Role, control_team: str | None) -> str | None:
    """The team a new account works in: a controller's, required; none for any other role."""
    team = " ".join((control_team or "").split())[:80] or None
    if role == Role.CONTROLLER and team is None:
        raise Invalid({"control_team": "Un·e contrôleur·euse appartient à une équipe de contrôle"})
    if role != Role.CONTROLLER and team is not None:
        raise Invalid({"control_team": "Seuls les contrôleur·euses ont une équipe de contrôle"})
    return team


def record_staff_event(
    *,
    session: Session,
    user: StaffUser,
    actor: StaffUser | None,
    kind: StaffEventKind,
    detail: str = "",
) -> StaffEvent:
    """Keep one change to an account: who made it (None: the command line or the login
    page), when, and what it was."""
    event = StaffEvent(
        operator_id=user.operator_id,
        staff_id=user.id,
        actor_id=actor.id if actor else None,
        kind=kind.value,
        detail=detail[:1000],
    )
    session.add(event)
    session.flush()
    return event


class Colleague(NamedTuple):
    id: int
    full_name: str


def list_colleagues(*, session: Session, operator_id: int) -> list[Colleague]:
    """Active staff of an operator who can hold cases, by name: what pickers and bylines show,
    not whole accounts (an operator has a hundred counsellors; every case page lists them)."""
    return _active_staff(session, operator_id, CASE_ROLES)


def list_counsellors(*, session: Session, operator_id: int) -> list[Colleague]:
    """The operator's active counsellors, by name: who may be chosen as a case's referent or be
    given a request (managers and administrators supervise; they are not offered)."""
    return _active_staff(session, operator_id, {Role.COUNSELLOR})


def _active_staff(session: Session, operator_id: int, roles) -> list[Colleague]:
    query = select(StaffUser.id, StaffUser.full_name).where(
        owned_by(StaffUser, operator_id),
        StaffUser.active.is_(True),
        StaffUser.role.in_([r.value for r in roles]),
    )
    # Sorted here: neither SQLite nor every PostgreSQL collation puts Émilie next to Emma.
    colleagues = [Colleague(*row) for row in session.exec(query)]
    return sorted(colleagues, key=lambda c: (french_sort_key(c.full_name), c.id))


def get_colleague(
    *, session: Session, operator_id: int, staff_id: int, field: str = "referent_id"
) -> StaffUser:
    """An active colleague of the operator; `field` names the input that chose them."""
    user = get_owned(session, StaffUser, staff_id, operator_id)
    if user is None or not user.active:
        raise Invalid({field: "Conseiller·ère inconnu·e"})
    return user


def get_counsellor(
    *, session: Session, operator_id: int, staff_id: int, field: str = "referent_id"
) -> StaffUser:
    """An active counsellor of the operator, as chosen in `field` (a referent, an assignee)."""
    user = get_colleague(session=session, operator_id=operator_id, staff_id=staff_id, field=field)
    if user.role != Role.COUNSELLOR:
        message = "Choisissez un·e conseiller·ère, pas un·e responsable ni un·e administrateur·rice"
        raise Invalid({field: message})
    return user


def end_api_tokens(*, session: Session, user: StaffUser) -> None:
    """Refuse every API token issued to the account so far (the next ones are valid)."""
    # Raised in the database, so that two at once both count; read again on next access.
    user.token_version = StaffUser.token_version + 1  # type: ignore[assignment]
    session.add(user)
    session.flush()


def deactivate_staff_user(*, session: Session, email: str) -> StaffUser:
    """Close an account: no more sign-in, and its browser sessions and API tokens end now."""
    user = session.exec(select(StaffUser).where(StaffUser.email == email.strip().lower())).first()
    if user is None:
        raise NotFound(f"Aucun compte pour {email}")
    user.active = False
    end_sessions_and_tokens(session=session, user=user)
    revoke_api_keys(session=session, user=user)
    record_staff_event(session=session, user=user, actor=None, kind=StaffEventKind.DEACTIVATED)
    return user


def end_browser_sessions(*, session: Session, user: StaffUser, now=None) -> None:
    """End the account's browser sessions, and its logins waiting for a second factor."""
    now = now or utcnow()
    session.exec(
        update(StaffSession)
        .where(col(StaffSession.staff_id) == user.id, col(StaffSession.revoked_at).is_(None))
        .values(revoked_at=now)
        .execution_options(synchronize_session=False)
    )
    session.exec(
        update(LoginStep)
        .where(col(LoginStep.staff_id) == user.id, col(LoginStep.ended_at).is_(None))
        .values(ended_at=now)
        .execution_options(synchronize_session=False)
    )


def end_sessions_and_tokens(*, session: Session, user: StaffUser) -> None:
    """End the account's browser sessions, API tokens and unused password links, now."""
    now = utcnow()
    end_browser_sessions(session=session, user=user, now=now)
    revoke_account_links(session=session, user=user, now=now)
    # Tokens of an inactive account are refused anyway; the new version keeps them refused
    # if the account is opened again.
    end_api_tokens(session=session, user=user)


def revoke_account_links(*, session: Session, user: StaffUser, now=None) -> None:
    """Unused invitation and reset links of the account stop working."""
    session.exec(
        update(AccountLink)
        .where(
            col(AccountLink.staff_id) == user.id,
            col(AccountLink.used_at).is_(None),
            col(AccountLink.revoked_at).is_(None),
        )
        .values(revoked_at=now or utcnow())
        .execution_options(synchronize_session=False)
    )


def revoke_api_keys(*, session: Session, user: StaffUser) -> None:
    """The account's personal API keys stop working, for good (deactivation)."""
    session.exec(
        update(ApiKey)
        .where(col(ApiKey.staff_id) == user.id, col(ApiKey.revoked_at).is_(None))
        .values(revoked_at=utcnow())
        .execution_options(synchronize_session=False)
    )
