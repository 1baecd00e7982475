"""Tables people download: the same rows as CSV (Excel-friendly French CSV) or XLSX.

Reports build a `Table`; routes answer with `table_response(table, fmt)`. Rows are streamed
to the CSV and written in openpyxl's write-only mode, so large tables stay out of memory."""

import csv
import io
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from tempfile import SpooledTemporaryFile
from urllib.parse import quote

from fastapi.responses import StreamingResponse

from app.errors import Invalid

FORMATS = ("csv", "xlsx")
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@dataclass
class Table:
    """A titled table: column headers in French and rows of plain values."""

    title: str
    columns: Sequence[str]
    rows: Iterable[Sequence]
    filename: str  # without extension, e.g. "activite-ARA-2026"


def spreadsheet_safe(value):
    # A cell starting with = + - @ would run as a formula in a spreadsheet.
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@"):
        return "'" + value
    return value


def csv_chunks(table: Table) -> Iterator[bytes]:
    """`;`-separated UTF-8 with a BOM, so that Excel opens accents correctly."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=";")
    buffer.write("\ufeff")
    writer.writerow(table.columns)
    for row in table.rows:
        writer.writerow([spreadsheet_safe(v) for v in row])
        if buffer.tell() > 64 * 1024:
            yield buffer.getvalue().encode("utf-8")
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue().encode("utf-8")


def xlsx_bytes(table: Table) -> SpooledTemporaryFile:
    """The table as an XLSX workbook (one sheet), in a temporary file read from the start."""
    from openpyxl import Workbook

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(title=table.title[:31] or "Tableau")
    sheet.append(list(table.columns))
    for row in table.rows:
        sheet.append([spreadsheet_safe(v) for v in row])
    handle = SpooledTemporaryFile(max_size=8 * 1024 * 1024)
    workbook.save(handle)
    handle.seek(0)
    return handle


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
