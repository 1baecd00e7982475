"""API clients (« clients d'API »): what an operator's document system signs in with, so that
it never holds a person's password. An operator admin creates one (name, scope), sees its
secret once, and revokes it; only the secret's SHA-256 is kept (256 random bits: a fast hash
is enough, app/core/otp.py says why). A revoked client's tokens stop working at once: each
call reads the client's row again."""

import secrets

from sqlmodel import Session, col, select

from app.core.errors import Forbidden, Invalid, NotFound
from app.core.security import create_client_token, token_digest, tokens_match
from app.models.api_clients import ApiClient, ApiClientCreate
from app.models.audit import AuditAction
from app.models.base import utcnow
from app.models.nomenclatures import Role
from app.models.staff import StaffUser
from app.services.access.rate_limits import check_rate, rate_limit_target
from app.services.access.scope import get_owned, owned_by
from app.services.audit.trail import record

CLIENT_ID_PREFIX = "frc_"
SECRET_PREFIX = "frs_"
WRONG_CLIENT = "Identifiant ou secret du client d'API incorrect, ou client révoqué"
AUDIT_KIND = "api_client"
# The rate limit's bucket for token requests (app/services/access/rate_limits.py).
TOKEN_BUCKET = "api_client_token"


def require_clients_admin(actor: StaffUser) -> int:
    """The operator whose clients the actor manages: its administrators only."""
    if actor.role != Role.OPERATOR_ADMIN or actor.operator_id is None:
        raise Forbidden("Seul·es les administrateur·rices de l'opérateur gèrent ses clients d'API.")
    return actor.operator_id


def list_api_clients(*, session: Session, actor: StaffUser) -> list[ApiClient]:
    """The operator's clients, those in force first, newest first."""
    operator_id = require_clients_admin(actor)
    query = select(ApiClient).where(owned_by(ApiClient, operator_id))
    order = (col(ApiClient.revoked_at).is_not(None), col(ApiClient.id).desc())
    return list(session.exec(query.order_by(*order)))


def create_api_client(
    *, session: Session, actor: StaffUser, data: ApiClientCreate
) -> tuple[ApiClient, str]:
    """A new client of the actor's operator: the row, and its secret, shown this once."""
    operator_id = require_clients_admin(actor)
    secret = SECRET_PREFIX + secrets.token_urlsafe(32)
    client = ApiClient(
        operator_id=operator_id,
        name=data.name,
        scope=data.scope.value,
        client_id=CLIENT_ID_PREFIX + secrets.token_urlsafe(12),
        secret_hash=token_digest(secret),
        created_by_id=actor.id,
    )
    session.add(client)
    session.flush()
    record(session, actor=actor, action=AuditAction.CHANGE, record_type=AUDIT_KIND,
           record_id=client.id, reason=f"Client d'API « {client.name} » créé")  # fmt: skip
    return client, secret


def revoke_api_client(*, session: Session, actor: StaffUser, client_row_id: int) -> ApiClient:
    """Revoke one of the operator's clients: its tokens stop working with the next call."""
    operator_id = require_clients_admin(actor)
    client = get_owned(session, ApiClient, client_row_id, operator_id)
    if client is None or client.revoked_at is not None:
        raise NotFound()
    client.revoked_at, client.revoked_by_id = utcnow(), actor.id
    session.add(client)
    session.flush()
    record(session, actor=actor, action=AuditAction.CHANGE, record_type=AUDIT_KIND,
           record_id=client.id, reason=f"Client d'API « {client.name} » révoqué")  # fmt: skip
    return client


def issue_client_token(*, session: Session, client_id: str, client_secret: str, ip: str) -> str:
    """A bearer token for the client with this identifier and secret, if it is in force.

    Each attempt counts against the caller's address and the identifier tried (TooManyAttempts
    past the public rate), so that a secret cannot be guessed by hammering; a refused attempt
    is in the audit trail, under the client's operator when the identifier is known, without
    what was typed as secret."""
    client_id = client_id[:40]
    check_rate(session_or_engine=rate_limit_target(session), bucket=TOKEN_BUCKET,
               keys=[ip, f"client:{client_id}"])  # fmt: skip
    client = session.exec(select(ApiClient).where(ApiClient.client_id == client_id)).first()
    given = token_digest(client_secret)
    if client is None or client.revoked_at is not None:
        _record_refusal(session, client)
        raise Invalid({"client_secret": WRONG_CLIENT})
    if not tokens_match(client.secret_hash, given):
        _record_refusal(session, client)
        raise Invalid({"client_secret": WRONG_CLIENT})
    client.last_used_at = utcnow()
    session.add(client)
    return create_client_token(client.id)


def _record_refusal(session: Session, client: ApiClient | None) -> None:
    reason = (
        f"Jeton refusé au client d'API « {client.name} »"
        if client
        else "Jeton refusé : identifiant de client d'API inconnu"
    )
    record(session, actor=None, action=AuditAction.LOGIN_FAILED, record_type=AUDIT_KIND,
           record_id=client.id if client else None,
           operator_id=client.operator_id if client else None, reason=reason)  # fmt: skip


def client_in_force(*, session: Session, client_row_id: int) -> ApiClient | None:
    """The client a token names, unless it was revoked since."""
    client = session.get(ApiClient, client_row_id) if client_row_id >= 1 else None
    if client is None or client.revoked_at is not None:
        return None
    return client
