"""Downloaded tables read back as a spreadsheet reads them: a workbook's table below its
title row (where its frozen header says), a CSV's rows."""

import csv
import io

import openpyxl


def workbook_sheet(content: bytes):
    return openpyxl.load_workbook(io.BytesIO(content)).active


def workbook_rows(content: bytes) -> list[tuple]:
    """The header and the rows of the workbook's table, without the title row above them."""
    sheet = workbook_sheet(content)
    header_row = sheet.freeze_panes and int(sheet.freeze_panes[1:]) - 1 or 1
    return list(sheet.iter_rows(min_row=header_row, values_only=True))


def csv_rows(content: bytes) -> list[list[str]]:
    text = content.decode("utf-8")
    assert text.startswith("\ufeff")  # for Excel to read the accents
    return list(csv.reader(io.StringIO(text[1:]), delimiter=";"))
