"""Downloadable tables: French CSV for Excel, and XLSX that openpyxl reads back."""

from io import BytesIO

import openpyxl

from app.core.tables import Table, csv_chunks, xlsx_bytes


def table(rows):
    return Table("Activité 2026", ["Unité", "Nombre"], rows, "activite")


def test_csv_has_a_bom_semicolons_and_neutralised_formulas():
    data = b"".join(csv_chunks(table([("UO1", 3), ("=HYPERLINK()", 1)]))).decode("utf-8")
    assert data.startswith("\ufeffUnité;Nombre\r\n")
    assert "UO1;3" in data and "'=HYPERLINK()" in data


def test_xlsx_opens_with_openpyxl_and_keeps_the_values():
    workbook = openpyxl.load_workbook(BytesIO(xlsx_bytes(table([("UO1", 3)])).read()))
    assert list(workbook.active.values) == [("Unité", "Nombre"), ("UO1", 3)]
    assert workbook.active.title == "Activité 2026"
