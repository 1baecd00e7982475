"""Tables people download, framework-free: a titled table of rows, written as Excel-friendly
French CSV or as XLSX. Rows are streamed to the CSV and written in openpyxl's write-only mode,
so large tables stay out of memory."""

import csv
import io
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from decimal import Decimal
from tempfile import SpooledTemporaryFile


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


def csv_cell(value):
    """A cell of the CSV: an amount (a Decimal) with the decimal comma French spreadsheets
    read as a number, « 1234,50 »; anything else as the CSV module writes it."""
    if isinstance(value, Decimal):
        return format(value, "f").replace(".", ",")
    return spreadsheet_safe(value)


def csv_chunks(table: Table) -> Iterator[bytes]:
    """`;`-separated UTF-8 with a BOM, so that Excel opens accents correctly."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=";")
    buffer.write("\ufeff")
    writer.writerow(table.columns)
    for row in table.rows:
        writer.writerow([csv_cell(v) for v in row])
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
