"""Receiving uploaded files: streamed to a temporary file under a size limit, typed by content."""

import hashlib
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, BinaryIO

from fastapi import Depends, Request
from python_multipart.exceptions import FormParserError
from python_multipart.multipart import MultipartParser, parse_options_header
from starlette.concurrency import run_in_threadpool
from starlette.requests import ClientDisconnect

from app.core.errors import DomainError, Forbidden, Invalid
from app.core.files import (
    FILE_FIELD,
    FileTooLarge,
    FileTypeRefused,
    MalformedUpload,
    MissingFile,
    Upload,
    UploadRefused,
    clean_filename,
    max_upload_bytes,
    sniff_content_type,
    too_large,
)
from app.core.security import tokens_match
from app.core.storage import Storage, get_storage
from app.web.deps import CSRF_FIELD, CSRF_REFUSED, expected_csrf_token

MAX_FIELDS = 10
MAX_FIELD_BYTES = 4096
# Room for the small fields, the part headers and the boundaries around the file.
FORM_OVERHEAD = 128 * 1024
# A refused body this close to the limit is still read (and dropped): a browser that is
# cut off while it sends shows "connection reset" instead of our message.
DRAIN_FACTOR = 4


@dataclass(frozen=True)
class FileRules:
    """What one upload form takes: the file's field, its largest size, and whether the file is
    typed by its content (attachments) or left to the caller to read (a CSV to import)."""

    field: str
    max_bytes: int
    too_large_message: str
    missing_message: str = MissingFile.default_message
    typed: bool = True
    # The text fields the form carries beside the file (and its CSRF token): each comes once,
    # and any other is refused, as the API's document says. None: any field, the first value.
    texts: tuple[str, ...] | None = None


def attachment_rules() -> FileRules:
    """Files kept with a case: FILROUGE_MAX_UPLOAD_MB, and only the accepted types."""
    return FileRules(FILE_FIELD, max_upload_bytes(), too_large().message, texts=("description",))


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
    """verify_csrf (app/web/deps.py) leaves the token of a streamed form to the parser."""
    return getattr(request.state, "csrf_in_body", False)


@dataclass
class _Part:
    name: str = ""
    data: bytearray = field(default_factory=bytearray)


class _Receiver:
    """python-multipart callbacks: small fields to memory, the `file` part to a temporary file."""

    def __init__(
        self,
        storage: Storage,
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
        if self.rules.texts is not None:
            if self.part.name not in (*self.rules.texts, CSRF_FIELD):
                raise MalformedUpload(f"Champ inattendu : « {self.part.name[:40]} ».")
            if self.part.name in self.fields:  # one value per field, as one file per upload
                raise MalformedUpload(f"Un seul champ « {self.part.name[:40]} » par envoi.")
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
    return Forbidden(CSRF_REFUSED)


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
