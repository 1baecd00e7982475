"""What an uploaded file is, whatever brought it: its type read from the content, archives
checked without extraction, a clean name to show, French labels; and why a file is refused."""

import re
import unicodedata
import zipfile
from dataclasses import dataclass
from pathlib import Path

import filetype

from app.core.config import get_settings
from app.core.errors import DomainError

FILE_FIELD = "file"
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
