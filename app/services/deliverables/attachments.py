"""Attachments (pièces jointes): files kept with a case, readable by its operator's staff only."""

from collections.abc import Iterator
from dataclasses import dataclass, field

from sqlmodel import Session, select

from app.core.config import get_settings
from app.core.errors import Invalid, NotFound
from app.core.files import ACCEPT_ATTRIBUTE, Upload, size_label, type_label
from app.core.storage import CHUNK, get_storage
from app.models.attachments import Attachment
from app.models.cases import Case
from app.models.fields import without_nul
from app.models.staff import StaffUser
from app.services.access.scope import load_owned
from app.services.cases.lifecycle import case_time_zone, get_case, touch

MAX_DESCRIPTION = 200


@dataclass
class AttachmentRow:
    attachment: Attachment
    uploaded_by: str

    @property
    def type_label(self) -> str:
        return type_label(self.attachment.content_type)

    @property
    def size_label(self) -> str:
        return size_label(self.attachment.size_bytes)


@dataclass
class AttachmentPanel:
    """What the attachments section of a case page shows."""

    case: Case
    time_zone: str
    rows: list[AttachmentRow]
    accept: str = ACCEPT_ATTRIBUTE
    max_upload_mb: int = field(default_factory=lambda: get_settings().max_upload_mb)


def add_attachment(
    *, session: Session, actor: StaffUser, case_id: int, upload: Upload, description: str = ""
) -> Attachment:
    """Keep a received file with a case. Closed cases take files too: proofs often come late."""
    description = _clean_description(description)
    case = get_case(session=session, actor=actor, case_id=case_id)
    storage = get_storage()
    key = storage.save_file(upload.path)
    try:
        attachment = Attachment(
            operator_id=case.operator_id,
            case_id=case.id,
            filename=upload.filename,
            content_type=upload.content_type,
            size_bytes=upload.size,
            sha256=upload.sha256,
            storage_key=key,
            description=description,
            uploaded_by_id=actor.id,
        )
        session.add(attachment)
        touch(case)
        session.add(case)
        session.flush()
    except BaseException:
        storage.delete(key)  # no file without its row
        raise
    return attachment


def _clean_description(text: str) -> str:
    text = " ".join(without_nul(text).split())
    if len(text) > MAX_DESCRIPTION:
        raise Invalid({"description": f"Trop long : {MAX_DESCRIPTION} caractères au plus"})
    return text


def list_attachments(*, session: Session, actor: StaffUser, case_id: int) -> list[Attachment]:
    """A case's attachments, newest first."""
    case = get_case(session=session, actor=actor, case_id=case_id)
    statement = (
        select(Attachment)
        .where(Attachment.case_id == case.id)
        .order_by(Attachment.uploaded_at.desc(), Attachment.id.desc())
    )
    return list(session.exec(statement))


def get_attachment(*, session: Session, actor: StaffUser, attachment_id: int) -> Attachment:
    return load_owned(session, Attachment, attachment_id, actor)


def open_attachment(
    *, session: Session, actor: StaffUser, attachment_id: int
) -> tuple[Attachment, Iterator[bytes]]:
    """An attachment and its content, opened now so that a missing file is a 404, not a cut-off download."""
    attachment = get_attachment(session=session, actor=actor, attachment_id=attachment_id)
    if attachment.file_deleted:
        raise NotFound("Ce fichier a été supprimé : la personne a été anonymisée.")
    try:
        handle = get_storage().open(attachment.storage_key)
    except FileNotFoundError as exc:
        raise NotFound("Le fichier de cette pièce jointe est introuvable.") from exc
    return attachment, _chunks(handle)


def _chunks(handle) -> Iterator[bytes]:
    with handle:
        while chunk := handle.read(CHUNK):
            yield chunk


def attachment_panel(*, session: Session, actor: StaffUser, case_id: int) -> AttachmentPanel:
    case = get_case(session=session, actor=actor, case_id=case_id)
    attachments = list_attachments(session=session, actor=actor, case_id=case_id)
    uploader_ids = {a.uploaded_by_id for a in attachments if a.uploaded_by_id is not None}
    statement = select(StaffUser.id, StaffUser.full_name).where(StaffUser.id.in_(uploader_ids))
    names = dict(session.exec(statement).all()) if uploader_ids else {}
    rows = [AttachmentRow(a, names.get(a.uploaded_by_id, "")) for a in attachments]
    return AttachmentPanel(case=case, time_zone=case_time_zone(session, case), rows=rows)
