"""What the deliverable pages and the API show: the editor page with its versions, the
deliverables of a case with their kind and versions, a version's PDF as a download."""

from dataclasses import dataclass

from sqlmodel import Session, select

from app.models.beneficiaries import Beneficiary
from app.models.cases import Case
from app.models.catalogue import DeliverableKind
from app.models.deliverables import ActionStep, Deliverable, DeliverableVersion
from app.models.outbox import OutboxMessage
from app.models.staff import StaffUser
from app.services.cases.lifecycle import case_time_zone
from app.services.deliverables.action_plan import list_steps
from app.services.deliverables.documents import (
    deliverables_of_case,
    get_deliverable,
    get_issued,
    pdf_filename,
    sharing_messages,
    version_pdf,
    versions_by_deliverable,
)
from app.services.deliverables.sharing import link_revokers


@dataclass
class DeliverablePage:
    """The editor of one deliverable, and its issued versions with how they were shared."""

    deliverable: Deliverable
    kind: DeliverableKind
    case: Case
    beneficiary: Beneficiary
    versions: list[DeliverableVersion]
    messages: dict[int, OutboxMessage]
    revokers: dict[int, str]
    steps: list[ActionStep]
    time_zone: str


@dataclass
class DeliverableWithVersions:
    """A deliverable as the API gives it: its kind's code and its versions, newest first."""

    deliverable: Deliverable
    kind_code: str
    versions: list[DeliverableVersion]


def deliverable_page(*, session: Session, actor: StaffUser, deliverable_id: int) -> DeliverablePage:
    deliverable = get_deliverable(session=session, actor=actor, deliverable_id=deliverable_id)
    case = session.get(Case, deliverable.case_id)
    versions = versions_by_deliverable(session, [deliverable.id])[deliverable.id]
    steps = (
        list_steps(session=session, actor=actor, case_id=case.id)
        if deliverable.includes_action_plan
        else []
    )
    return DeliverablePage(
        deliverable=deliverable,
        kind=session.get(DeliverableKind, deliverable.kind_id),
        case=case,
        beneficiary=session.get(Beneficiary, case.beneficiary_id),
        versions=versions,
        messages=sharing_messages(session, versions),
        revokers=link_revokers(session, versions),
        steps=steps,
        time_zone=case_time_zone(session, case),
    )


def _kind_codes(session: Session, kind_ids: set[int]) -> dict[int, str]:
    """The codes of several deliverable kinds, by id, in one query."""
    if not kind_ids:
        return {}
    query = select(DeliverableKind.id, DeliverableKind.code)
    return dict(session.exec(query.where(DeliverableKind.id.in_(list(kind_ids)))).all())


def _with_versions(
    session: Session, deliverables: list[Deliverable]
) -> list[DeliverableWithVersions]:
    versions = versions_by_deliverable(session, [d.id for d in deliverables])
    codes = _kind_codes(session, {d.kind_id for d in deliverables})
    return [DeliverableWithVersions(d, codes[d.kind_id], versions[d.id]) for d in deliverables]


def deliverables_with_versions(
    *, session: Session, actor: StaffUser, case_id: int
) -> list[DeliverableWithVersions]:
    """The case's deliverables, oldest first, each with its issued versions."""
    found = deliverables_of_case(session=session, actor=actor, case_id=case_id)
    return _with_versions(session, found)


def deliverable_with_versions(
    *, session: Session, actor: StaffUser, deliverable_id: int
) -> DeliverableWithVersions:
    deliverable = get_deliverable(session=session, actor=actor, deliverable_id=deliverable_id)
    return _with_versions(session, [deliverable])[0]


def version_download(
    *, session: Session, actor: StaffUser, deliverable_id: int, number: int
) -> tuple[bytes, str]:
    """The stored PDF of an issued version, and the name it is downloaded under."""
    deliverable, version = get_issued(
        session=session, actor=actor, deliverable_id=deliverable_id, number=number
    )
    case = session.get(Case, deliverable.case_id)
    return version_pdf(version), pdf_filename(case, deliverable, number)
