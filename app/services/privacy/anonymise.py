"""Anonymise one person: identity, contact details and free text erased, files deleted from
the storage, what the reports and the ledger count kept.

Kept, because the reports, the ledger and the national view count them: the reporting profile
(sex, birth year — the only birth date held, each report turns it into the age band of its
own year —, employment status, PCS, NAF, company size, diploma, RQTH), the postcode (the
activity report places people by département and counts those within 30 km of a site, which
needs the commune's postcode; a postcode is shared by thousands), the cases with their
reference, motive, channel and dates, the episodes and interactions with their units, dates,
durations and channels, the deliverables' versions with their SHA-256 and dates (proofs of
the ledger), the attachments' rows with their SHA-256 and size, the referrals' and surveys'
statuses and measures. Erased: everything typed about the person."""

import logging
from datetime import datetime

from sqlmodel import Session, col, or_, select, update

from app.core.storage import delete_after_commit
from app.models.appointments import Appointment
from app.models.attachments import Attachment
from app.models.audit import AuditAction
from app.models.beneficiaries import Beneficiary
from app.models.cases import Case, Episode, Interaction
from app.models.deliverables import ActionPlan, ActionStep, Deliverable, DeliverableVersion
from app.models.notifications import Notification
from app.models.outbox import MessageStatus, OutboxMessage
from app.models.partners import Referral, ReferralEvent
from app.models.rights import AccessArchive, RightsRequest
from app.models.staff import StaffUser
from app.models.surveys import SurveyInvitation, SurveyResponse
from app.models.triage import TriageRequest
from app.services.audit.changes import changes_unrecorded
from app.services.audit.trail import record
from app.services.booking.waiting_list import forget_person
from app.services.personal_space.links import delete_links_of

log = logging.getLogger(__name__)

ANONYMOUS_FIRST_NAME = "Personne"
ANONYMOUS_LAST_NAME = "anonymisée"
NOTIFICATION_TEXT = "Personne anonymisée (durée de conservation écoulée)"


def anonymise(
    *, session: Session, person: Beneficiary, now: datetime, actor: StaffUser | None = None
) -> bool:
    """Erase the person's identity and everything typed about them; False when already done.
    `actor`: the staff member who asked (an erasure request); None for the retention job.

    Files are deleted once the transaction commits: should it roll back, the person is not
    marked anonymised and keeps every file, which the next run deletes."""
    if person.anonymised_at is not None:
        return False
    case_ids = list(session.exec(select(Case.id).where(col(Case.beneficiary_id) == person.id)))
    # One ANONYMISE entry below says it all, rather than a CHANGE per row touched.
    with changes_unrecorded(session):
        _erase_messages(session, person, case_ids)
        # No way into a personal space is left: its links go, live or not.
        delete_links_of(session=session, person_id=person.id)
        _erase_identity(session, person, now)
        _erase_case_texts(session, case_ids)
        _erase_person_texts(session, person.id)
        # Off the waiting lists, their availabilities erased, a slot held for them released.
        forget_person(session=session, person_id=person.id, now=now)
        keys = [
            *_drop_deliverable_texts(session, case_ids, now),
            *_drop_attachments(session, case_ids, now),
            *_drop_access_archives(session, person.id, now),
        ]
        session.flush()
    delete_after_commit(session, keys)
    record(
        session,
        actor=actor,
        action=AuditAction.ANONYMISE,
        record_type="beneficiary",
        record_id=person.id,
        beneficiary_id=person.id,
        operator_id=person.operator_id,
    )
    log.info("beneficiary %d anonymised, %d files to delete", person.id, len(keys))
    return True


def _erase_identity(session: Session, person: Beneficiary, now: datetime) -> None:
    person.first_name = ANONYMOUS_FIRST_NAME
    person.last_name = ANONYMOUS_LAST_NAME
    person.email = None
    person.phone = None
    # Nothing left to search on: the staff search and the API's never find the person again.
    person.search_text = ""
    person.anonymised_at = now
    person.updated_at = now
    session.add(person)


def _erase_case_texts(session: Session, case_ids: list[int]) -> None:
    """Free text and private notes of the cases and everything recorded in them."""
    in_cases = col(Case.id).in_(case_ids)
    session.exec(update(Case).where(in_cases).values(request_text="", close_note=""))
    session.exec(update(Episode).where(col(Episode.case_id).in_(case_ids)).values(outcome=""))
    session.exec(
        update(Interaction)
        .where(col(Interaction.case_id).in_(case_ids))
        .values(summary="", private_notes="")
    )
    session.exec(
        update(ActionStep).where(col(ActionStep.case_id).in_(case_ids)).values(description="")
    )
    session.exec(
        update(ActionPlan).where(col(ActionPlan.case_id).in_(case_ids)).values(objective="")
    )
    referrals = select(Referral.id).where(col(Referral.case_id).in_(case_ids))
    session.exec(
        update(Referral)
        .where(col(Referral.case_id).in_(case_ids))
        .values(purpose="", shared_information="", decline_reason="", outcome_note="")
    )
    session.exec(
        update(ReferralEvent).where(col(ReferralEvent.referral_id).in_(referrals)).values(note="")
    )
    session.exec(
        update(Notification)
        .where(col(Notification.case_id).in_(case_ids))
        .values(text=NOTIFICATION_TEXT)
    )


def _erase_person_texts(session: Session, person_id: int) -> None:
    """What the person typed when booking, asking or answering a survey."""
    session.exec(
        update(Appointment)
        .where(col(Appointment.beneficiary_id) == person_id)
        .values(request_text="", booking_answer="", cancel_reason="")
    )
    session.exec(
        update(TriageRequest)
        .where(col(TriageRequest.beneficiary_id) == person_id)
        .values(request_text="", first_advice="", redirect_reason="")
    )
    invitations = select(SurveyInvitation.id).where(
        col(SurveyInvitation.beneficiary_id) == person_id
    )
    responses = select(SurveyResponse).where(col(SurveyResponse.invitation_id).in_(invitations))
    for response in session.exec(responses):
        # The measures (satisfied, useful) and the chosen options stay; the free text goes.
        typed = set(filter(None, response.comment.split("\n\n")))
        response.answers = {
            key: value
            for key, value in response.answers.items()
            # A choice of several options is a list, never typed text.
            if not (isinstance(value, str) and value in typed)
        }
        response.comment = ""
        session.add(response)


def _erase_messages(session: Session, person: Beneficiary, case_ids: list[int]) -> None:
    """The e-mails and SMS about the person: their address or number and text; one not sent
    yet never will be."""
    about = [col(OutboxMessage.case_id).in_(case_ids)]
    if person.email:
        about.append(col(OutboxMessage.recipient) == person.email)
    if person.phone:
        about.append(col(OutboxMessage.recipient) == person.phone)
    messages = select(OutboxMessage).where(or_(*about))
    for message in session.exec(messages):
        if message.status in (MessageStatus.PENDING, MessageStatus.SENDING):
            message.status = MessageStatus.FAILED.value
            message.last_error = "Destinataire anonymisé"
        message.recipient = ""
        message.subject = ""
        message.body_text = ""
        message.body_html = None
        message.attachments = []
        message.payload = None
        session.add(message)


def _drop_deliverable_texts(session: Session, case_ids: list[int], now: datetime) -> list[str]:
    """Empty the drafts' sections and the issued versions' printed content, revoke their
    links; the storage keys of the issued PDFs to delete."""
    deliverables = list(
        session.exec(select(Deliverable).where(col(Deliverable.case_id).in_(case_ids)))
    )
    for deliverable in deliverables:
        deliverable.sections = [{**section, "body": ""} for section in deliverable.sections]
        session.add(deliverable)
    versions = select(DeliverableVersion).where(
        col(DeliverableVersion.deliverable_id).in_([d.id for d in deliverables]),
        col(DeliverableVersion.file_deleted_at).is_(None),
    )
    keys = []
    for version in session.exec(versions):
        version.content = _scrubbed(version.content)
        if version.link_is_live:
            version.link_nonce = None
            version.link_revoked_at = now
        version.file_deleted_at = now
        keys.append(version.storage_key)
        session.add(version)
    session.flush()
    return _no_longer_shown(session, keys)


def _no_longer_shown(session: Session, keys: list[str]) -> list[str]:
    """The keys no version kept still points at. A generated dataset (app/synthetic) prints
    one placeholder PDF per kind for all its versions: erasing one person's must not take
    everybody else's."""
    shown = select(DeliverableVersion.storage_key).where(
        col(DeliverableVersion.storage_key).in_(keys),
        col(DeliverableVersion.file_deleted_at).is_(None),
    )
    still_shown = set(session.exec(shown)) if keys else set()
    return [key for key in keys if key not in still_shown]


def _scrubbed(content: dict) -> dict:
    """A version's printed content without the person's name nor anything typed about them."""
    sections = [{**section, "body": ""} for section in content.get("sections", [])]
    return {
        **content,
        "beneficiary_name": f"{ANONYMOUS_FIRST_NAME} {ANONYMOUS_LAST_NAME}",
        "sections": sections,
        "action_plan": None,
    }


def _drop_attachments(session: Session, case_ids: list[int], now: datetime) -> list[str]:
    """Mark the case's files « supprimé » (the name the user gave may carry the person's);
    their storage keys to delete."""
    attachments = select(Attachment).where(
        col(Attachment.case_id).in_(case_ids), col(Attachment.file_deleted_at).is_(None)
    )
    keys = []
    for attachment in session.exec(attachments):
        attachment.filename = f"piece-{attachment.id}"
        attachment.description = ""
        attachment.file_deleted_at = now
        keys.append(attachment.storage_key)
        session.add(attachment)
    return keys


def _drop_access_archives(session: Session, person_id: int, now: datetime) -> list[str]:
    """An access archive prepared for the person holds everything erased above: its file
    goes too, before its own expiry."""
    requests = select(RightsRequest.id).where(col(RightsRequest.beneficiary_id) == person_id)
    archives = select(AccessArchive).where(
        col(AccessArchive.request_id).in_(requests), col(AccessArchive.archive_key).is_not(None)
    )
    keys = []
    for archive in session.exec(archives):
        keys.append(archive.archive_key)
        archive.archive_key = None
        archive.deleted_at = now
        session.add(archive)
    return keys
