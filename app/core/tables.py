"""Tables people download, framework-free: a titled table of rows, written as Excel-friendly
French CSV or as an XLSX workbook that opens ready to read (title row, styled header, widths,
numbers as numbers). Rows are streamed to the CSV and written in openpyxl's write-only mode,
so large tables stay out of memory."""

import csv
import io
import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from itertools import chain, islice
from tempfile import SpooledTemporaryFile

from app.core.dates import format_period


@dataclass(frozen=True)
class Percent:
    """A share to be read as a percentage: `ratio` 0.141 is 14,1 % (a percentage cell in the
    workbook; « 14,1 » in the CSV, whose column header says « (%) »)."""

    ratio: float

    def points(self) -> float:
        """The percentage itself, one decimal: 14.1."""
        return round(100 * self.ratio, 1)


@dataclass
class Table:
    """A titled table: column headers in French and rows of values — str, int, float (one
    decimal shown), Decimal (an amount, its decimals kept), Percent, date, or None."""

    title: str  # names the sheet, shortened to what a sheet name holds
    columns: Sequence[str]
    rows: Iterable[Sequence]
    filename: str  # without extension, e.g. "activite-ARA-2026"
    heading: str = ""  # the workbook's title row: what, whose (by name), which period


def table_heading(
    *, label: str, operator: str, start: date, end: date, title: str = "", filters: str = ""
) -> str:
    """A title row: « Rapport d'activité — Auvergne-Rhône-Alpes — du 1er janvier 2026 au
    31 mars 2026 — Synthèse » (the report, the operator by name, filters, period, table)."""
    parts = (label, operator, filters, format_period(start, end), title)
    return " — ".join(part for part in parts if part)


def spreadsheet_safe(value):
    # A cell starting with = + - @ would run as a formula in a spreadsheet.
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@"):
        return "'" + value
    return value


# ---- CSV ---------------------------------------------------------------------------------------


def decimal_comma(number: Decimal) -> str:
    """« 1234,50 »: French spreadsheets read a decimal point as a date or as text."""
    return format(number, "f").replace(".", ",")


def csv_cell(value):
    """A cell of the CSV: a non-integer number with a decimal comma (a percentage as its
    points, « 14,1 »); an integer, a date and text as the CSV module writes them."""
    if isinstance(value, Percent):
        return decimal_comma(Decimal(f"{value.points():.1f}"))
    if isinstance(value, float):
        return decimal_comma(Decimal(repr(value)))  # repr: the shortest digits, never 1e-05
    if isinstance(value, Decimal):
        return decimal_comma(value)
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


# ---- XLSX --------------------------------------------------------------------------------------

SHEET_NAME_LENGTH = 31  # Excel's limit
NOT_IN_SHEET_NAMES = re.compile(r"[\[\]:*?/\\]")
# Words a shortened name should not end on: « Orientations par type de… » says less than
# « Orientations par type… ».
DANGLING = {"à", "au", "aux", "d'", "de", "des", "du", "en", "entre", "et", "hors", "l'", "la",
            "le", "les", "ou", "par", "pour", "sur"}  # fmt: skip
PERCENT_FORMAT = "0.0 %"
ONE_DECIMAL = "0.0"
DATE_FORMAT = "dd/mm/yyyy"
DATETIME_FORMAT = "dd/mm/yyyy hh:mm"
# Column widths, in characters: measured on the first rows, so that a large table is never
# held whole; bounded so that a long comment wraps in a readable column.
MEASURED_ROWS = 1000
NARROWEST, WIDEST = 8, 60
HEADER_WIDEST = 30  # a longer header wraps rather than widening a column of small numbers
HEADER_FILL = "DCE6F1"


def sheet_name(title: str) -> str:
    """A valid sheet name that still reads: no [ ] : * ? / \\, at most 31 characters, cut
    after a whole word (and its parenthesis dropped first) rather than in the middle of one."""
    name = " ".join(NOT_IN_SHEET_NAMES.sub(" ", title).split()).strip("'")
    if len(name) > SHEET_NAME_LENGTH:
        name = " ".join(re.sub(r"\([^)]*\)", " ", name).split())
    if len(name) > SHEET_NAME_LENGTH:
        words = name[:SHEET_NAME_LENGTH].split(" ")[:-1] or [name[: SHEET_NAME_LENGTH - 1]]
        while len(words) > 1 and words[-1].lower().strip(",;—–-") in DANGLING | {""}:
            words.pop()
        name = " ".join(words).rstrip(" ,;:—–-'") + "…"
    return name or "Tableau"


def _decimal_places(number: Decimal) -> int:
    exponent = number.as_tuple().exponent
    return max(0, -exponent) if isinstance(exponent, int) else 0


def _number_format(value) -> str | None:
    """How the workbook shows the value; None: as it is (text, integers)."""
    if isinstance(value, Percent):
        return PERCENT_FORMAT
    if isinstance(value, float):
        return ONE_DECIMAL
    if isinstance(value, Decimal):
        places = _decimal_places(value)
        return "#,##0" + ("." + "0" * places if places else "")
    if isinstance(value, datetime):
        return DATETIME_FORMAT
    if isinstance(value, date):
        return DATE_FORMAT
    return None


def _shown_length(value) -> int:
    """About how many characters the cell shows: what its column needs."""
    if value is None:
        return 0
    if isinstance(value, Percent):
        return len(f"{value.points():.1f} %")
    if isinstance(value, float):
        return len(f"{value:.1f}")
    if isinstance(value, Decimal):
        return len(f"{value:,.{_decimal_places(value)}f}")
    if isinstance(value, datetime):
        return len(DATETIME_FORMAT)
    if isinstance(value, date):
        return len(DATE_FORMAT)
    return max((len(line) for line in str(value).splitlines()), default=0)


def column_widths(columns: Sequence[str], rows: Sequence[Sequence]) -> list[int]:
    """A width per column that fits its header (up to HEADER_WIDEST) and its values."""
    widths = [min(len(str(header)), HEADER_WIDEST) for header in columns]
    for row in rows:
        for i, value in enumerate(row[: len(widths)]):
            widths[i] = max(widths[i], _shown_length(value))
    return [min(max(width + 2, NARROWEST), WIDEST) for width in widths]


def _xlsx_value(value):
    if isinstance(value, Percent):
        return value.ratio
    if isinstance(value, datetime) and value.tzinfo is not None:
        # Excel has no time zones: the table's datetimes are already the operator's local ones.
        return value.replace(tzinfo=None)
    return spreadsheet_safe(value)


class _SheetStyle:
    """The styled cells of one sheet (write-only mode styles cell by cell)."""

    def __init__(self, sheet):
        from openpyxl.cell import WriteOnlyCell
        from openpyxl.styles import Alignment, Border, Font, PatternFill, Side

        self.sheet, self.cell_type = sheet, WriteOnlyCell
        self.title_font = Font(bold=True, size=13)
        self.header_font = Font(bold=True)
        self.header_fill = PatternFill("solid", start_color=HEADER_FILL)
        self.header_border = Border(bottom=Side(style="medium"))
        self.header_alignment = Alignment(wrap_text=True, vertical="center")
        self.text_alignment = Alignment(wrap_text=True, vertical="top")

    def cell(self, value):
        return self.cell_type(self.sheet, value=value)

    def title(self, text: str):
        cell = self.cell(spreadsheet_safe(text))
        cell.font = self.title_font
        return cell

    def header(self, text: str):
        cell = self.cell(spreadsheet_safe(text))
        cell.font = self.header_font
        cell.fill = self.header_fill
        cell.border = self.header_border
        cell.alignment = self.header_alignment
        return cell

    def value(self, value, width: int):
        cell = self.cell(_xlsx_value(value))
        number_format = _number_format(value)
        if number_format:
            cell.number_format = number_format
        elif isinstance(value, str) and len(value) > width:
            cell.alignment = self.text_alignment  # a long text wraps within its column
        return cell


def _padded(widths: list[int], length: int) -> list[int]:
    # A row longer than the header (a note below a table) loses none of its cells.
    return widths + [WIDEST] * (length - len(widths))


def xlsx_bytes(table: Table) -> SpooledTemporaryFile:
    """The table as an XLSX workbook of one sheet, in a temporary file read from the start:
    the heading (when there is one) and a blank row, then the header, frozen and filtered."""
    from openpyxl import Workbook
    from openpyxl.utils import get_column_letter

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(title=sheet_name(table.title))
    style = _SheetStyle(sheet)
    rows = iter(table.rows)
    measured = list(islice(rows, MEASURED_ROWS))
    widths = column_widths(table.columns, measured)
    # Write-only mode writes the columns and the frozen panes before the first row.
    for i, width in enumerate(widths, start=1):
        sheet.column_dimensions[get_column_letter(i)].width = width
    header_row = 3 if table.heading else 1
    sheet.freeze_panes = f"A{header_row + 1}"
    sheet.print_title_rows = f"{header_row}:{header_row}"
    if table.heading:
        sheet.append([style.title(table.heading)])
        sheet.append([])
    sheet.append([style.header(column) for column in table.columns])
    last_row = header_row
    for row in chain(measured, rows):
        sheet.append(
            [
                style.value(v, width)
                for v, width in zip(row, _padded(widths, len(row)), strict=False)
            ]
        )
        last_row += 1
    if table.columns:
        sheet.auto_filter.ref = f"A{header_row}:{get_column_letter(len(widths))}{last_row}"
    handle = SpooledTemporaryFile(max_size=8 * 1024 * 1024)
    workbook.save(handle)
    handle.seek(0)
    return handle
