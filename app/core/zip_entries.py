"""ZIP archives written entry by entry, with flat memory, for files taken out of Fil rouge (a
case's file, a period's archive).

Every entry's name is flagged UTF-8 (general purpose bit 11, 0x800), even a plain ASCII one,
so that no tool guesses a code page; every entry carries the same timestamp, chosen once per
archive; files are copied from the storage in chunks while their SHA-256 is computed, and
checked against the one recorded when they were issued, if given.

    with zip_archive(path, stamp=when) as archive:
        pdf = archive.add_from_storage("X/v1.pdf", key, expected_sha256=sha, label="« Bilan » v1")
        archive.add_bytes("X/manifeste.json", data)

A block that raises leaves no file at `path`: a half-written archive is never kept."""

import hashlib
import zipfile
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path, PurePosixPath

from app.core.errors import Conflict
from app.core.storage import Storage, get_storage
from app.core.storage_keys import CHUNK

UTF8_FLAG = 0x800
# The earliest date a ZIP entry can hold: the default when an archive names none.
EARLIEST = datetime(1980, 1, 1)
# What unzip gives an extracted file: read and write for its owner, read for the others.
_FILE_MODE = 0o644 << 16


class HashMismatch(Conflict):
    """A stored file no longer matches the SHA-256 recorded when it was issued or received;
    the message names the document (`label`). The archive under way is unusable."""

    def __init__(self, label: str, expected: str, found: str):
        super().__init__(
            f"Le fichier {label} ne correspond plus à l'empreinte SHA-256 enregistrée : il a "
            "changé dans le stockage depuis son émission ou son dépôt. L'archive n'a pas été "
            "créée ; prévenez l'administrateur."
        )
        self.label, self.expected, self.found = label, expected, found


class StoredFileMissing(Conflict):
    """A file the rows name is not in the storage; the message names the document (`label`)."""

    def __init__(self, label: str):
        super().__init__(
            f"Le fichier {label} est introuvable dans le stockage. L'archive n'a pas été créée ; "
            "prévenez l'administrateur."
        )
        self.label = label


@dataclass(frozen=True)
class ZipEntry:
    """One file written: its name in the archive (made unique), size and SHA-256 of its bytes."""

    name: str
    size: int
    sha256: str


class _Utf8Info(zipfile.ZipInfo):
    """An entry whose name is always flagged UTF-8. The standard library flags non-ASCII names
    only, and resets the flags when the entry is written: the name's encoding is decided here,
    where both the local header and the central directory read it."""

    def _encodeFilenameFlags(self):  # noqa: N802 — the standard library's name
        return self.filename.encode("utf-8"), self.flag_bits | UTF8_FLAG


class ZipEntries:
    """Adds entries to an open `zipfile.ZipFile`, one at a time, all dated `stamp`."""

    def __init__(self, archive: zipfile.ZipFile, *, stamp: datetime = EARLIEST):
        self.archive = archive
        self.date_time = max(stamp.replace(tzinfo=None), EARLIEST).timetuple()[:6]
        self.entries: list[ZipEntry] = []
        self._names: set[str] = set()

    def add_chunks(
        self,
        name: str,
        chunks: Iterable[bytes],
        *,
        compress: bool = True,
        size: int | None = None,
        expected_sha256: str | None = None,
        label: str | None = None,
    ) -> ZipEntry:
        """Write `chunks` as the entry `name` (`-2`, `-3`… before the extension if the name is
        taken). `size`, when known, lets a file over 4 GiB be written. With `expected_sha256`,
        raises HashMismatch (naming `label`, else the entry) when the bytes differ."""
        info = _Utf8Info(self._unique(name), date_time=self.date_time)
        info.compress_type = zipfile.ZIP_DEFLATED if compress else zipfile.ZIP_STORED
        info.external_attr = _FILE_MODE
        info.file_size = size or 0  # a hint only: zipfile counts the bytes it writes
        digest, written = hashlib.sha256(), 0
        with self.archive.open(info, "w") as target:
            for chunk in chunks:
                digest.update(chunk)
                written += len(chunk)
                target.write(chunk)
        entry = ZipEntry(info.filename, written, digest.hexdigest())
        if expected_sha256 is not None and entry.sha256 != expected_sha256:
            raise HashMismatch(label or f"« {entry.name} »", expected_sha256, entry.sha256)
        self.entries.append(entry)
        return entry

    def add_bytes(self, name: str, data: bytes, *, compress: bool = True) -> ZipEntry:
        """Write `data` as the entry `name` (a manifest, a CSV made in memory)."""
        return self.add_chunks(name, [data], compress=compress, size=len(data))

    def add_file(self, name: str, path: Path, *, compress: bool = True) -> ZipEntry:
        """Write a local file (a manifest spooled to disk) as the entry `name`, in chunks."""
        with path.open("rb") as handle:
            chunks = iter(lambda: handle.read(CHUNK), b"")
            return self.add_chunks(name, chunks, compress=compress, size=path.stat().st_size)

    def add_from_storage(
        self,
        name: str,
        key: str,
        *,
        expected_sha256: str | None = None,
        label: str | None = None,
        size: int | None = None,
        compress: bool = False,
        storage: Storage | None = None,
    ) -> ZipEntry:
        """Copy the stored file `key` into the entry `name`, in chunks, checking its SHA-256
        against `expected_sha256` if given (see add_chunks); StoredFileMissing when there is no
        such file. Stored, not compressed, by default: PDFs and images are compressed already."""
        chunks = (storage or get_storage()).iter_chunks(key)
        try:
            return self.add_chunks(
                name,
                chunks,
                compress=compress,
                size=size,
                expected_sha256=expected_sha256,
                label=label,
            )
        except FileNotFoundError as error:
            raise StoredFileMissing(label or f"« {name} »") from error

    def _unique(self, name: str) -> str:
        """`name`, or the first of `stem-2.ext`, `stem-3.ext`… not in the archive yet: two
        documents may well have the same name (two documents of one kind issued the same day)."""
        candidate, path, n = name, PurePosixPath(name), 1
        while candidate in self._names:
            n += 1
            candidate = str(path.with_name(f"{path.stem}-{n}{path.suffix}"))
        self._names.add(candidate)
        return candidate


@contextmanager
def zip_archive(path: Path, *, stamp: datetime = EARLIEST) -> Iterator[ZipEntries]:
    """A new ZIP file at `path` (ZIP64 when it needs to) to add entries to; closed at the end of
    the block, or deleted if the block raises."""
    try:
        with zipfile.ZipFile(path, "w", allowZip64=True) as archive:
            yield ZipEntries(archive, stamp=stamp)
    except BaseException:
        path.unlink(missing_ok=True)
        raise


class HashedFile:
    """What a hashed ZIP wrote, known once its block is over: SHA-256 and size."""

    sha256: str = ""
    size: int = 0


class _HashingSink:
    """A file that hashes what is written to it. It has no `tell`: zipfile then writes each
    entry straight through (sizes in data descriptors) and never goes back, so the bytes
    hashed are the file's bytes, without a second pass over it."""

    def __init__(self, handle):
        self.handle, self.digest, self.size = handle, hashlib.sha256(), 0

    def write(self, data) -> int:
        self.handle.write(data)
        self.digest.update(data)
        self.size += len(data)
        return len(data)

    def flush(self) -> None:
        self.handle.flush()


@contextmanager
def hashed_zip_archive(
    path: Path, hashed: HashedFile, *, stamp: datetime = EARLIEST
) -> Iterator[ZipEntries]:
    """zip_archive, the file's SHA-256 and size computed as it is written (into `hashed`)."""
    try:
        with path.open("wb") as handle:
            sink = _HashingSink(handle)
            with zipfile.ZipFile(sink, "w", allowZip64=True) as archive:
                yield ZipEntries(archive, stamp=stamp)
        hashed.sha256, hashed.size = sink.digest.hexdigest(), sink.size
    except BaseException:
        path.unlink(missing_ok=True)
        raise
