"""Links to the personal space: a random token (256 bits) sent to the person, of which only the
SHA-256 is kept; each is bound to one person of one operator, opens the space and nothing
else, expires, and can be closed by the person or by staff."""

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import NamedTuple

from sqlalchemy import delete, update
from sqlmodel import Session, col, select

from app.core.config import get_settings
from app.core.errors import NotFound
from app.core.security import token_digest
from app.models.base import utcnow
from app.models.beneficiaries import Beneficiary
from app.models.personal_space import SPACE_PURPOSE, PersonalSpaceLink
from app.models.staff import StaffUser
from app.services.access.scope import get_owned, load_owned, owned_by

# What a token looks like (secrets.token_urlsafe(32)): anything else is refused unread.
TOKEN_LENGTH = 43
_TOKEN_CHARACTERS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")


class InvalidSpaceLink(NotFound):
    """Unknown, tampered with, expired or closed: one answer, so that nobody learns which."""

    default_message = (
        "Ce lien vers votre espace n'est pas valable : il a expiré ou l'accès a été fermé. "
        "Vous pouvez demander un nouveau lien, envoyé à votre adresse e-mail ou à votre "
        "téléphone portable."
    )


@dataclass
class OpenSpace:
    """An open link and the one person it shows."""

    link: PersonalSpaceLink
    person: Beneficiary
    token: str


class NewLink(NamedTuple):
    token: str  # never kept: the caller sends it
    expires_at: datetime


def mint_link(*, session: Session, person: Beneficiary, now: datetime | None = None) -> NewLink:
    """A new link for this person alone."""
    if person.anonymised_at is not None:
        raise InvalidSpaceLink()
    now = now or utcnow()
    token = secrets.token_urlsafe(32)
    expires_at = now + timedelta(days=get_settings().personal_space_link_days)
    session.add(
        PersonalSpaceLink(
            operator_id=person.operator_id,
            beneficiary_id=person.id,
            token_hash=token_digest(token),
            created_at=now,
            expires_at=expires_at,
        )
    )
    session.flush()
    return NewLink(token, expires_at)


def space_url(token: str) -> str:
    return f"{get_settings().public_base_url.rstrip('/')}/mon-espace/{token}"


def open_space(*, session: Session, token: str, now: datetime | None = None) -> OpenSpace:
    """The link and its person; InvalidSpaceLink for anything but a live space link."""
    if len(token) != TOKEN_LENGTH or not _TOKEN_CHARACTERS.issuperset(token):
        raise InvalidSpaceLink()
    link = session.exec(
        select(PersonalSpaceLink).where(PersonalSpaceLink.token_hash == token_digest(token))
    ).first()
    if (
        link is None
        or link.purpose != SPACE_PURPOSE
        or link.revoked_at is not None
        or link.expires_at <= (now or utcnow())
    ):
        raise InvalidSpaceLink()
    # Within the link's operator: it never shows another operator's row, whatever its id.
    person = get_owned(session, Beneficiary, link.beneficiary_id, link.operator_id)
    if person is None or person.anonymised_at is not None:
        raise InvalidSpaceLink()
    return OpenSpace(link=link, person=person, token=token)


def close_link(*, session: Session, token: str, now: datetime | None = None) -> None:
    """« Fermer l'accès »: this link stops opening the space."""
    space = open_space(session=session, token=token, now=now)
    space.link.revoked_at = now or utcnow()
    session.add(space.link)
    session.flush()


def close_all_links(
    *, session: Session, actor: StaffUser, beneficiary_id: int, now: datetime | None = None
) -> int:
    """Staff close every open link of a person (a lost phone, a shared mailbox); how many."""
    person = load_owned(session, Beneficiary, beneficiary_id, actor)
    statement = (
        update(PersonalSpaceLink)
        .where(
            owned_by(PersonalSpaceLink, person.operator_id),
            col(PersonalSpaceLink.beneficiary_id) == person.id,
            col(PersonalSpaceLink.revoked_at).is_(None),
        )
        .values(revoked_at=now or utcnow())
        .execution_options(synchronize_session=False)
    )
    return session.exec(statement).rowcount


def delete_links_of(*, session: Session, person_id: int) -> None:
    """Anonymisation: the person's links go, live or not."""
    statement = delete(PersonalSpaceLink).where(col(PersonalSpaceLink.beneficiary_id) == person_id)
    session.exec(statement.execution_options(synchronize_session=False))


def purge_expired_space_links(*, session: Session, now: datetime | None = None) -> int:
    """Delete links expired for a day (they open nothing already)."""
    cutoff = (now or utcnow()) - timedelta(days=1)
    statement = delete(PersonalSpaceLink).where(col(PersonalSpaceLink.expires_at) <= cutoff)
    return session.exec(statement.execution_options(synchronize_session=False)).rowcount


def space_footer() -> str:
    """The line closing the e-mails to beneficiaries: where to ask for a link to their space."""
    base = get_settings().public_base_url.rstrip("/")
    return f"Vos rendez-vous, vos documents et vos coordonnées : {base}/mon-espace\n"
