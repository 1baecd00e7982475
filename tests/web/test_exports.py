"""Downloadable tables: French CSV for Excel (semicolons, BOM, decimal commas), and XLSX that
opens ready to read (title row, styled header, widths, typed cells) — each read back."""

from datetime import date
from decimal import Decimal

from app.core.tables import Percent, Table, csv_chunks, sheet_name, xlsx_bytes
from app.services.reports.tables import ActivityReport, Median, Section, Share
from tests.downloads import csv_rows, workbook_rows, workbook_sheet

HEADING = "Rapport d'activité — Auvergne-Rhône-Alpes — du 1er janvier 2026 au 31 décembre 2026"


def table(rows, heading=HEADING):
    return Table("Activité 2026", ["Unité", "Nombre"], rows, "activite", heading)


def csv_of(table: Table) -> list[list[str]]:
    return csv_rows(b"".join(csv_chunks(table)))


def workbook_of(table: Table) -> bytes:
    return xlsx_bytes(table).read()


def report(rows: list[tuple]) -> ActivityReport:
    columns = ["Canal", "Actes", "Part hors UO (%)", "Délai médian (jours)", "Montant (€)"]
    section = Section("actes", "Actes par canal et part hors unité d'œuvre", columns, rows)
    return ActivityReport(
        date(2026, 1, 1),
        date(2026, 12, 31),
        "ARA",
        [section],
        operator_name="Auvergne-Rhône-Alpes",
    )


SHARE_ROW = ("Téléphone", 1000, Share(141, 1000), Median(14.5, 12), Decimal("1234.50"))


# ---- CSV ---------------------------------------------------------------------------------------


def test_csv_has_a_bom_semicolons_and_neutralised_formulas():
    data = b"".join(csv_chunks(table([("UO1", 3), ("=HYPERLINK()", 1)]))).decode("utf-8")
    assert data.startswith("\ufeffUnité;Nombre\r\n")
    assert "UO1;3" in data and "'=HYPERLINK()" in data


def test_csv_writes_every_non_integer_number_with_a_decimal_comma():
    rows = csv_of(report([SHARE_ROW]).table("actes"))

    # 14,1 for the share (the column says « (%) »), the median and the amount too; the count
    # stays an integer. French Excel reads 14.1 as a date.
    assert rows[1] == ["Téléphone", "1000", "14,1", "14,5", "1234,50"]


def test_csv_writes_floats_and_percentages_without_an_exponent():
    rows = csv_of(table([("petit", 0.00001), ("part", Percent(0.005)), ("négatif", -2.5)]))
    assert rows[1:] == [["petit", "0,00001"], ["part", "0,5"], ["négatif", "-2,5"]]


def test_csv_keeps_its_header_on_the_first_line_without_the_title():
    assert csv_of(table([("UO1", 3)]))[0] == ["Unité", "Nombre"]


# ---- XLSX --------------------------------------------------------------------------------------


def test_xlsx_opens_on_a_title_row_naming_the_operator_and_the_period():
    sheet = workbook_sheet(workbook_of(report([SHARE_ROW]).table("actes")))

    assert sheet["A1"].value == f"{HEADING} — Actes par canal et part hors unité d'œuvre"
    assert sheet["A1"].font.b
    assert sheet["A2"].value is None  # a blank row between the title and the table


def test_xlsx_header_is_bold_filled_underlined_frozen_and_filtered():
    sheet = workbook_sheet(workbook_of(table([("UO1", 3), ("UO2.1", 4)])))

    header = sheet["A3"]
    assert header.value == "Unité"
    assert header.font.b and header.fill.fgColor.rgb.endswith("DCE6F1")
    assert header.border.bottom.style == "medium"
    assert sheet.freeze_panes == "A4"
    assert sheet.auto_filter.ref == "A3:B5"


def test_xlsx_columns_are_as_wide_as_their_content_within_bounds():
    comment = "Très à l'écoute, " * 20
    workbook = workbook_of(Table("Commentaires", ["Niveau", "Commentaire"], [(1, comment)], "c"))
    sheet = workbook_sheet(workbook)

    assert sheet.column_dimensions["A"].width == 8  # the narrowest
    assert sheet.column_dimensions["B"].width == 60  # the widest: the comment wraps
    assert sheet["B2"].alignment.wrap_text


def test_xlsx_cells_are_typed_numbers_percentages_and_dates():
    rows = [("UO1", 3, Percent(0.141), 14.5, Decimal("1234.50"), date(2026, 3, 10))]
    columns = ["Unité", "Nombre", "Part (%)", "Délai", "Montant (€)", "Début"]
    sheet = workbook_sheet(workbook_of(Table("Unités", columns, rows, "unites", HEADING)))

    count, share, median, amount, day = (sheet.cell(4, column) for column in range(2, 7))
    assert count.value == 3 and isinstance(count.value, int)
    assert share.value == 0.141 and "%" in share.number_format
    assert median.value == 14.5 and median.number_format == "0.0"
    assert amount.value == 1234.5 and amount.number_format == "#,##0.00"
    assert day.value.date() == date(2026, 3, 10) and day.number_format == "dd/mm/yyyy"


def test_a_reports_share_is_a_percentage_cell_of_its_rounded_value():
    empty = ("Courriel", 0, Share(0, 0), Median(None, 0), 0)
    workbook = workbook_of(report([SHARE_ROW, empty]).table("actes"))
    sheet = workbook_sheet(workbook)

    assert sheet["C4"].value == 0.141 and sheet["C4"].number_format == "0.0 %"
    assert sheet["C5"].value is None  # no base: nothing, as « — » on the page


def test_xlsx_keeps_the_values_and_neutralises_formulas():
    rows = workbook_rows(workbook_of(table([("UO1", 3), ("=HYPERLINK()", 1)])))
    assert rows == [("Unité", "Nombre"), ("UO1", 3), ("'=HYPERLINK()", 1)]


def test_xlsx_without_a_heading_starts_with_its_header():
    sheet = workbook_sheet(workbook_of(table([("UO1", 3)], heading="")))
    assert sheet["A1"].value == "Unité" and sheet.freeze_panes == "A2"


def test_the_json_of_a_report_keeps_plain_percentages():
    # The API's figures stay as the page shows them: 14.1, not a percentage cell's 0.141.
    assert report([SHARE_ROW]).sections[0].plain_rows()[0][2:4] == (14.1, 14.5)


# ---- sheet names -------------------------------------------------------------------------------


def test_sheet_names_hold_31_characters_cut_after_a_whole_word():
    sheet = workbook_sheet(workbook_of(report([SHARE_ROW]).table("actes")))
    assert sheet.title == "Actes par canal et part…"  # not « … part hors… »
    assert sheet_name("Orientations par type de partenaire et issue") == "Orientations par type…"
    assert sheet_name("Unités d'œuvre commencées et terminées") == "Unités d'œuvre commencées…"


def test_sheet_names_drop_a_parenthesis_before_cutting_a_word():
    assert sheet_name("Catégorie socioprofessionnelle (PCS)") == "Catégorie socioprofessionnelle"
    assert sheet_name("Synthèse") == "Synthèse"


def test_sheet_names_leave_out_the_characters_excel_refuses():
    name = sheet_name("Taux [brut] : 1/2 * ? \\ 'x'")
    assert name == "Taux brut 1 2 'x"
    assert not set("[]:*?/\\") & set(name) and len(name) <= 31
    assert sheet_name("[]") == "Tableau"
    assert len(sheet_name("x" * 50)) == 31
