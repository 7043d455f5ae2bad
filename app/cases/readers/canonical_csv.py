"""The canonical CSV: one row per child (or per child per case type), for councils without Annex A or 903 extracts.

Columns are documented in the README ("Canonical CSV"). Headers are matched tolerantly
(case, spaces, punctuation). Every problem names the file, the row (header = 1), the column
and the value. A row with an error yields no `RowFacts`; warnings never stop a row.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from datetime import date
from typing import Any

from app.cases.cleaning import (
    CellProblem,
    clean_text,
    coded_value,
    match_headers,
    normalise_header,
    normalise_person_name,
    parse_count,
    parse_date,
    parse_yes_no,
    strip_list_prefix,
)
from app.cases.facts import FACT_FIELDS, FACT_RANGES, CaseType, Problem, RowFacts
from app.cases.readers import ReadResult, UploadedFile

LIST_PREFIX = "csv"
REQUIRED = ("child_id", "case_type")

# Column -> accepted header spellings (compared with cleaning.normalise_header).
ALIASES: dict[str, tuple[str, ...]] = {
    "child_id": ("child_id", "child id", "child ref", "child reference", "person id"),
    "case_type": ("case_type", "case type", "type"),
    "status": ("status", "open closed"),
    "start_date": ("start_date", "start date", "open date"),
    "end_date": ("end_date", "end date", "close date", "closure date"),
    "team": ("team", "team name", "team_name"),
    **{name: (name, name.replace("_", " ")) for name in FACT_FIELDS if name != "age_at_extract"},
    "age_at_extract": ("age_at_extract", "age at extract", "age"),
    "worker_id": ("worker_id", "worker id", "worker ref", "worker reference", "allocated worker id"),
}

# Column widths in the database: a longer value is reported, never sent to the database.
MAX_LENGTH = {
    "child_id": 40,
    "team": 120,
    "gender": 40,
    "ethnicity": 40,
    "legal_status": 10,
    "primary_need": 10,
    "category_of_abuse": 60,
    "worker_name": 120,
    "worker_id": 60,
    "manager_name": 120,
    "permanence_plan": 120,
}
CODED = {"legal_status", "primary_need"}  # `E1: Placement order` -> `E1`
PERSON = {"worker_name", "manager_name"}

_CASE_TYPE_ALIASES = {
    "early help": CaseType.EARLY_HELP,
    "eh": CaseType.EARLY_HELP,
    "contact": CaseType.REFERRAL,
    "referral": CaseType.REFERRAL,
    "assessment": CaseType.ASSESSMENT,
    "single assessment": CaseType.ASSESSMENT,
    "cin": CaseType.CIN,
    "child in need": CaseType.CIN,
    "cp": CaseType.CP,
    "cpp": CaseType.CP,
    "child protection": CaseType.CP,
    "cla": CaseType.CLA,
    "lac": CaseType.CLA,
    "looked after": CaseType.CLA,
    "child looked after": CaseType.CLA,
    "looked after child": CaseType.CLA,
    "children looked after": CaseType.CLA,
    "care leaver": CaseType.CARE_LEAVER,
    "care leavers": CaseType.CARE_LEAVER,
    "adoption": CaseType.ADOPTION,
}
CASE_TYPE_CHOICES = ", ".join(kind.value for kind in CaseType)


def _case_type(text: str) -> CaseType | None:
    key = normalise_header(text).replace("_", " ")
    try:
        return CaseType(key.replace(" ", "_"))
    except ValueError:
        return _CASE_TYPE_ALIASES.get(key)


def _decode(content: bytes) -> str | None:
    """The file's text (UTF-8, with or without BOM, else Windows-1252), or None if it is not text at all."""
    if b"\x00" in content[:4096] or content[:4] == b"PK\x03\x04":
        return None
    try:
        return content.decode("utf-8-sig")
    except UnicodeDecodeError:
        return content.decode("cp1252", errors="replace")


def _parse_int(raw: str, low: int, high: int, what: str) -> int:
    value = parse_count(raw)
    assert value is not None
    if not low <= value <= high:
        raise CellProblem(f"{value} is not a {what} (expected {low} to {high})")
    return value


def read(files: list[UploadedFile], *, today: date) -> ReadResult:
    """Read canonical CSV files; rows with errors are reported and left out."""
    rows: list[RowFacts] = []
    problems: list[Problem] = []
    rows_read = 0
    seen: dict[tuple[str, CaseType], tuple[str, int]] = {}
    for upload in files:
        text = _decode(upload.content)
        if text is None:
            problems.append(
                Problem(
                    upload.name,
                    None,
                    None,
                    None,
                    "This file is not a CSV file. Save the extract as CSV (comma separated) and upload that.",
                )
            )
            continue
        reader = csv.reader(io.StringIO(text, newline=""))
        try:
            headers = next(reader, None)
        except csv.Error as exc:
            problems.append(Problem(upload.name, 1, None, None, f"The header row cannot be read: {exc}"))
            continue
        if not headers or not any(h.strip() for h in headers):
            problems.append(Problem(upload.name, None, None, None, "This file is empty: it has no header row."))
            continue
        columns = match_headers(list(headers), ALIASES)
        missing = [name for name in REQUIRED if name not in columns]
        for name in missing:
            problems.append(
                Problem(upload.name, 1, name, None, f"The column {name} is missing. The header row must name it.")
            )
        if missing:
            continue
        used = set(columns.values())
        for index, header in enumerate(headers):
            if index not in used and header.strip():
                problems.append(
                    Problem(
                        upload.name,
                        1,
                        header.strip(),
                        None,
                        f"The column {header.strip()} is not used",
                        severity="warning",
                    )
                )
        line = 1
        try:
            for line, record in enumerate(reader, start=2):
                if not any(cell.strip() for cell in record):
                    continue
                rows_read += 1
                row = _read_row(upload.name, line, record, columns, problems, seen, today)
                if row is not None:
                    rows.append(row)
        except csv.Error as exc:
            problems.append(Problem(upload.name, line + 1, None, None, f"This row cannot be read as CSV: {exc}"))
    return ReadResult(rows=rows, problems=problems, rows_read=rows_read)


def _read_row(
    sheet: str,
    line: int,
    record: list[str],
    columns: dict[str, int],
    problems: list[Problem],
    seen: dict[tuple[str, CaseType], tuple[str, int]],
    today: date,
) -> RowFacts | None:
    errors: list[Problem] = []

    def raw(name: str) -> str | None:
        index = columns.get(name)
        return record[index] if index is not None and index < len(record) else None

    def problem(name: str, value: object, message: str, severity: str = "error") -> None:
        target = errors if severity == "error" else problems
        target.append(Problem(sheet, line, name, None if value is None else str(value), message, severity))

    def text(name: str) -> str | None:
        cell = clean_text(raw(name), formulas=False)
        if cell.note:
            problem(name, raw(name), cell.note, "warning")
        value = cell.value
        if value is not None and name in CODED:
            value = coded_value(value)
        elif value is not None and name in PERSON:
            value = normalise_person_name(value)
        elif value is not None and name not in {"child_id", "team"}:
            value = strip_list_prefix(value)
        if value is not None and name in MAX_LENGTH and len(value) > MAX_LENGTH[name]:
            problem(name, value, f"This is longer than {MAX_LENGTH[name]} characters")
            return None
        return value

    def parsed(name: str, parse: Callable[[Any], Any]) -> Any:
        # Each cell is cleaned once (blank ones not at all): this is the reader's hot path.
        value = raw(name)
        if value is None or value == "":
            return None
        cell = clean_text(value)
        if cell.note:
            problem(name, value, cell.note, "warning")
        if cell.value is None:
            return None
        try:
            return parse(cell.value)
        except CellProblem as exc:
            problem(name, cell.value, str(exc))
            return None

    child_id = text("child_id")
    if child_id is None and not any(e.column == "child_id" for e in errors):
        problem("child_id", None, "The child ID is missing")
    kind_text = text("case_type")
    case_type = _case_type(kind_text) if kind_text else None
    if kind_text is None:
        problem("case_type", None, f"The case type is missing; use one of {CASE_TYPE_CHOICES}")
    elif case_type is None:
        problem("case_type", kind_text, f"'{kind_text}' is not a case type; use one of {CASE_TYPE_CHOICES}")

    start = parsed("start_date", parse_date)
    end = parsed("end_date", parse_date)
    status = (text("status") or "").lower() or None
    if status not in {None, "open", "closed"}:
        problem("status", status, "Status must be open or closed")
    elif status == "open" and end is not None:
        problem("status", status, "The case is marked open but has an end date; clear one of them")
    elif status == "closed" and end is None:
        problem("end_date", None, "The case is marked closed but has no end date")
    if start and end and end < start:
        problem("end_date", end.strftime("%d/%m/%Y"), f"The end date is before the start date ({start:%d/%m/%Y})")
    for name, value in (("start_date", start), ("end_date", end)):
        if value and value > today:
            problem(name, value.strftime("%d/%m/%Y"), "This date is in the future")

    facts: dict[str, Any] = {}
    for name, kind in FACT_FIELDS.items():
        if name not in columns:
            continue
        if name == "birth_year":
            facts[name] = parsed(name, lambda v: _parse_int(v, *FACT_RANGES["birth_year"]))
        elif name == "birth_month":
            facts[name] = parsed(name, lambda v: _parse_int(v, *FACT_RANGES["birth_month"]))
        elif kind is date:
            facts[name] = parsed(name, parse_date)
            if facts[name] and facts[name] > today:
                problem(name, facts[name].strftime("%d/%m/%Y"), "This date is in the future")
        elif kind is bool:
            facts[name] = parsed(name, parse_yes_no)
        elif kind is int:
            facts[name] = parsed(name, parse_count)
        else:
            facts[name] = text(name)
    year, month = facts.get("birth_year"), facts.get("birth_month")
    if year and (year > today.year or (month and (year, month) > (today.year, today.month))):
        problem("birth_year", f"{month}/{year}" if month else year, "The date of birth is in the future")
    elif year and facts.get("age_at_extract") is None:
        # Age in whole years on the day of the extract, taking the birthday as the 1st of the month.
        facts["age_at_extract"] = today.year - year - (1 if month and month > today.month else 0)
    team = text("team")

    if child_id and case_type and not errors:
        key = (child_id, case_type)
        if key in seen:
            first_sheet, first_line = seen[key]
            where = f"row {first_line}" if first_sheet == sheet else f"{first_sheet} row {first_line}"
            problem(
                "child_id",
                child_id,
                f"Child {child_id} already has a {case_type.value} row ({where}); give each child one row per case type",
            )
        else:
            seen[key] = (sheet, line)
    problems.extend(errors)
    if errors or child_id is None or case_type is None:
        return None
    return RowFacts(
        child_id=child_id,
        list_key=f"{LIST_PREFIX}:{case_type.value}",
        case_type=case_type,
        sheet=sheet,
        row=line,
        start_date=start,
        end_date=end,
        team_name=team,
        facts={k: v for k, v in facts.items() if v is not None},
    )
