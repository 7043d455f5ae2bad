"""The export helpers: formula text neutralised in CSV and kept as text in XLSX, dates readable, UTF-8 for Excel."""

from __future__ import annotations

import io
from datetime import date

from openpyxl import load_workbook

from app.web.exports import csv_bytes, safe_cell, xlsx_bytes


def test_formula_text_is_neutralised_in_csv():
    assert safe_cell('=HYPERLINK("http://x")') == '\'=HYPERLINK("http://x")'
    assert safe_cell("-1+1") == "'-1+1"
    assert safe_cell("@SUM(A1)") == "'@SUM(A1)"
    assert safe_cell("Chronology") == "Chronology"
    assert safe_cell(None) == ""
    assert safe_cell(date(2026, 11, 26)) == "2026-11-26"
    assert safe_cell(3) == 3


def test_csv_has_a_bom_headers_and_rows():
    body = csv_bytes(["Number", "What"], [[1, "Child’s voice"], [2, "=1+1"]]).decode("utf-8")
    assert body.startswith("\ufeffNumber,What\r\n1,Child’s voice\r\n2,'=1+1")


def test_xlsx_keeps_formula_text_as_text():
    book = load_workbook(io.BytesIO(xlsx_bytes("Recs", ["Number", "What", "Due"], [[1, "=1+1", date(2026, 12, 1)]])))
    sheet = book["Recs"]
    assert [c.value for c in sheet[1]] == ["Number", "What", "Due"]
    cell = sheet["B2"]
    assert cell.value == "=1+1" and cell.data_type == "s"


def test_control_characters_already_stored_do_not_break_a_workbook():
    from openpyxl import load_workbook

    content = xlsx_bytes("Recommendations", ["Text"], [["Bell\x07 and NUL\x00 here"], ["=1+1"]])
    sheet = load_workbook(io.BytesIO(content)).active
    assert sheet["A2"].value == "Bell\ufffd and NUL\ufffd here"
    assert sheet["A3"].value == "=1+1" and sheet["A3"].data_type == "s"
