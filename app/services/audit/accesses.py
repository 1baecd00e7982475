"""The trail's entries for reading a person's record, called by the routes that show or send
it (one function per kind of record, so that each route says what it recorded).

Each read goes through `reason_to_read` first: a read of a file outside the actor's cases is
refused (ReasonRequired) until a reason is given, whichever route it comes through, and is
recorded with that reason. `reason`: the one the request gave (the API's `reason`)."""

from sqlmodel import Session

from app.models.attachments import Attachment
from app.models.audit import AuditAction
from app.models.cases import Case
from app.models.deliverables import Deliverable
from app.models.staff import StaffUser
from app.services.audit.outside_reads import reason_to_read
from app.services.audit.trail import record


def _read(
    session: Session,
    *,
    actor: StaffUser,
    record_type: str,
    record_id: int,
    beneficiary_id: int | None,
    operator_id: int | None = None,
    reason: str | None = None,
) -> None:
    reason = reason_to_read(session, actor=actor, beneficiary_id=beneficiary_id, given=reason)
    record(
        session,
        actor=actor,
        action=AuditAction.READ,
        record_type=record_type,
        record_id=record_id,
        beneficiary_id=beneficiary_id,
        operator_id=operator_id,
        reason=reason,
    )


def _read_in_case(
    session: Session,
    *,
    actor: StaffUser,
    record_type: str,
    record_id: int,
    case_id: int,
    reason: str | None = None,
) -> None:
    # Already loaded by the route's service (the identity map answers, no query).
    case = session.get(Case, case_id)
    _read(
        session,
        actor=actor,
        record_type=record_type,
        record_id=record_id,
        beneficiary_id=case.beneficiary_id if case else None,
        operator_id=case.operator_id if case else None,
        reason=reason,
    )


def case_read(
    session: Session, *, actor: StaffUser, case_id: int, reason: str | None = None
) -> None:
    """The case page, or the case through the API."""
    _read_in_case(
        session, actor=actor, record_type="case", record_id=case_id, case_id=case_id, reason=reason
    )


def beneficiary_read(
    session: Session, *, actor: StaffUser, beneficiary_id: int, reason: str | None = None
) -> None:
    """The person's page, or the person through the API."""
    _read(
        session,
        actor=actor,
        record_type="beneficiary",
        record_id=beneficiary_id,
        beneficiary_id=beneficiary_id,
        reason=reason,
    )


def deliverable_read(
    session: Session, *, actor: StaffUser, deliverable_id: int, reason: str | None = None
) -> None:
    """An issued document's PDF, or its preview."""
    deliverable = session.get(Deliverable, deliverable_id)
    _read_in_case(
        session,
        actor=actor,
        record_type="deliverable",
        record_id=deliverable_id,
        case_id=deliverable.case_id if deliverable else 0,
        reason=reason,
    )


def deliverable_editor_read(session: Session, *, actor: StaffUser, deliverable_id: int) -> None:
    """A document's editor page: its sections, versions and the person's name and e-mail."""
    deliverable = session.get(Deliverable, deliverable_id)
    case_id = deliverable.case_id if deliverable else 0
    _read_in_case(
        session,
        actor=actor,
        record_type="deliverable_editor",
        record_id=deliverable_id,
        case_id=case_id,
    )


def action_plan_read(session: Session, *, actor: StaffUser, case_id: int) -> None:
    """The case's action plan page, where its steps are written."""
    _read_in_case(
        session, actor=actor, record_type="action_plan", record_id=case_id, case_id=case_id
    )


def case_part_read(
    session: Session, *, actor: StaffUser, record_type: str, case_id: int, reason: str | None = None
) -> None:
    """Part of one case read through the API (its interactions): `record_type` names which."""
    _read_in_case(
        session,
        actor=actor,
        record_type=record_type,
        record_id=case_id,
        case_id=case_id,
        reason=reason,
    )


def list_read(session: Session, *, actor: StaffUser, record_type: str) -> None:
    """A page of several people's records read through the API (`case_list`,
    `beneficiary_list`, `beneficiary_search`, `triage_list`).

    One entry per request, naming the list, rather than one per record: a client syncing the
    caseload reads pages of 50 every few minutes, and an entry per row would grow the trail
    fifty-fold. What a page
    showed can still be told: who, when and which list; each record opened afterwards is a
    read of its own."""
    record(session, actor=actor, action=AuditAction.READ, record_type=record_type)


def attachment_read(
    session: Session, *, actor: StaffUser, attachment_id: int, reason: str | None = None
) -> None:
    """An attachment's file, downloaded."""
    attachment = session.get(Attachment, attachment_id)
    _read_in_case(
        session,
        actor=actor,
        record_type="attachment",
        record_id=attachment_id,
        case_id=attachment.case_id if attachment else 0,
        reason=reason,
    )


def case_file_read(session: Session, *, actor: StaffUser, case_id: int) -> None:
    """« Télécharger le dossier »: the page listing the case's documents and attachments."""
    _read_in_case(session, actor=actor, record_type="case_file", record_id=case_id, case_id=case_id)


def case_file_exported(
    session: Session,
    *,
    actor: StaffUser,
    case_id: int,
    purpose: str,
    attachment_ids: list[int] | None = None,
    pseudonymised: bool = False,
) -> None:
    """A case's whole file downloaded as a ZIP: an export of one person's documents, with its
    purpose as the reason, and one more entry for each attachment it holds (a payslip or an ID
    card taken out is told by its own entry, as its download would be). A pseudonymised file
    is its own kind of entry. Refused first (ReasonRequired) when the file is outside the
    actor's cases and no reason stands, as a read of any of its documents would be. The caller
    records within the export's savepoint: a failed build leaves none of these entries."""
    case = session.get(Case, case_id)  # loaded by the service, within the actor's scope
    reason_to_read(session, actor=actor, beneficiary_id=case.beneficiary_id)
    entries = [("case_file_pseudonymised" if pseudonymised else "case_file", case_id)]
    entries += [("attachment", attachment_id) for attachment_id in attachment_ids or []]
    for record_type, record_id in entries:
        record(
            session,
            actor=actor,
            action=AuditAction.EXPORT,
            record_type=record_type,
            record_id=record_id,
            beneficiary_id=case.beneficiary_id,
            operator_id=case.operator_id,
            reason=purpose,
        )


def exported(
    session: Session,
    *,
    actor: StaffUser,
    record_type: str,
    record_id: int | None = None,
    operator_id: int | None = None,
    purpose: str,
) -> None:
    """A file of several people's data sent out: a list of cases, a proof pack, the units
    feed, a control's history, survey comments. `operator_id`: whose data it is, when not the
    actor's own operator (a controller's proof pack is the controlled operator's). `purpose`:
    why, as stated (app/services/audit/purposes.py), kept as the entry's reason."""
    record(
        session,
        actor=actor,
        action=AuditAction.EXPORT,
        record_type=record_type,
        record_id=record_id,
        operator_id=operator_id,
        reason=purpose,
    )
