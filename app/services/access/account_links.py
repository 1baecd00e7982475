"""E-mailed links that let a person choose a password: the invitation of a new colleague and
the reset asked from the login page. Each is signed, expires and is used once: the e-mail holds
a JWT naming a `staff_account_links` row and a nonce whose hash only that row keeps, and the
one UPDATE that marks the row used passes only while it is unused, unrevoked and unexpired."""

import logging
import secrets
from datetime import datetime, timedelta
from typing import NamedTuple

from sqlalchemy import func, insert, update
from sqlmodel import Session, col, select

from app.core.config import get_settings
from app.core.dates import format_datetime
from app.core.errors import Invalid, NotFound, TooManyAttempts
from app.core.passwords import password_problem
from app.core.security import (
    InvalidToken,
    create_link_token,
    hash_password,
    read_link_claims,
    token_digest,
    tokens_match,
)
from app.models.appointments import RateLimitHit
from app.models.base import utcnow
from app.models.operators import Operator
from app.models.staff import AccountLink, AccountLinkPurpose, StaffEventKind, StaffUser
from app.services.access.login_limits import ADDRESS_FACTOR, login_email
from app.services.admin.staff import (
    end_sessions_and_tokens,
    record_staff_event,
    revoke_account_links,
)
from app.services.messaging.outbox import queue_email

log = logging.getLogger(__name__)

LINK_PURPOSE = "staff-password"
INVITATION_LIFETIME = timedelta(days=7)
RESET_LIFETIME = timedelta(hours=1)
RESET_BUCKET = "password_reset"
UNUSABLE = (
    "Ce lien n'est plus valable : il a déjà servi, a expiré ou a été remplacé par un plus "
    "récent. Demandez un nouveau lien depuis la page de connexion (« Mot de passe oublié ? »)."
)
RESET_SENT = (
    "Si un compte actif existe pour cette adresse, un e-mail vient de lui être envoyé avec un "
    "lien pour choisir un nouveau mot de passe. Il est valable une heure et ne sert qu'une fois."
)


def unusable_password_hash() -> str:
    """The hash of a random value nobody knows: an invited account cannot sign in yet."""
    return hash_password(secrets.token_urlsafe(32))


def issue_link(*, session: Session, user: StaffUser, purpose: AccountLinkPurpose) -> str:
    """A new link for the account (its earlier unused ones stop working): the address to e-mail."""
    lifetime = INVITATION_LIFETIME if purpose == AccountLinkPurpose.INVITATION else RESET_LIFETIME
    now = utcnow()
    revoke_account_links(session=session, user=user, now=now)
    nonce = secrets.token_urlsafe(24)
    link = AccountLink(
        staff_id=user.id,
        purpose=purpose.value,
        nonce_hash=token_digest(nonce),
        created_at=now,
        expires_at=now + lifetime,
    )
    session.add(link)
    session.flush()
    token = create_link_token(
        purpose=LINK_PURPOSE, subject_id=link.id, lifetime=lifetime, nonce=nonce
    )
    return f"{get_settings().public_base_url.rstrip('/')}/compte/mot-de-passe/{token}"


def _time_zone(session: Session, user: StaffUser) -> str:
    operator = session.get(Operator, user.operator_id) if user.operator_id else None
    return operator.time_zone if operator else "Europe/Paris"


def queue_invitation(*, session: Session, user: StaffUser, inviter: StaffUser) -> None:
    """E-mail the invitation: who invites, for which operator and role, and the link."""
    link = issue_link(session=session, user=user, purpose=AccountLinkPurpose.INVITATION)
    operator = session.get(Operator, user.operator_id) if user.operator_id else None
    # A controller joins a France compétences control team, not an operator.
    joined = operator.name if operator else "France compétences"
    team = f"l'équipe de {operator.name}" if operator else f"l'équipe « {user.control_team} »"
    until = format_datetime(utcnow() + INVITATION_LIFETIME, _time_zone(session, user))
    text = (
        f"Bonjour {user.full_name},\n\n"
        f"{inviter.full_name} vous invite à rejoindre {team} sur Fil "
        "rouge, le suivi des dossiers du conseil en évolution professionnelle, en tant que "
        f"« {user.role_label} ».\n\n"
        "Pour choisir votre mot de passe et activer votre compte :\n"
        f"{link}\n\n"
        f"Ce lien ne sert qu'une fois et expire le {until}. Votre identifiant de connexion "
        f"sera cette adresse e-mail : {user.email}.\n"
    )
    queue_email(
        session=session,
        recipient=user.email,
        subject=f"Invitation à rejoindre {joined} sur Fil rouge",
        text=text,
        operator_id=user.operator_id,
    )


def _queue_reset(session: Session, user: StaffUser) -> None:
    link = issue_link(session=session, user=user, purpose=AccountLinkPurpose.RESET)
    text = (
        f"Bonjour {user.full_name},\n\n"
        "Une réinitialisation du mot de passe de votre compte Fil rouge a été demandée. "
        "Pour choisir un nouveau mot de passe :\n"
        f"{link}\n\n"
        "Ce lien est valable une heure et ne sert qu'une fois.\n\n"
        "Si vous n'êtes pas à l'origine de cette demande, ignorez ce message : votre mot de "
        "passe reste inchangé.\n"
    )
    queue_email(
        session=session,
        recipient=user.email,
        subject="Fil rouge : choisir un nouveau mot de passe",
        text=text,
        operator_id=user.operator_id,
    )


def _reset_hits(session: Session, key: str, since: datetime) -> int:
    query = select(func.count()).where(
        RateLimitHit.bucket == RESET_BUCKET, RateLimitHit.key == key, RateLimitHit.at > since
    )
    return session.exec(query).one()


def request_password_reset(*, session: Session, email: str, ip: str) -> None:
    """E-mail a reset link if an active account has this address; say nothing either way.

    Counted like logins (FILROUGE_LOGIN_MAX_FAILURES = N over FILROUGE_LOGIN_WINDOW_MINUTES):
    an address that asked N times for one e-mail, or 4 × N times in all, is refused (which
    tells nothing about the account); and an e-mail receives at most N links per window, however
    many addresses ask, so that nobody can flood a colleague's inbox."""
    settings = get_settings()
    now = utcnow()
    email, ip = login_email(email), ip[:45]
    since = now - timedelta(minutes=settings.login_window_minutes)
    limit = settings.login_max_failures
    keys = {"ip": f"ip:{ip}", "pair": f"pair:{ip}|{email}"[:200], "email": f"email:{email}"[:200]}
    counts = {name: _reset_hits(session, key, since) for name, key in keys.items()}
    session.execute(
        insert(RateLimitHit),
        [{"bucket": RESET_BUCKET, "key": key, "at": now} for key in keys.values()],
    )
    if counts["pair"] >= limit or counts["ip"] >= limit * ADDRESS_FACTOR:
        raise TooManyAttempts(
            f"Trop de demandes. Réessayez dans {settings.login_window_minutes} minutes."
        )
    user = session.exec(select(StaffUser).where(StaffUser.email == email)).first()
    if user is None or not user.active or counts["email"] >= limit:
        return
    _queue_reset(session, user)
    record_staff_event(session=session, user=user, actor=None, kind=StaffEventKind.RESET_REQUESTED)
    log.info("password reset link queued for staff account %d", user.id)


class OpenLink(NamedTuple):
    link: AccountLink
    user: StaffUser

    @property
    def is_invitation(self) -> bool:
        return self.link.purpose == AccountLinkPurpose.INVITATION


def open_link(*, session: Session, token: str) -> OpenLink:
    """The link and its account; NotFound (UNUSABLE) when it cannot serve any more."""
    try:
        link_id, nonce = read_link_claims(token, purpose=LINK_PURPOSE)
    except InvalidToken as exc:
        raise NotFound(UNUSABLE) from exc
    link = session.get(AccountLink, link_id)
    if (
        link is None
        or not nonce
        or not tokens_match(link.nonce_hash, token_digest(nonce))
        or link.used_at is not None
        or link.revoked_at is not None
        or link.expires_at <= utcnow()
    ):
        raise NotFound(UNUSABLE)
    user = session.get(StaffUser, link.staff_id)
    if user is None or not user.active:
        raise NotFound(UNUSABLE)
    return OpenLink(link, user)


def choose_password(*, session: Session, token: str, password: str, confirmation: str) -> StaffUser:
    """Set the account's password from a link, which is used up; every other session, API
    token and link of the account ends (whoever knew the old password is out)."""
    opened = open_link(session=session, token=token)
    user = opened.user
    problem = password_problem(password, personal=[user.email, user.full_name])
    if problem:
        raise Invalid({"password": problem})
    if password != confirmation:
        raise Invalid({"confirmation": "Les deux saisies ne sont pas identiques."})
    now = utcnow()
    used = session.exec(
        update(AccountLink)
        .where(
            col(AccountLink.id) == opened.link.id,
            col(AccountLink.used_at).is_(None),
            col(AccountLink.revoked_at).is_(None),
            col(AccountLink.expires_at) > now,
        )
        .values(used_at=now)
        .execution_options(synchronize_session=False)
    )
    if used.rowcount != 1:  # used by another request meanwhile
        raise NotFound(UNUSABLE)
    end_sessions_and_tokens(session=session, user=user)
    user.password_hash = hash_password(password)
    user.password_set_at = now
    session.add(user)
    kind = StaffEventKind.PASSWORD_SET if opened.is_invitation else StaffEventKind.PASSWORD_RESET
    record_staff_event(session=session, user=user, actor=user, kind=kind)
    log.info("staff account %d chose a password", user.id)
    return user
