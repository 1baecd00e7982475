"""Downloads: a report's `Table` answered as a CSV or XLSX attachment; a ZIP streamed from an
open file or from the storage; their `Content-Disposition` and `Digest` headers."""

import base64
from collections.abc import Iterator
from typing import BinaryIO
from urllib.parse import quote

from fastapi.responses import StreamingResponse

from app.core.errors import Invalid, NotFound
from app.core.storage import CHUNK, get_storage
from app.core.tables import Table, csv_chunks, xlsx_bytes

FORMATS = ("csv", "xlsx")
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
# For `responses=` of an API route answering JSON, or one of its tables with `format=csv|xlsx`.
TABLE_DOWNLOADS = {
    200: {
        "content": {
            "text/csv": {"schema": {"type": "string"}},
            XLSX_TYPE: {"schema": {"type": "string", "format": "binary"}},
        },
        "headers": {
            "Content-Disposition": {
                "description": "En CSV et XLSX : toujours en pièce jointe, avec le nom du fichier",
                "schema": {"type": "string", "pattern": "^attachment; "},
            }
        },
    }
}


def table_response(table: Table, fmt: str) -> StreamingResponse:
    """A download of the table as CSV or XLSX."""
    if fmt not in FORMATS:
        raise Invalid({"format": "Format inconnu : csv ou xlsx"})
    disposition = f"attachment; filename*=UTF-8''{quote(table.filename)}.{fmt}"
    headers = {"Content-Disposition": disposition, "Cache-Control": "no-store"}
    if fmt == "csv":
        return StreamingResponse(
            csv_chunks(table), media_type="text/csv; charset=utf-8", headers=headers
        )
    handle = xlsx_bytes(table)
    return StreamingResponse(
        iter(lambda: handle.read(64 * 1024), b""), media_type=XLSX_TYPE, headers=headers
    )


def digest_header(sha256_hex: str) -> str:
    """The `Digest` header of a download (RFC 3230): the SHA-256 in base64, not in hex."""
    return "sha-256=" + base64.b64encode(bytes.fromhex(sha256_hex)).decode("ascii")


def attachment_disposition(filename: str) -> str:
    """Content-Disposition for a download: an ASCII fallback name and the real one (RFC 6266)."""
    fallback = "".join(
        ch if ch.isascii() and ch.isalnum() or ch in "._-" else "_" for ch in filename
    )
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(filename, safe='')}"


def zip_download(
    handle: BinaryIO, *, filename: str, size: int, sha256: str | None = None
) -> StreamingResponse:
    """A ZIP streamed from an open file in chunks; the file is closed when the download ends
    or the browser goes away."""
    headers = {
        "Content-Disposition": attachment_disposition(filename),
        "Content-Length": str(size),
        "Cache-Control": "no-store",
        "X-Content-Type-Options": "nosniff",
    }
    if sha256:
        headers["Digest"] = digest_header(sha256)
    return StreamingResponse(_chunks(handle), media_type="application/zip", headers=headers)


def stored_zip_download(
    key: str, *, filename: str, size: int, sha256: str | None = None, gone: str
) -> StreamingResponse:
    """A ZIP kept in the storage (a proof pack, an archive). Opened before the 200 is sent: a
    file no longer there is a 404 saying `gone`, not a broken download."""
    try:
        handle = get_storage().open(key)
    except FileNotFoundError as error:
        raise NotFound(gone) from error
    return zip_download(handle, filename=filename, size=size, sha256=sha256)


def _chunks(handle: BinaryIO) -> Iterator[bytes]:
    with handle:
        while chunk := handle.read(CHUNK):
            yield chunk
