"""Deliverables (livrables): drafted from what the case recorded, issued as frozen PDF versions.

"Le chemin produit le parchemin": a draft starts from the work recorded on the case (see
prefill.py); the counsellor edits it, previews its PDF; issuing freezes its content and PDF."""

from sqlmodel import Session, select

from app.core.db import all_or_nothing
from app.core.errors import Conflict, Invalid, NotFound
from app.core.storage import get_storage, sha256_of
from app.models.base import utcnow
from app.models.beneficiaries import Beneficiary
from app.models.cases import Case, Episode
from app.models.catalogue import DeliverableKind
from app.models.deliverables import (
    ActionStep,
    Deliverable,
    DeliverableDraft,
    DeliverableStatus,
    DeliverableVersion,
)
from app.models.fields import without_nul
from app.models.operators import Operator, Site
from app.models.outbox import OutboxMessage
from app.models.staff import StaffUser
from app.services.access.scope import get_owned, load_owned, readable
from app.services.cases.lifecycle import case_time_zone, get_case, touch
from app.services.deliverables.action_plan import plan_snapshot
from app.services.deliverables.feed_order import next_feed_seq
from app.services.deliverables.pdf import render_deliverable_pdf
from app.services.deliverables.prefill import prefilled_sections

MAX_SECTION_LENGTH = 20_000


# ---- drafting -----------------------------------------------------------------------------


def start_draft(
    *, session: Session, actor: StaffUser, case_id: int, data: DeliverableDraft
) -> Deliverable:
    """A new draft of the given kind, pre-filled from the case (and from one episode if given)."""
    case = _open_case(session, actor, case_id)
    kind = get_owned(session, DeliverableKind, data.kind_id, case.operator_id)
    if kind is None or not kind.active:
        raise Invalid({"kind_id": "Type de livrable inconnu"})
    if data.episode_id is not None:
        episode = session.get(Episode, data.episode_id)
        if episode is None or episode.case_id != case.id:
            raise Invalid({"episode_id": "Cette unité n'appartient pas au dossier"})
        if episode.is_cancelled:
            raise Invalid({"episode_id": "Cette unité a été annulée"})
    deliverable = Deliverable(
        operator_id=case.operator_id,
        case_id=case.id,
        kind_id=kind.id,
        episode_id=data.episode_id,
        title=kind.label,
        sections=prefilled_sections(session, case, kind, data.episode_id),
        includes_action_plan=kind.includes_action_plan,
        created_by_id=actor.id,
    )
    touch(case)
    session.add_all([deliverable, case])
    session.flush()
    return deliverable


@all_or_nothing
def save_draft(
    *, session: Session, actor: StaffUser, deliverable_id: int, bodies: dict[str, str]
) -> Deliverable:
    """Save edited section bodies (by key); an issued deliverable becomes the next version's draft."""
    deliverable = get_deliverable(session=session, actor=actor, deliverable_id=deliverable_id)
    case = _open_case(session, actor, deliverable.case_id)
    _check_lengths(bodies)
    sections = [dict(s) for s in deliverable.sections]
    changed = False
    for section in sections:
        if section["key"] in bodies:
            body = _tidy(bodies[section["key"]])
            changed |= body != section["body"]
            section["body"] = body
    if changed:
        deliverable.sections = sections
        deliverable.status = DeliverableStatus.DRAFT
        deliverable.updated_at = utcnow()
        touch(case)
        session.add_all([deliverable, case])
        session.flush()
    return deliverable


def _check_lengths(bodies: dict[str, str]) -> None:
    errors = {
        f"section-{key}": f"Texte trop long ({MAX_SECTION_LENGTH} caractères au plus)"
        for key, body in bodies.items()
        if len(body) > MAX_SECTION_LENGTH
    }
    if errors:
        raise Invalid(errors)


def _tidy(body: str) -> str:
    return without_nul(body).replace("\r\n", "\n").strip()


# ---- issuing ------------------------------------------------------------------------------


@all_or_nothing
def issue_deliverable(
    *,
    session: Session,
    actor: StaffUser,
    deliverable_id: int,
    bodies: dict[str, str] | None = None,
    issued_at=None,
) -> DeliverableVersion:
    """Freeze the draft as the next version: content snapshot, PDF stored with its SHA-256.

    `bodies` are the sections as last typed (the editor's issue button submits them): saved
    first, and not at all when the version cannot be issued. `issued_at` is for imports and the
    demo's history; people always issue "now"."""
    if bodies:
        save_draft(session=session, actor=actor, deliverable_id=deliverable_id, bodies=bodies)
    deliverable = get_deliverable(session=session, actor=actor, deliverable_id=deliverable_id)
    case = _open_case(session, actor, deliverable.case_id)
    if deliverable.status == DeliverableStatus.ISSUED:
        raise Conflict(
            "Cette version est déjà émise : modifiez le livrable pour en préparer une autre."
        )
    number = deliverable.version_count + 1
    issued_at = (issued_at or utcnow()).replace(microsecond=0)
    content = version_content(session, case, deliverable, actor, number, issued_at)
    pdf = render_deliverable_pdf(content)
    storage = get_storage()
    key = storage.save(pdf)
    version = DeliverableVersion(
        operator_id=case.operator_id,
        deliverable_id=deliverable.id,
        number=number,
        content=content,
        storage_key=key,
        sha256=sha256_of(pdf),
        size_bytes=len(pdf),
        issued_at=issued_at,
        issued_by_id=actor.id,
        feed_seq=0,  # numbered below, once everything else is written
    )
    deliverable.version_count = number
    deliverable.status = DeliverableStatus.ISSUED
    deliverable.updated_at = issued_at
    touch(case, issued_at)
    try:
        session.add_all([deliverable, case])
        session.flush()
        # Last, so that the operator's lock is held from here to the commit only.
        version.feed_seq = next_feed_seq(session, case.operator_id)
        session.add(version)
        session.flush()
    except Exception:
        storage.delete(key)  # nothing left behind when the row cannot be written
        raise
    return version


def preview_pdf(
    *,
    session: Session,
    actor: StaffUser,
    deliverable_id: int,
    bodies: dict[str, str] | None = None,
) -> tuple[bytes, str]:
    """The PDF that issuing would freeze now, marked « Aperçu – non émis », and its file name;
    nothing is stored.

    `bodies` are the sections as typed on the page and not yet saved: shown, never written."""
    deliverable = get_deliverable(session=session, actor=actor, deliverable_id=deliverable_id)
    case = get_case(session=session, actor=actor, case_id=deliverable.case_id)
    _check_lengths(bodies or {})
    sections = [
        {**section, "body": _tidy(bodies[section["key"]])}
        if bodies and section["key"] in bodies
        else section
        for section in deliverable.sections
    ]
    number = deliverable.version_count + 1
    now = utcnow().replace(microsecond=0)
    content = version_content(session, case, deliverable, actor, number, now, sections=sections)
    pdf = render_deliverable_pdf({**content, "preview": True})
    return pdf, f"apercu-{pdf_filename(case, deliverable, number)}"


def version_content(
    session: Session,
    case: Case,
    deliverable: Deliverable,
    actor: StaffUser,
    number,
    issued_at,
    sections: list[dict] | None = None,
) -> dict:
    """Everything the PDF prints, frozen as it was when the version was issued (a preview
    passes the sections as typed)."""
    sections = deliverable.sections if sections is None else sections
    beneficiary = session.get(Beneficiary, case.beneficiary_id)
    site = session.get(Site, case.site_id) if case.site_id else None
    kind = session.get(DeliverableKind, deliverable.kind_id)
    steps = None
    if deliverable.includes_action_plan:
        steps = plan_snapshot(_steps_of(session, case.id))
    return {
        "title": deliverable.title,
        "kind_label": kind.label,
        "version": number,
        "operator_name": session.get(Operator, case.operator_id).name,
        "site_name": site.name if site else None,
        "case_reference": case.reference,
        "beneficiary_name": beneficiary.full_name,
        "counsellor_name": actor.full_name,
        "issued_at": issued_at.isoformat(),
        "time_zone": case_time_zone(session, case),
        "sections": [{"title": s["title"], "body": s["body"]} for s in sections],
        "action_plan": steps,
    }


def _steps_of(session: Session, case_id: int) -> list[ActionStep]:
    query = select(ActionStep).where(ActionStep.case_id == case_id)
    return list(session.exec(query.order_by(ActionStep.position, ActionStep.id)))


# ---- reading ------------------------------------------------------------------------------


def get_deliverable(*, session: Session, actor: StaffUser, deliverable_id: int) -> Deliverable:
    return load_owned(session, Deliverable, deliverable_id, actor)


def deliverables_of_case(*, session: Session, actor: StaffUser, case_id: int) -> list[Deliverable]:
    case = get_case(session=session, actor=actor, case_id=case_id)
    query = select(Deliverable).where(Deliverable.case_id == case.id)
    return list(session.exec(query.order_by(Deliverable.created_at, Deliverable.id)))


def versions_by_deliverable(
    session: Session, deliverable_ids: list[int]
) -> dict[int, list[DeliverableVersion]]:
    """Issued versions of several deliverables in one query, newest first."""
    found: dict[int, list[DeliverableVersion]] = {i: [] for i in deliverable_ids}
    if not deliverable_ids:
        return found
    query = select(DeliverableVersion).where(DeliverableVersion.deliverable_id.in_(deliverable_ids))
    for version in session.exec(query.order_by(DeliverableVersion.number.desc())):
        found[version.deliverable_id].append(version)
    return found


def get_issued(
    *, session: Session, actor: StaffUser, deliverable_id: int, number: int
) -> tuple[Deliverable, DeliverableVersion]:
    """A deliverable and its issued version `number`, loaded once (NotFound outside the scope)."""
    deliverable = get_deliverable(session=session, actor=actor, deliverable_id=deliverable_id)
    query = readable(DeliverableVersion, actor).where(
        DeliverableVersion.deliverable_id == deliverable.id, DeliverableVersion.number == number
    )
    version = session.exec(query).first()
    if version is None:
        raise NotFound()
    return deliverable, version


def get_version(
    *, session: Session, actor: StaffUser, deliverable_id: int, number: int
) -> DeliverableVersion:
    _, version = get_issued(
        session=session, actor=actor, deliverable_id=deliverable_id, number=number
    )
    return version


# An issued PDF or an attachment whose file went when the person was anonymised (retention).
DELETED_WITH_THE_PERSON = "Ce fichier a été supprimé : la personne a été anonymisée."


def sharing_messages(
    session: Session, versions: list[DeliverableVersion]
) -> dict[int, OutboxMessage]:
    """The e-mails that shared these versions, by id, for their delivery state."""
    ids = [v.shared_message_id for v in versions if v.shared_message_id]
    if not ids:
        return {}
    found = session.exec(select(OutboxMessage).where(OutboxMessage.id.in_(ids)))
    return {message.id: message for message in found}


def version_pdf(version: DeliverableVersion) -> bytes:
    if version.file_deleted_at is not None:
        raise NotFound(DELETED_WITH_THE_PERSON)
    return get_storage().read(version.storage_key)


def pdf_filename(case: Case, deliverable: Deliverable, number: int) -> str:
    slug = "".join(c if c.isalnum() else "-" for c in deliverable.title.lower()).strip("-")
    return f"{slug}-{case.reference}-v{number}.pdf"


def _open_case(session: Session, actor: StaffUser, case_id: int) -> Case:
    case = get_case(session=session, actor=actor, case_id=case_id)
    if not case.is_open:
        raise Conflict("Ce dossier est clos : rouvrez-le pour modifier ses livrables.")
    return case
