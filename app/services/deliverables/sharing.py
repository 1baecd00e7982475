"""Sharing issued documents with the beneficiary: an e-mailed signed link to read, download
and acknowledge them, or a signed paper copy scanned by the counsellor."""

import secrets
from dataclasses import dataclass
from datetime import timedelta

from sqlmodel import Session, col, select

from app.core.config import get_settings
from app.core.dates import format_date
from app.core.db import all_or_nothing
from app.core.errors import Conflict, DomainError, NotFound
from app.core.files import Upload
from app.core.security import InvalidToken, create_link_token, read_link_claims, tokens_match
from app.models.base import utcnow
from app.models.beneficiaries import Beneficiary
from app.models.cases import Case
from app.models.deliverables import AcknowledgementMethod, Deliverable, DeliverableVersion
from app.models.notifications import NotificationKind
from app.models.operators import Operator
from app.models.outbox import OutboxMessage
from app.models.staff import StaffUser
from app.services.cases.lifecycle import case_time_zone, touch
from app.services.deliverables import sms_texts as document_sms
from app.services.deliverables.attachments import add_attachment
from app.services.deliverables.documents import get_version, pdf_filename, version_pdf
from app.services.messaging.notifications import case_follower, notify
from app.services.messaging.outbox import queue_email, queue_sms
from app.services.messaging.short_links import shorten
from app.services.messaging.sms import may_get_sms, mobile_number
from app.services.personal_space.links import space_footer

LINK_PURPOSE = "document"


class InvalidLink(NotFound):
    default_message = (
        "Ce lien n'est pas valide ou a expiré. Demandez à votre conseiller·ère de vous "
        "renvoyer le document."
    )


class RevokedLink(InvalidLink):
    """The counsellor withdrew the link: it is gone for good, which 410 says."""

    status_code = 410
    default_message = (
        "Ce lien n'est plus valable : il a été retiré. Contactez votre conseiller·ère, qui "
        "pourra vous envoyer le document à nouveau."
    )


@dataclass
class SharedDocument:
    """What the beneficiary's page shows: one issued version and what it belongs to."""

    version: DeliverableVersion
    deliverable: Deliverable
    case: Case
    operator: Operator  # whose name and logo head the page
    time_zone: str
    newer_version_exists: bool


@all_or_nothing
def share_version(
    *, session: Session, actor: StaffUser, deliverable_id: int, number: int
) -> OutboxMessage:
    """Send the beneficiary a personal link to the version, by e-mail, else by SMS to their
    mobile; sent when the request commits."""
    version = get_version(
        session=session, actor=actor, deliverable_id=deliverable_id, number=number
    )
    deliverable = session.get(Deliverable, version.deliverable_id)
    case = session.get(Case, deliverable.case_id)
    beneficiary = session.get(Beneficiary, case.beneficiary_id)
    if not beneficiary.email and not may_get_sms(beneficiary):
        raise Conflict(
            "Ce bénéficiaire n'a ni adresse e-mail ni mobile recevant nos SMS : remettez-lui le "
            "document et déposez l'exemplaire signé."
        )
    settings = get_settings()
    lifetime = timedelta(days=settings.signed_link_days)
    # Sent again, the version keeps its link (the earlier e-mail still opens it); once
    # revoked, it gets a new one.
    if version.link_nonce is None:
        version.link_nonce = secrets.token_urlsafe(24)
    token = create_link_token(
        purpose=LINK_PURPOSE, subject_id=version.id, lifetime=lifetime, nonce=version.link_nonce
    )
    link = f"{settings.public_base_url.rstrip('/')}/documents/{token}"
    if beneficiary.email:
        expires = format_date(utcnow() + lifetime, case_time_zone(session, case))
        message = queue_email(
            session=session,
            recipient=beneficiary.email,
            subject=f"Votre document : {deliverable.title}",
            text=_email_text(beneficiary, deliverable, version, actor, link, expires),
            operator_id=case.operator_id,
            case_id=case.id,
        )
    else:
        message = _queue_document_sms(session, beneficiary, case, link, lifetime)
    version.shared_at = message.created_at
    version.shared_message_id = message.id
    touch(case)
    session.add_all([version, case])
    session.flush()
    return message


def _queue_document_sms(session, beneficiary, case, link: str, lifetime) -> OutboxMessage:
    short = shorten(
        session=session, link=link, expires_at=utcnow() + lifetime, operator_id=case.operator_id
    )
    return queue_sms(
        session=session,
        recipient=mobile_number(beneficiary.phone),
        template=document_sms.DOCUMENT_SHARED,
        payload=document_sms.payload(beneficiary, short),
        subject=document_sms.SUBJECTS[document_sms.DOCUMENT_SHARED],
        operator_id=case.operator_id,
        case_id=case.id,
    )


def _email_text(beneficiary, deliverable, version, actor, link, expires) -> str:
    return (
        f"Bonjour {beneficiary.full_name},\n\n"
        f"{actor.full_name} vous transmet le document « {deliverable.title} » "
        f"(version {version.number}), établi avec vous dans le cadre du conseil en évolution "
        "professionnelle.\n\n"
        "Pour le lire, le télécharger et indiquer que vous en avez pris connaissance :\n"
        f"{link}\n\n"
        f"Ce lien vous est personnel ; il est valable jusqu'au {expires}.\n"
        "Si vous n'êtes pas à l'origine de cette démarche, vous pouvez ignorer ce message.\n\n"
        f"{space_footer()}"
    )


@all_or_nothing
def revoke_link(
    *, session: Session, actor: StaffUser, deliverable_id: int, number: int
) -> DeliverableVersion:
    """« Révoquer le lien »: the e-mailed link stops opening the version; who and when are kept."""
    version = get_version(
        session=session, actor=actor, deliverable_id=deliverable_id, number=number
    )
    if version.shared_at is None:
        raise Conflict("Cette version n'a pas été envoyée : il n'y a pas de lien à révoquer.")
    if not version.link_is_live:
        raise Conflict("Le lien de cette version est déjà révoqué.")
    version.link_nonce = None
    version.link_revoked_at = utcnow()
    version.link_revoked_by_id = actor.id
    deliverable = session.get(Deliverable, version.deliverable_id)
    case = session.get(Case, deliverable.case_id)
    touch(case)
    session.add_all([version, case])
    session.flush()
    return version


def link_revokers(session: Session, versions: list[DeliverableVersion]) -> dict[int, str]:
    """The names of the staff who revoked these versions' links, by staff id."""
    ids = {v.link_revoked_by_id for v in versions if v.link_revoked_by_id is not None}
    if not ids:
        return {}
    query = select(StaffUser.id, StaffUser.full_name).where(col(StaffUser.id).in_(ids))
    return {staff_id: name for staff_id, name in session.exec(query)}


def _opens(version: DeliverableVersion, nonce: str | None) -> bool:
    if nonce is None:
        # Links e-mailed before links carried a nonce: valid until the first revocation.
        return version.link_revoked_at is None
    return tokens_match(version.link_nonce, nonce)


def open_shared_document(*, session: Session, token: str) -> SharedDocument:
    """The version a link points to; InvalidLink when tampered with, expired or unknown,
    RevokedLink when the counsellor revoked it."""
    try:
        version_id, nonce = read_link_claims(token, purpose=LINK_PURPOSE)
    except InvalidToken as exc:
        raise InvalidLink() from exc
    version = session.get(DeliverableVersion, version_id)
    if version is None:
        raise InvalidLink()
    if not _opens(version, nonce):
        raise RevokedLink()
    return shared_document(session=session, version=version)


def shared_document(*, session: Session, version: DeliverableVersion) -> SharedDocument:
    """A version as the beneficiary reads it (from its link or their personal space)."""
    deliverable = session.get(Deliverable, version.deliverable_id)
    case = session.get(Case, deliverable.case_id)
    return SharedDocument(
        version=version,
        deliverable=deliverable,
        case=case,
        operator=session.get(Operator, case.operator_id),
        time_zone=case_time_zone(session, case),
        newer_version_exists=deliverable.version_count > version.number,
    )


def shared_pdf(*, session: Session, token: str) -> tuple[bytes, str]:
    """The PDF a link points to, and the name it is downloaded under."""
    return shared_document_pdf(open_shared_document(session=session, token=token))


def shared_document_pdf(shared: SharedDocument) -> tuple[bytes, str]:
    filename = pdf_filename(shared.case, shared.deliverable, shared.version.number)
    return version_pdf(shared.version), filename


def acknowledge_online(*, session: Session, token: str) -> SharedDocument:
    """« J'ai pris connaissance de ce document »: recorded once, with its time and method."""
    shared = open_shared_document(session=session, token=token)
    return acknowledge_shared(session=session, shared=shared)


def acknowledge_shared(*, session: Session, shared: SharedDocument) -> SharedDocument:
    """The person's acknowledgement, from the document's link or their personal space."""
    version = shared.version
    if version.acknowledged_at is None:
        version.acknowledged_at = utcnow()
        version.acknowledgement_method = AcknowledgementMethod.ONLINE.value
        touch(shared.case)
        session.add_all([version, shared.case])
        session.flush()
        _tell_acknowledged(session, shared.case, shared.deliverable, version, actor_id=None)
    return shared


def _tell_acknowledged(session, case, deliverable, version, *, actor_id: int | None) -> None:
    """The case's counsellor learns that the person has read the document."""
    how = (
        "en ligne"
        if version.acknowledgement_method == AcknowledgementMethod.ONLINE
        else ("par un exemplaire signé")
    )
    notify(
        session=session,
        operator_id=case.operator_id,
        recipient_id=case_follower(case, version.issued_by_id),
        kind=NotificationKind.DOCUMENT_ACKNOWLEDGED,
        text=(
            f"La personne a pris connaissance de « {deliverable.title} », version "
            f"{version.number}, {how} (dossier {case.reference})."
        ),
        link=f"/deliverables/{deliverable.id}",
        case_id=case.id,
        actor_id=actor_id,
    )


@all_or_nothing
def record_handover(
    *, session: Session, actor: StaffUser, deliverable_id: int, number: int
) -> DeliverableVersion:
    """« Remis en main propre »: the counsellor gave the person the printed version. Under the
    market's « remis » rule this proves the unit, as an e-mailed link does; who and when are
    kept, once."""
    version = get_version(
        session=session, actor=actor, deliverable_id=deliverable_id, number=number
    )
    if version.handed_over_at is not None:
        raise Conflict("Cette version est déjà enregistrée comme remise en main propre.")
    version.handed_over_at = utcnow()
    version.handed_over_by_id = actor.id
    deliverable = session.get(Deliverable, version.deliverable_id)
    case = session.get(Case, deliverable.case_id)
    touch(case)
    session.add_all([version, case])
    session.flush()
    return version


class AlreadyAcknowledged(Conflict):
    default_message = "Le bénéficiaire a déjà pris connaissance de cette version."


@all_or_nothing
def record_signed_scan(
    *,
    session: Session,
    actor: StaffUser,
    deliverable_id: int,
    number: int,
    upload: Upload | None,
    refused: DomainError | None = None,
) -> DeliverableVersion:
    """The counsellor uploaded the paper copy the beneficiary signed: kept with the case's
    files, it acknowledges the version. `refused` says why the file was not received; a version
    already acknowledged is refused first, and then nothing is stored."""
    version = get_version(
        session=session, actor=actor, deliverable_id=deliverable_id, number=number
    )
    if version.acknowledged_at is not None:
        raise AlreadyAcknowledged()
    if refused is not None:
        raise refused
    assert upload is not None
    deliverable = session.get(Deliverable, version.deliverable_id)
    attachment = add_attachment(
        session=session,
        actor=actor,
        case_id=deliverable.case_id,
        upload=upload,
        description=f"Exemplaire signé : {deliverable.title}, version {number}",
    )
    version.acknowledged_at = utcnow()
    version.acknowledgement_method = AcknowledgementMethod.SIGNED_SCAN.value
    version.scan_attachment_id = attachment.id
    session.add(version)
    session.flush()
    case = session.get(Case, deliverable.case_id)
    _tell_acknowledged(session, case, deliverable, version, actor_id=actor.id)
    return version
