"""Table downloads: a report's `Table` answered as a CSV or XLSX attachment; the `Digest`
header of a file download."""

import base64
from urllib.parse import quote

from fastapi.responses import StreamingResponse

from app.core.errors import Invalid
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
