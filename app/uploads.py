"""Receiving uploaded files: streamed to a temporary file under a size limit, typed by content."""

import hashlib
import re
import unicodedata
import zipfile
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, BinaryIO

import filetype
from fastapi import Depends, Request
from python_multipart.exceptions import FormParserError
from python_multipart.multipart import MultipartParser, parse_options_header
from starlette.concurrency import run_in_threadpool
from starlette.requests import ClientDisconnect

from app.config import get_settings
from app.deps import CSRF_FIELD, expected_csrf_token
from app.errors import DomainError, Forbidden, Invalid
from app.security import tokens_match
from app.storage import LocalStorage, get_storage

FILE_FIELD = "file"
MAX_FIELDS = 10
MAX_FIELD_BYTES = 4096
# Room for the small fields, the part headers and the boundaries around the file.
FORM_OVERHEAD = 128 * 1024
# A refused body this close to the limit is still read (and dropped): a browser that is
# cut off while it sends shows "connection reset" instead of our message.
DRAIN_FACTOR = 4
SNIFF_BYTES = 8192
MAX_FILENAME = 120

# Zip-based documents are only ever listed, never extracted.
MAX_ARCHIVE_ENTRIES = 2000
MAX_UNCOMPRESSED = 100 * 1024 * 1024
MAX_RATIO = 100
# Under this, even an absurd ratio cannot hurt whoever opens the file.
RATIO_FLOOR = 10 * 1024 * 1024


@dataclass(frozen=True)
class FileKind:
    label: str
    extensions: tuple[str, ...]


DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
PPTX = "application/vnd.openxmlformats-officedocument.presentationml.presentation"
ODT = "application/vnd.oasis.opendocument.text"
ODS = "application/vnd.oasis.opendocument.spreadsheet"
ODP = "application/vnd.oasis.opendocument.presentation"
ACCEPTED: dict[str, FileKind] = {
    "application/pdf": FileKind("PDF", ("pdf",)),
    "image/jpeg": FileKind("Image JPEG", ("jpg", "jpeg")),
    "image/png": FileKind("Image PNG", ("png",)),
    "image/webp": FileKind("Image WebP", ("webp",)),
    "image/heic": FileKind("Photo HEIC", ("heic",)),
    "image/tiff": FileKind("Image TIFF", ("tif", "tiff")),
    DOCX: FileKind("Document Word", ("docx",)),
    XLSX: FileKind("Classeur Excel", ("xlsx",)),
    PPTX: FileKind("Présentation PowerPoint", ("pptx",)),
    ODT: FileKind("Texte OpenDocument", ("odt",)),
    ODS: FileKind("Classeur OpenDocument", ("ods",)),
    ODP: FileKind("Présentation OpenDocument", ("odp",)),
    "application/msword": FileKind("Document Word 97-2003", ("doc",)),
    "application/vnd.ms-excel": FileKind("Classeur Excel 97-2003", ("xls",)),
    "application/vnd.ms-powerpoint": FileKind("Présentation PowerPoint 97-2003", ("ppt",)),
}
# The file picker's filter: a convenience only, the content decides.
ACCEPT_ATTRIBUTE = ",".join(f".{ext}" for kind in ACCEPTED.values() for ext in kind.extensions)
_ZIP_TYPES = {DOCX, XLSX, PPTX, ODT, ODS, ODP}
_OOXML_PARTS = (("word/", DOCX), ("xl/", XLSX), ("ppt/", PPTX))

_ZIP_MAGIC = b"PK\x03\x04"
_EXECUTABLE_MAGIC = (
    b"\x7fELF",  # Linux
    b"MZ",  # Windows
    b"\xfe\xed\xfa\xce",  # macOS (Mach-O, both byte orders, 32 and 64 bits)
    b"\xfe\xed\xfa\xcf",
    b"\xce\xfa\xed\xfe",
    b"\xcf\xfa\xed\xfe",
    b"\xca\xfe\xba\xbe",  # macOS universal binary, Java class
    b"#!",  # scripts
)
_REFUSED_TYPE = (
    "Ce type de fichier n'est pas accepté : envoyez un PDF, une image (JPEG, PNG, WebP, HEIC, "
    "TIFF) ou un document bureautique (Word, Excel, PowerPoint, OpenDocument)."
)


class UploadRefused(DomainError):
    """A file that is not kept; the message belongs next to the file field."""

    field = FILE_FIELD


class FileTooLarge(UploadRefused):
    status_code = 413


class FileTypeRefused(UploadRefused):
    status_code = 415
    default_message = _REFUSED_TYPE


class SuspiciousArchive(UploadRefused):
    status_code = 422
    default_message = "Archive suspecte (bombe de décompression) : fichier refusé."


class MissingFile(UploadRefused):
    status_code = 422
    default_message = "Choisissez un fichier à ajouter."


class MalformedUpload(UploadRefused):
    status_code = 400
    default_message = "Envoi illisible ou interrompu : réessayez."


@dataclass(frozen=True)
class Upload:
    """A received file, checked and typed, still at its temporary path."""

    path: Path
    filename: str
    content_type: str
    size: int
    sha256: str
    fields: dict[str, str]


def max_upload_bytes() -> int:
    return get_settings().max_upload_mb * 1024 * 1024


def too_large() -> FileTooLarge:
    return FileTooLarge(f"Fichier trop volumineux : {get_settings().max_upload_mb} Mo au maximum.")


@dataclass(frozen=True)
class FileRules:
    """What one upload form takes: the file's field, its largest size, and whether the file is
    typed by its content (attachments) or left to the caller to read (a CSV to import)."""

    field: str
    max_bytes: int
    too_large_message: str
    missing_message: str = MissingFile.default_message
    typed: bool = True


def attachment_rules() -> FileRules:
    """Files kept with a case: FILROUGE_MAX_UPLOAD_MB, and only the accepted types."""
    return FileRules(FILE_FIELD, max_upload_bytes(), too_large().message)


@dataclass(frozen=True)
class Received:
    """A streamed upload's outcome: the checked file, or why it was refused (`refused.form`
    holds the small fields as typed, to show them again)."""

    upload: Upload | None = None
    refused: UploadRefused | Invalid | None = None


def _receiver_for(request: Request, rules: FileRules | None = None) -> "_Receiver":
    csrf_required = _csrf_left_to_us(request)
    return _Receiver(
        get_storage(),
        rules=rules or attachment_rules(),
        csrf_required=csrf_required,
        expected_csrf=expected_csrf_token(request) if csrf_required else None,
    )


async def _receive_checked(receiver: "_Receiver", request: Request) -> Upload:
    try:
        await receiver.receive(request)
        return await run_in_threadpool(receiver.checked)
    except DomainError as exc:
        exc.form = dict(receiver.fields)  # type: ignore[attr-defined]  # to show what was typed
        raise


@asynccontextmanager
async def received_upload(request: Request) -> AsyncIterator[Upload]:
    """Receive the multipart body's `file` part and check it; the temporary copy is gone on exit.

    Keep the file by moving it into the storage (`save_file`) inside the block."""
    receiver = _receiver_for(request)
    try:
        yield await _receive_checked(receiver, request)
    finally:
        receiver.discard()


async def streamed_upload(request: Request) -> AsyncIterator[Received]:
    """Dependency of a plain `def` endpoint: the file arrives on the event loop (async reads,
    disk writes in threads) before the endpoint runs; the temporary copy is gone afterwards."""
    receiver = _receiver_for(request)
    try:
        yield await _received(receiver, request)
    finally:
        receiver.discard()


ReceivedUpload = Annotated[Received, Depends(streamed_upload)]


def streamed_upload_under(rules: FileRules) -> Callable[[Request], AsyncIterator[Received]]:
    """streamed_upload for a form with rules of its own (another field, another limit)."""

    async def dependency(request: Request) -> AsyncIterator[Received]:
        receiver = _receiver_for(request, rules)
        try:
            yield await _received(receiver, request)
        finally:
            receiver.discard()

    return dependency


async def _received(receiver: "_Receiver", request: Request) -> Received:
    try:
        return Received(upload=await _receive_checked(receiver, request))
    except (UploadRefused, Invalid) as exc:
        return Received(refused=exc)


def _csrf_left_to_us(request: Request) -> bool:
    """verify_csrf (app/deps.py) leaves the token of a streamed form to the parser."""
    return getattr(request.state, "csrf_in_body", False)


@dataclass
class _Part:
    name: str = ""
    data: bytearray = field(default_factory=bytearray)


class _Receiver:
    """python-multipart callbacks: small fields to memory, the `file` part to a temporary file."""

    def __init__(
        self,
        storage: LocalStorage,
        *,
        rules: FileRules,
        csrf_required: bool,
        expected_csrf: str | None,
    ):
        self.storage = storage
        self.rules = rules
        self.max_bytes = rules.max_bytes
        self.csrf_required = csrf_required
        self.expected_csrf = expected_csrf
        self.csrf_seen = False
        self.fields: dict[str, str] = {}
        self.part = _Part()
        self.header_name = bytearray()
        self.header_value = bytearray()
        self.disposition = b""
        self.parts = 0
        self.discarding = False
        self.filename: str | None = None
        self.file_done = False
        self.size = 0
        self.digest = hashlib.sha256()
        self.pending: list[bytes] = []
        self.path: Path | None = None
        self.handle: BinaryIO | None = None

    # ---- the stream --------------------------------------------------------------------

    async def receive(self, request: Request) -> None:
        body_limit = self.max_bytes + FORM_OVERHEAD
        declared = _declared_length(request)
        if declared is not None and declared > DRAIN_FACTOR * body_limit:
            raise self._too_large()
        # Known to be too large but not absurdly so: read it all, keeping only the small fields,
        # for a browser cut off while it sends shows "connection reset" instead of our message.
        self.discarding = declared is not None and declared > body_limit
        parser = MultipartParser(_boundary(request, self.rules.field), self._callbacks())
        received = 0
        try:
            async for chunk in request.stream():
                received += len(chunk)
                if received > body_limit and not self.discarding:
                    raise self._too_large()
                parser.write(chunk)
                await self._write_pending()
            parser.finalize()
        except (FormParserError, ClientDisconnect) as exc:
            raise MalformedUpload() from exc
        finally:
            if self.handle is not None:
                await run_in_threadpool(self.handle.close)
        if self.discarding:
            raise self._too_large()
        self._check_complete()

    async def _write_pending(self) -> None:
        # Disk writes leave the event loop; the callbacks only queue the bytes.
        if not self.pending:
            return
        data = b"".join(self.pending)
        self.pending.clear()
        if self.handle is None:
            self.path = self.storage.temporary_path()
            self.handle = await run_in_threadpool(self.path.open, "xb")
        await run_in_threadpool(self.handle.write, data)

    def _check_complete(self) -> None:
        if self.csrf_required and not self.csrf_seen:
            raise _bad_csrf()
        if self.filename is None:
            raise MissingFile(self.rules.missing_message)
        if not self.file_done:
            raise MalformedUpload()
        if self.size == 0:
            raise MissingFile(
                "Le fichier est vide." if self.filename else self.rules.missing_message
            )

    def _too_large(self) -> FileTooLarge:
        return FileTooLarge(self.rules.too_large_message)

    def discard(self) -> None:
        if self.handle is not None:
            self.handle.close()
        if self.path is not None:
            self.path.unlink(missing_ok=True)

    # ---- python-multipart callbacks ----------------------------------------------------

    def _callbacks(self) -> dict:
        return {
            "on_part_begin": self._on_part_begin,
            "on_part_data": self._on_part_data,
            "on_part_end": self._on_part_end,
            "on_header_field": lambda data, start, end: self.header_name.extend(data[start:end]),
            "on_header_value": lambda data, start, end: self.header_value.extend(data[start:end]),
            "on_header_end": self._on_header_end,
            "on_headers_finished": self._on_headers_finished,
        }

    def _on_part_begin(self) -> None:
        self.parts += 1
        if self.parts > MAX_FIELDS + 1:
            raise MalformedUpload("Trop de champs dans le formulaire.")
        self.part = _Part()
        self.disposition = b""

    def _on_header_end(self) -> None:
        if bytes(self.header_name).strip().lower() == b"content-disposition":
            self.disposition = bytes(self.header_value)
        self.header_name.clear()
        self.header_value.clear()

    def _on_headers_finished(self) -> None:
        _kind, options = parse_options_header(self.disposition)
        if b"name" not in options:
            raise MalformedUpload()
        self.part.name = _decode(options[b"name"])
        if self.part.name != self.rules.field:
            return
        if self.filename is not None:
            raise MalformedUpload("Un seul fichier par envoi.")
        # The token must come before the file: nothing is written for a forged request.
        if self.csrf_required and not self.csrf_seen:
            raise _bad_csrf()
        self.filename = _decode(options.get(b"filename", b""))

    def _on_part_data(self, data: bytes, start: int, end: int) -> None:
        chunk = data[start:end]
        if self.part.name == self.rules.field:
            if self.discarding:
                return
            self.size += len(chunk)
            if self.size > self.max_bytes:
                raise self._too_large()
            self.digest.update(chunk)
            self.pending.append(chunk)
            return
        if len(self.part.data) + len(chunk) > MAX_FIELD_BYTES:
            raise Invalid({self.part.name[:40]: "Texte trop long."})
        self.part.data.extend(chunk)

    def _on_part_end(self) -> None:
        if self.part.name == self.rules.field:
            self.file_done = True
            return
        value = _decode(bytes(self.part.data))
        if self.part.name == CSRF_FIELD and self.csrf_required:
            if not tokens_match(self.expected_csrf, value):
                raise _bad_csrf()
            self.csrf_seen = True
        self.fields.setdefault(self.part.name, value)

    # ---- once received -----------------------------------------------------------------

    def checked(self) -> Upload:
        """Type the file by its content (blocking: runs in a worker thread)."""
        assert self.path is not None
        if self.rules.typed:
            content_type = sniff_content_type(self.path)
            filename = clean_filename(self.filename or "", content_type)
        else:  # the caller reads it as what it must be (a CSV, say)
            content_type, filename = "application/octet-stream", self.filename or ""
        return Upload(
            path=self.path,
            filename=filename,
            content_type=content_type,
            size=self.size,
            sha256=self.digest.hexdigest(),
            fields=dict(self.fields),
        )


def _bad_csrf() -> Forbidden:
    return Forbidden("Jeton de sécurité invalide ou expiré : rechargez la page et réessayez.")


def _declared_length(request: Request) -> int | None:
    value = request.headers.get("content-length", "")
    return int(value) if value.isdigit() else None


def _boundary(request: Request, field: str) -> bytes:
    kind, options = parse_options_header(request.headers.get("content-type"))
    if kind != b"multipart/form-data" or not options.get(b"boundary"):
        raise FileTypeRefused(
            f"Envoyez le fichier en multipart/form-data, dans le champ « {field} »."
        )
    return options[b"boundary"]


def _decode(raw: bytes) -> str:
    # Browsers send UTF-8 names as raw bytes; the header parser handed them over as latin-1.
    return raw.decode("utf-8", "replace").replace("\x00", "")


# ---- what the file is -----------------------------------------------------------------


def sniff_content_type(path: Path) -> str:
    """The type read from the content; the name and the browser's claim are ignored."""
    with path.open("rb") as handle:
        head = handle.read(SNIFF_BYTES)
    if head.startswith(_EXECUTABLE_MAGIC):
        raise FileTypeRefused("Ce type de fichier n'est pas accepté (fichier exécutable détecté).")
    if head.startswith(_ZIP_MAGIC):
        return zipped_document_type(path)
    guessed = filetype.guess_mime(head)
    if guessed in ACCEPTED and guessed not in _ZIP_TYPES:
        return guessed
    raise FileTypeRefused()


def zipped_document_type(path: Path) -> str:
    """An office document (OOXML or OpenDocument), checked from its listing, never extracted."""
    try:
        with zipfile.ZipFile(path) as archive:
            entries = archive.infolist()
            check_archive(entries, path.stat().st_size)
            return _document_type(archive, {entry.filename for entry in entries})
    except (
        zipfile.BadZipFile,
        EOFError,
        OSError,
        ValueError,
        RuntimeError,
        NotImplementedError,
    ) as exc:
        raise FileTypeRefused("Fichier endommagé ou illisible : il n'a pas été ajouté.") from exc


def check_archive(entries: list[zipfile.ZipInfo], archive_size: int) -> None:
    """Refuse what would flood whoever opens it: huge, absurdly compressed, or escaping paths."""
    total = sum(entry.file_size for entry in entries)
    if (
        len(entries) > MAX_ARCHIVE_ENTRIES
        or total > MAX_UNCOMPRESSED
        or (total > RATIO_FLOOR and total > MAX_RATIO * max(archive_size, 1))
        or any(_escapes(entry.filename) for entry in entries)
    ):
        raise SuspiciousArchive()


def _escapes(name: str) -> bool:
    parts = name.replace("\\", "/").split("/")
    return name.startswith(("/", "\\")) or ".." in parts or ":" in name or "\x00" in name


def _document_type(archive: zipfile.ZipFile, names: set[str]) -> str:
    if "mimetype" in names:
        with archive.open("mimetype") as handle:
            declared = handle.read(100).decode("ascii", "replace").strip()
        if declared in (ODT, ODS, ODP):
            return declared
    if "[Content_Types].xml" in names:
        if any(name.lower().endswith("vbaproject.bin") for name in names):
            raise FileTypeRefused(
                "Ce type de fichier n'est pas accepté (document contenant des macros)."
            )
        for prefix, content_type in _OOXML_PARTS:
            if any(name.startswith(prefix) for name in names):
                return content_type
    raise FileTypeRefused()


# ---- names --------------------------------------------------------------------------------


def clean_filename(raw: str, content_type: str) -> str:
    """A name to show and to offer on download: no path, no control character, the right extension."""
    name = unicodedata.normalize("NFC", raw)
    name = re.split(r"[\\/]", name)[-1]
    name = " ".join("".join(_printable(ch) for ch in name).split()).strip(" .")
    stem, dot, extension = name.rpartition(".")
    kind = ACCEPTED[content_type]
    if dot and extension.lower() in kind.extensions:
        return _shorten(stem, extension.lower())
    if dot and re.fullmatch(r"[A-Za-z0-9]{1,4}", extension):
        name = stem  # a misleading extension ("scan.pdf" that is a PNG) is replaced
    return _shorten(name, kind.extensions[0])


def _printable(ch: str) -> str:
    # "Cf" holds the right-to-left override that makes "gpj.exe" read as "exe.jpg".
    category = unicodedata.category(ch)
    if category == "Zs":
        return " "
    return "" if category[0] in "CZ" else ch


def _shorten(stem: str, extension: str) -> str:
    stem = stem.strip(" .")[: MAX_FILENAME - len(extension) - 1].rstrip(" .") or "piece-jointe"
    return f"{stem}.{extension}"


def type_label(content_type: str) -> str:
    kind = ACCEPTED.get(content_type)
    return kind.label if kind else content_type


def size_label(size: int) -> str:
    """French size: "850 octets", "12 Ko", "1,4 Mo"."""
    if size < 1024:
        return f"{size} octets"
    if size < 1024 * 1024:
        return f"{round(size / 1024)} Ko"
    return f"{size / (1024 * 1024):.1f} Mo".replace(".", ",")
