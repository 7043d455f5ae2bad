"""Tables people take away: the same rows as CSV or as an Excel workbook, named for the day they were made.

Cells that a spreadsheet would run as a formula (starting =, +, - or @) are written as text with a leading
apostrophe in CSV, and as plain strings in XLSX, so an exported recommendation can never run in someone's Excel.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from datetime import date, datetime
from typing import Any

from fastapi.responses import Response
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

FORMATS = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: Any) -> Any:
    """A value as a CSV cell: text that would start a formula is neutralised; dates as ISO text."""
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return "" if value is None else value


def csv_bytes(headers: Sequence[str], rows: Iterable[Sequence[Any]]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(headers)
    for row in rows:
        writer.writerow([safe_cell(v) for v in row])
    return ("\ufeff" + out.getvalue()).encode("utf-8")  # the BOM makes Excel read UTF-8


def xlsx_bytes(title: str, headers: Sequence[str], rows: Iterable[Sequence[Any]]) -> bytes:
    book = Workbook(write_only=True)
    sheet = book.create_sheet(title=title[:31])
    sheet.append(list(headers))
    for row in rows:
        sheet.append([_xlsx_cell(sheet, v) for v in row])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _xlsx_cell(sheet: Any, value: Any) -> Any:
    if isinstance(value, datetime):
        return value.replace(tzinfo=None)  # Excel has no time zones: the caller gives local times
    if isinstance(value, str):
        # Text stored before the input rule (app.web.input_guard) may hold control characters, which a workbook
        # cannot contain: shown as U+FFFD rather than breaking the export for everyone.
        value = ILLEGAL_CHARACTERS_RE.sub("\ufffd", value)
    if isinstance(value, str) and value.startswith("="):
        cell = WriteOnlyCell(sheet, value=value)
        cell.data_type = "s"  # text, never a formula
        return cell
    return "" if value is None else value


def table_response(
    fmt: str, *, name: str, title: str, headers: Sequence[str], rows: Iterable[Sequence[Any]], today: date
) -> Response:
    """The download: `name`-YYYY-MM-DD.csv or .xlsx."""
    body = csv_bytes(headers, rows) if fmt == "csv" else xlsx_bytes(title, headers, rows)
    filename = f"{name}-{today.isoformat()}.{fmt}"
    return Response(
        body, media_type=FORMATS[fmt], headers={"Content-Disposition": f'attachment; filename="{filename}"'}
    )
