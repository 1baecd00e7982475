"""CSV import (checked line by line, all or nothing) and CSV export of the partner directory."""

import csv
import io
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from itertools import chain

from pydantic import ValidationError
from sqlmodel import Session

from app.core.db import all_or_nothing
from app.core.errors import Invalid
from app.core.validation import field_errors
from app.models.fields import display_phone, search_key
from app.models.nomenclatures import PartnerType
from app.models.partners import Partner, PartnerUpdate
from app.models.staff import StaffUser
from app.services.access.scope import operator_of, readable
from app.services.referrals.partners import (
    add_partner,
    apply_edit,
    partners_by_name,
    require_editor,
)

MAX_BYTES = 1_000_000
TOO_LARGE = "Fichier trop volumineux : 1 Mo au plus"
MAX_LINES = 2_000
# The file's columns in the export's order, and the partner field each one fills.
COLUMNS = {
    "nom": "name",
    "type": "type",
    "departements": "departements",
    "adresse": "address",
    "code_postal": "postcode",
    "ville": "city",
    "contact": "contact_name",
    "email": "email",
    "telephone": "phone",
    "site_web": "website",
    "services": "services",
    "actif": "active",
}
COLUMN_OF = {name: column for column, name in COLUMNS.items()}
REQUIRED_COLUMNS = ("nom", "type")
# Other spellings people give these columns in their own spreadsheets.
_ALIASES = {
    "departement": "departements",
    "cp": "code_postal",
    "e_mail": "email",
    "courriel": "email",
    "mail": "email",
    "tel": "telephone",
    "site": "site_web",
    "site_internet": "site_web",
}
_YES = {"oui", "o", "1", "vrai", "true", "yes"}
_NO = {"non", "n", "0", "faux", "false", "no"}
# A cell starting like this is run as a formula by spreadsheets: the export defuses it with a
# leading apostrophe (what spreadsheets themselves do), and the import takes the apostrophe off.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
BOM = "\ufeff"


class CsvProblem(Exception):
    """The file as a whole cannot be read (encoding, columns, size)."""


@dataclass
class ImportLine:
    """One partner of the file: where it starts, what is wrong with it, what it will become."""

    number: int
    name: str
    errors: list[str] = field(default_factory=list)
    data: PartnerUpdate | None = None
    existing: Partner | None = None


@dataclass
class ImportReport:
    lines: list[ImportLine] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)  # about the whole file

    @property
    def invalid_lines(self) -> list[ImportLine]:
        return [line for line in self.lines if line.errors]

    @property
    def valid(self) -> bool:
        return not self.problems and bool(self.lines) and not self.invalid_lines

    @property
    def to_create(self) -> int:
        return sum(1 for line in self.lines if line.existing is None)

    @property
    def to_update(self) -> int:
        return len(self.lines) - self.to_create


# ---- reading the file ----------------------------------------------------------------------


def decode_csv(raw: bytes) -> str:
    """UTF-8 (with or without BOM) as saved today, else Windows-1252 as older Excel saves it."""
    if len(raw) > MAX_BYTES:
        raise Invalid({"fichier": TOO_LARGE})
    if not raw.strip():
        raise Invalid({"fichier": "Le fichier est vide"})
    if b"\x00" in raw:  # a workbook, a PDF or UTF-16 text: no CSV this module can read
        raise Invalid({"fichier": "Ce n'est pas un fichier CSV : enregistrez-le au format CSV"})
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    try:
        return raw.decode("cp1252")
    except UnicodeDecodeError:
        raise Invalid(
            {"fichier": "Encodage illisible : enregistrez le fichier en CSV UTF-8"}
        ) from None


def _delimiter(text: str) -> str:
    header = text.partition("\n")[0]
    return max((";", ",", "\t"), key=header.count)


def _records(text: str) -> Iterator[tuple[int, list[str]]]:
    """Each non-blank record with the line it starts on (a quoted value may span lines)."""
    source = io.StringIO(text.removeprefix(BOM), newline="")
    # strict: a stray or unclosed quote is an error, not a value swallowing the lines after it.
    reader = csv.reader(source, delimiter=_delimiter(text), strict=True)
    start = 1
    try:
        for cells in reader:
            if any(cell.strip() for cell in cells):
                yield start, cells
            start = reader.line_num + 1
    except csv.Error:
        raise CsvProblem(
            f"Fichier CSV illisible à partir de la ligne {start} : vérifiez les guillemets"
        ) from None


def _column_key(raw: str) -> str:
    key = re.sub(r"[^a-z0-9]+", "_", search_key(raw)).strip("_")
    return _ALIASES.get(key, key)


def _columns(header: list[str]) -> list[str | None]:
    """The column each header cell names; blank cells (Excel's trailing separators) name none."""
    columns: list[str | None] = []
    for raw in header:
        key = _column_key(raw) if raw.strip() else None
        if key is not None and key not in COLUMNS:
            raise CsvProblem(
                f"Colonne « {raw.strip()[:40]} » inconnue : les colonnes possibles sont "
                + ", ".join(COLUMNS)
            )
        if key is not None and key in columns:
            raise CsvProblem(f"Colonne « {key} » présente deux fois")
        columns.append(key)
    missing = [name for name in REQUIRED_COLUMNS if name not in columns]
    if missing:
        raise CsvProblem("Colonne obligatoire absente : " + ", ".join(missing))
    return columns


# ---- checking each line --------------------------------------------------------------------


def _type_names() -> dict[str, PartnerType]:
    """Each type under its code, its label and the parts of its label (« Employeur / RH »)."""

    def key(text: str) -> str:
        return " ".join(re.sub(r"[^a-z0-9]+", " ", search_key(text)).split())

    names = {}
    for member in PartnerType:
        short = member.label.split("(")[0]
        for text in (member.value, member.label, short, *short.split("/")):
            names.setdefault(key(text), member)
    return names | {"": None}  # blank: left to validation ("obligatoire")


_TYPE_NAMES = _type_names()


def _cell(raw: str) -> str:
    value = raw.strip()
    if value.startswith("'") and value[1:].startswith(_FORMULA_START):
        return value[1:]
    return value


def _field_values(values: dict[str, str], existing: Partner | None, errors: dict) -> dict:
    """The fields to validate: the existing partner's, replaced by the columns in the file."""
    data = {}
    if existing is not None:
        data = {name: getattr(existing, name) for name in PartnerUpdate.model_fields}
    for column, value in values.items():
        data[COLUMNS[column]] = value
    if "type" in values:
        key = " ".join(re.sub(r"[^a-z0-9]+", " ", search_key(values["type"])).split())
        if key not in _TYPE_NAMES:
            errors["type"] = f"« {values['type'][:40]} » n'est pas un type connu (voir la liste)"
        data["type"] = _TYPE_NAMES.get(key) or data.get("type") or ""
    if "actif" in values:
        answer = search_key(values["actif"])
        if answer and answer not in _YES | _NO:
            errors["actif"] = "« oui » ou « non » attendu"
        data["active"] = answer not in _NO
    return data


def _check_line(
    number: int,
    cells: list[str],
    columns: list[str | None],
    known: dict[str, Partner],
    seen: dict[str, int],
) -> ImportLine:
    # Short rows are padded: some tools leave out the separators of trailing blank cells.
    padded = (cells + [""] * len(columns))[: len(columns)]
    values = {column: _cell(cell) for column, cell in zip(columns, padded, strict=True) if column}
    line = ImportLine(number=number, name=values.get("nom", ""))
    errors: dict[str, str] = {}
    if any(cell.strip() for cell in cells[len(columns) :]):
        errors["__all__"] = (
            f"{len(cells)} valeurs pour {len(columns)} colonnes : "
            "vérifiez les séparateurs et les guillemets"
        )
    key = search_key(line.name)
    if key and key in seen:
        errors["nom"] = f"« {line.name} » figure déjà ligne {seen[key]} du fichier"
    seen.setdefault(key, number)
    line.existing = known.get(key) if key else None
    data = _field_values(values, line.existing, errors)
    try:
        line.data = PartnerUpdate.model_validate(data)
    except ValidationError as exc:
        for name, message in field_errors(exc).items():
            errors.setdefault(COLUMN_OF.get(name, name), message)
    line.errors = [
        message if column == "__all__" else f"{column} : {message}"
        for column, message in errors.items()
    ]
    return line


def check_import(*, session: Session, actor: StaffUser, text: str) -> ImportReport:
    """Read and check every line of the file without writing anything."""
    operator_id = require_editor(actor)
    known = partners_by_name(session=session, operator_id=operator_id)
    report = ImportReport()
    try:
        records = _records(text)
        header = next(records, None)
        if header is None:
            raise CsvProblem("Le fichier est vide")
        columns = _columns(header[1])
        seen: dict[str, int] = {}
        for number, cells in records:
            if len(report.lines) == MAX_LINES:
                raise CsvProblem(f"Trop de lignes : {MAX_LINES} partenaires au plus par fichier")
            report.lines.append(_check_line(number, cells, columns, known, seen))
    except CsvProblem as exc:
        return ImportReport(problems=[str(exc)])
    if not report.lines:
        report.problems.append("Aucun partenaire dans le fichier, seulement l'en-tête")
    return report


@all_or_nothing
def run_import(*, session: Session, actor: StaffUser, text: str) -> ImportReport:
    """Check the file again, then create and update every partner, or nothing if a line is wrong."""
    report = check_import(session=session, actor=actor, text=text)
    if not report.valid:
        return report
    operator_id = operator_of(actor)
    for line in report.lines:
        assert line.data is not None
        if line.existing is None:
            add_partner(session=session, operator_id=operator_id, data=line.data)
        else:
            apply_edit(line.existing, line.data)
            session.add(line.existing)
    session.flush()
    return report


# ---- export --------------------------------------------------------------------------------


def _defused(value: str) -> str:
    return f"'{value}" if value.startswith(_FORMULA_START) else value


def _export_row(partner: Partner) -> list[str]:
    values = [
        partner.name,
        partner.type,
        partner.departements,
        partner.address,
        partner.postcode or "",
        partner.city,
        partner.contact_name,
        partner.email or "",
        display_phone(partner.phone),
        partner.website,
        partner.services,
        "oui" if partner.active else "non",
    ]
    return [_defused(value) for value in values]


def export_rows(*, session: Session, actor: StaffUser) -> list[list[str]]:
    """Every partner of the actor's operator, inactive ones too, as the import reads them."""
    statement = readable(Partner, actor)
    partners = sorted(session.exec(statement), key=lambda p: (search_key(p.name), p.id))
    return [_export_row(partner) for partner in partners]


def csv_chunks(rows: Iterable[list[str]]) -> Iterator[bytes]:
    """The file line by line: `;` and a BOM, so that Excel in French opens it with its accents."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=";", lineterminator="\r\n")
    for number, row in enumerate(chain([list(COLUMNS)], rows)):
        writer.writerow(row)
        yield ((BOM if number == 0 else "") + buffer.getvalue()).encode("utf-8")
        buffer.seek(0)
        buffer.truncate()
