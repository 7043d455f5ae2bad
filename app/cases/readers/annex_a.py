"""Ofsted ILACS "Annex A" workbook reader: one sheet per list, one row per child.

Lists read, and the involvement each row records:

| list | case type | start | end |
| --- | --- | --- | --- |
| 2 early help | early_help | early help (assessment) start | completion |
| 3 referrals | referral | date of referral | the referral date when "Referral NFA?" is Yes, else open |
| 4 assessments | assessment | assessment start | date of authorisation (an authorised assessment has ended) |
| 5 section 47 / ICPC | assessment | strategy discussion / s47 start | date of the ICPC, if one was held |
| 6 children in need | cin | CIN start date | CIN closure date |
| 7 child protection | cp | plan start date | plan end date |
| 8 children looked after | cla | date started to be looked after | date ceased |
| 9 care leavers | care_leaver | (none) | (none: a care leaver on the list is open) |
| 10 adoption | adoption | decision to place for adoption (else date entered care) | adoption order (else decision no longer to place) |

List 5 is read as assessment-level involvement even when the conference resulted in a
plan: the plan itself is in List 7, and counting it twice would make a closed enquiry
look like an open plan. Lists 1 (contacts) and 11 (adopters, who are not children) are
ignored, as are sheets that are not lists.

Data minimisation: of the date of birth only the year and month are kept; the age is
kept (whole years) only when there is no date of birth. Postcodes are never read.

Rows with an error are reported and left out of `ReadResult.rows`, so a
`skip_invalid` import takes the rest. Spreadsheet debris (`#N/A`, formulas, blanks)
is treated as missing with a warning, never an error.
"""

from __future__ import annotations

import io
import re
import zipfile
from collections import defaultdict
from dataclasses import dataclass
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
from app.cases.facts import CaseType, Problem, RowFacts
from app.cases.readers import ReadResult, UploadedFile

LEGAL_STATUS_CODES = frozenset({"C1", "C2", "D1", "E1", "J1", "J2", "J3", "L1", "L2", "L3", "V2", "V3", "V4"})
PRIMARY_NEED_CODES = frozenset(f"N{i}" for i in range(10))
ABUSE_CODES = {"neglect": "NEG", "physical": "PHY", "sexual": "SAB", "emotional": "EMO", "multiple": "MUL"}
# Column sizes of the Case table: longer text is cut with a warning rather than failing the write.
TEXT_LIMITS = {
    "gender": 40,
    "ethnicity": 40,
    "category_of_abuse": 60,
    "permanence_plan": 120,
    "worker_name": 120,
    "manager_name": 120,
    "team_name": 120,
}
WARNINGS_PER_COLUMN = 50  # further debris warnings in one column are summed up in one line
HEADER_SEARCH_ROWS = 10

# ---------------------------------------------------------------- columns


@dataclass(frozen=True)
class Column:
    key: str  # a FACT_FIELDS name, or a reader-internal key starting with "_"
    kind: str  # id, date, dob, age, bool, count, text, name, gender, ethnicity, legal_status, primary_need, abuse
    aliases: tuple[str, ...]

    @property
    def expected(self) -> str:
        return self.aliases[0]


CHILD_ID = Column(
    "_child_id",
    "id",
    (
        "Child Unique ID",
        "Child ID",
        "Unique Child ID",
        "Child Unique Identifier",
        "Child Identifier",
        "Unique ID",
        "Child Reference",
        "Person ID",
        "ID",
    ),
)
COMMON = (
    CHILD_ID,
    Column("gender", "gender", ("Gender", "Sex")),
    Column("ethnicity", "ethnicity", ("Ethnicity", "Ethnic Origin", "Ethnicity Code")),
    Column("_dob", "dob", ("Date of Birth", "DOB", "Child Date of Birth", "Birth Date")),
    Column("_age", "age", ("Age", "Age of Child (Years)", "Age of Child", "Age (Years)", "Age in Years")),
    Column(
        "disability",
        "bool",
        (
            "Does the Child have a Disability",
            "Does the Child have a Disability?",
            "Disability",
            "Disabled",
            "Child has a Disability",
        ),
    ),
    Column("team_name", "name", ("Allocated Team", "Team", "Allocated Team Name", "Team Name")),
    Column(
        "worker_name",
        "name",
        (
            "Allocated Worker",
            "Worker",
            "Allocated Social Worker",
            "Allocated Worker Name",
            "Social Worker",
            "Key Worker",
        ),
    ),
    Column("manager_name", "name", ("Team Manager", "Allocated Team Manager", "Manager")),
)


@dataclass(frozen=True)
class ListSpec:
    number: int
    case_type: CaseType
    columns: tuple[Column, ...]
    start: str | None = None  # key of the column giving the involvement's start
    end: str | None = None  # key of the column giving its end

    @property
    def key(self) -> str:
        return f"List {self.number}"

    @property
    def required(self) -> tuple[Column, ...]:
        """A list cannot be read without the child ID; without its start date its involvements mean nothing."""
        return tuple(c for c in self.columns if c.key == "_child_id" or (self.start and c.key == self.start))


def _list(
    number: int, case_type: CaseType, *columns: Column, start: str | None = None, end: str | None = None
) -> ListSpec:
    return ListSpec(number, case_type, COMMON + columns, start, end)


LISTS: dict[int, ListSpec] = {
    spec.number: spec
    for spec in (
        _list(
            2,
            CaseType.EARLY_HELP,
            Column(
                "_start",
                "date",
                (
                    "Assessment start date",
                    "Early Help Assessment Start Date",
                    "Early Help Start Date",
                    "Start Date of Early Help",
                    "Date Early Help Started",
                    "Start Date",
                ),
            ),
            Column(
                "_end",
                "date",
                (
                    "Assessment completion date",
                    "Early Help Assessment Completion Date",
                    "Early Help End Date",
                    "Early Help Completion Date",
                    "Date Early Help Ended",
                    "End Date",
                    "Completion Date",
                ),
            ),
            start="_start",
            end="_end",
        ),
        _list(
            3,
            CaseType.REFERRAL,
            Column("referral_date", "date", ("Date of Referral", "Referral Date", "Referral Start Date")),
            Column(
                "_nfa", "bool", ("Referral NFA?", "Referral NFA", "Referral No Further Action", "Was the Referral NFA")
            ),
            start="referral_date",
        ),
        _list(
            4,
            CaseType.ASSESSMENT,
            Column(
                "assessment_start",
                "date",
                (
                    "Continuous Assessment Start Date",
                    "Assessment Start Date",
                    "Date Assessment Started",
                    "Single Assessment Start Date",
                ),
            ),
            Column(
                "child_seen",
                "bool",
                (
                    "Child Seen During Continuous Assessment",
                    "Child Seen During Assessment",
                    "Was the Child Seen",
                    "Child Seen",
                ),
            ),
            Column(
                "assessment_authorised",
                "date",
                (
                    "Continuous Assessment Date of Authorisation",
                    "Assessment Date of Authorisation",
                    "Date of Authorisation",
                    "Assessment Authorisation Date",
                    "Date Assessment Authorised",
                    "Assessment Completion Date",
                ),
            ),
            start="assessment_start",
            end="assessment_authorised",
        ),
        _list(
            5,
            CaseType.ASSESSMENT,
            Column(
                "_start",
                "date",
                (
                    "Strategy discussion initiating Section 47 Enquiry Start Date",
                    "Section 47 Enquiry Start Date",
                    "Date of Strategy Discussion",
                    "S47 Start Date",
                    "Section 47 Start Date",
                    "Start Date of Section 47 Enquiry",
                ),
            ),
            Column("_end", "date", ("Date of Initial Child Protection Conference", "Date of ICPC", "ICPC Date")),
            start="_start",
            end="_end",
        ),
        _list(
            6,
            CaseType.CIN,
            Column(
                "_start",
                "date",
                ("CIN Start Date", "Child in Need Start Date", "Start Date of CIN Episode", "CIN Episode Start Date"),
            ),
            Column(
                "primary_need",
                "primary_need",
                (
                    "Primary Need Code",
                    "Primary Need",
                    "CIN Primary Need Code",
                    "Category of Need",
                    "Child's Category of Need",
                ),
            ),
            Column(
                "last_seen_date",
                "date",
                ("Date Child Was Last Seen", "Date Child Last Seen", "Date Last Seen", "Last Seen Date"),
            ),
            Column(
                "_end",
                "date",
                ("CIN Closure Date", "CIN End Date", "Child in Need Closure Date", "Date CIN Closed", "Closure Date"),
            ),
            start="_start",
            end="_end",
        ),
        _list(
            7,
            CaseType.CP,
            Column(
                "_start",
                "date",
                (
                    "Child Protection Plan Start Date",
                    "CP Plan Start Date",
                    "Plan Start Date",
                    "Start Date of CP Plan",
                    "Start Date of Child Protection Plan",
                ),
            ),
            Column("_initial_abuse", "abuse", ("Initial Category of Abuse", "Initial Category")),
            Column("category_of_abuse", "abuse", ("Latest Category of Abuse", "Latest Category", "Category of Abuse")),
            Column(
                "last_statutory_visit",
                "date",
                (
                    "Date of the Last Statutory Visit",
                    "Date of Last Statutory Visit",
                    "Last Statutory Visit",
                    "Date of Last Visit",
                ),
            ),
            Column(
                "seen_alone",
                "bool",
                ("Was the Child Seen Alone?", "Was the Child Seen Alone", "Child Seen Alone", "Seen Alone"),
            ),
            Column(
                "latest_review",
                "date",
                (
                    "Date of latest review conference",
                    "Date of Latest Review Conference",
                    "Latest Review Conference",
                    "Date of Last Review Conference",
                    "Latest Review Conference Date",
                ),
            ),
            Column(
                "_end",
                "date",
                (
                    "Child Protection Plan End Date",
                    "CP Plan End Date",
                    "Plan End Date",
                    "End Date of CP Plan",
                    "End Date of Child Protection Plan",
                ),
            ),
            start="_start",
            end="_end",
        ),
        _list(
            8,
            CaseType.CLA,
            Column(
                "_start",
                "date",
                (
                    "Date Started to be Looked After",
                    "Date Started to be Looked After (Current Period)",
                    "Date Started Looked After",
                    "Date Became Looked After",
                    "Start Date of Current Period of Care",
                    "Date Entered Care",
                ),
            ),
            Column(
                "primary_need",
                "primary_need",
                (
                    "Child's Category of Need",
                    "Childs Category of Need",
                    "Category of Need",
                    "Primary Need Code",
                    "Primary Need",
                ),
            ),
            Column(
                "legal_status",
                "legal_status",
                ("Child's Legal Status", "Childs Legal Status", "Legal Status", "Current Legal Status"),
            ),
            Column(
                "latest_review",
                "date",
                (
                    "Date of Latest Statutory Review",
                    "Date of Latest Review",
                    "Latest Statutory Review",
                    "Date of Last Statutory Review",
                    "Date of Last LAC Review",
                    "Date of Latest CLA Review",
                ),
            ),
            Column(
                "last_statutory_visit",
                "date",
                (
                    "Date of Last Social Work Visit",
                    "Date of Last Statutory Visit",
                    "Last Social Work Visit",
                    "Date of Last Visit",
                ),
            ),
            Column(
                "permanence_plan",
                "text",
                (
                    "What is the permanence plan for this child?",
                    "Permanence Plan",
                    "What is the permanence plan for this child",
                ),
            ),
            Column(
                "last_iro_contact",
                "date",
                (
                    "Date of Last IRO Visit / Contact to the Child",
                    "Date of Last IRO Visit",
                    "Date of Last IRO Contact",
                    "Last IRO Contact",
                    "Date of Last IRO Visit/Contact",
                ),
            ),
            Column(
                "last_health_check",
                "date",
                (
                    "Date of Last Health Assessment",
                    "Date of Last Health Check",
                    "Last Health Assessment",
                    "Date of Latest Health Assessment",
                ),
            ),
            Column(
                "last_dental_check",
                "date",
                ("Date of Last Dental Check", "Last Dental Check", "Date of Latest Dental Check"),
            ),
            Column(
                "placements_12m",
                "count",
                (
                    "Number of Placements in the Last 12 months",
                    "Number of Placements in Last 12 Months",
                    "Placements in the Last 12 Months",
                    "Number of Placements",
                ),
            ),
            Column(
                "_end",
                "date",
                (
                    "Date Ceased to be Looked After",
                    "Date Ceased Looked After",
                    "Date Ceased",
                    "Date Left Care",
                    "End Date of Period of Care",
                ),
            ),
            Column(
                "missing_12m",
                "count",
                (
                    "Number of Episodes the Child has been 'Missing' from their Placement in the last 12 months",
                    "Number of Episodes the Child has been Missing from their Placement in the last 12 months",
                    "Number of Missing Episodes in the Last 12 Months",
                    "Number of Missing Episodes",
                    "Number of Episodes the Child has been 'Missing' from their Placement",
                ),
            ),
            Column(
                "absent_12m",
                "count",
                (
                    "Number of Episodes the Child has been 'Absent' from their Placement in the last 12 months",
                    "Number of Episodes the Child has been Absent from their Placement in the last 12 months",
                    "Number of Absences in the Last 12 Months",
                    "Number of Absent Episodes",
                    "Number of Episodes the Child has been 'Absent' from their Placement",
                ),
            ),
            Column(
                "return_interview_offered",
                "bool",
                (
                    "Was the child offered a Return Interview after their last missing episode (Y/N)?",
                    "Was the child offered a Return Interview after their last missing episode",
                    "Return Interview Offered",
                    "Was the child offered a Return Interview",
                ),
            ),
            Column(
                "return_interview_accepted",
                "bool",
                (
                    "Did the child accept a Return Interview after their last missing episode (Y/N)?",
                    "Did the child accept a Return Interview after their last missing episode",
                    "Return Interview Accepted",
                    "Did the child accept a Return Interview",
                ),
            ),
            start="_start",
            end="_end",
        ),
        _list(9, CaseType.CARE_LEAVER),
        _list(
            10,
            CaseType.ADOPTION,
            Column(
                "_entered_care", "date", ("Date the Child Entered Care", "Date Child Entered Care", "Date Entered Care")
            ),
            Column(
                "_start",
                "date",
                (
                    "Date of Decision that Child Should be Placed for Adoption",
                    "Date of Decision that the Child Should be Placed for Adoption",
                    "Date of ADM Decision",
                    "Date of Agency Decision",
                ),
            ),
            Column("_end", "date", ("Date of Adoption Order", "Adoption Order Date")),
            Column(
                "_stopped",
                "date",
                (
                    "Date of Decision that Child Should No Longer be Placed for Adoption",
                    "Date of Decision that the Child Should No Longer be Placed for Adoption",
                    "Date Decision Reversed",
                ),
            ),
            start="_start",
            end="_end",
        ),
    )
}
IGNORED_LISTS = frozenset({1, 11})
_SHEET_NUMBER = re.compile(r"\b(?:list|l)\s*(\d{1,2})\b")
_ETHNIC_CODE = re.compile(r"^([A-Z]{4})(?:\s*(?::|-|–)\s*.*)?$")


def list_number(sheet_title: str) -> int | None:
    """`List 8`, `L8`, `List 8 - Children in care`, `list8` -> 8; anything else -> None."""
    match = _SHEET_NUMBER.search(normalise_header(sheet_title).replace("list", "list "))
    return int(match.group(1)) if match else None


# ---------------------------------------------------------------- reading


# A workbook is a zip of XML. Before anything is unpacked, its members are checked against these, so a small file
# that unpacks to gigabytes (a "zip bomb") is refused instead of filling the worker's memory. A real Annex A of
# 50 MB unpacks to a few hundred MB at ratios of 5-30; openpyxl reads the sheets as streams but holds the shared
# strings in memory, hence their tighter limit. (openpyxl parses the XML with defusedxml: no entity expansion.)
MAX_UNPACKED_BYTES = 1024 * 1024 * 1024
MAX_SHARED_STRINGS_BYTES = 200 * 1024 * 1024
MAX_COMPRESSION_RATIO = 200


def workbook_safety_problem(content: bytes) -> str | None:
    """Why this .xlsx must not be opened (too big or too compressed once unpacked), or None if it may be."""
    try:
        members = zipfile.ZipFile(io.BytesIO(content)).infolist()
    except (zipfile.BadZipFile, ValueError, OSError):
        return None  # not a zip: openpyxl says it cannot be opened
    total = 0
    for member in members:
        total += member.file_size
        ratio = member.file_size / max(member.compress_size, 1)
        too_big = total > MAX_UNPACKED_BYTES or (
            member.filename.endswith("sharedStrings.xml") and member.file_size > MAX_SHARED_STRINGS_BYTES
        )
        if too_big or (member.file_size > 1024 * 1024 and ratio > MAX_COMPRESSION_RATIO):
            return (
                "unpacks to far more data than a real Annex A workbook (it may be damaged or made to exhaust the "
                "server), so it was not opened. Save it again from Excel, or export the lists as CSV."
            )
    return None


def read(files: list[UploadedFile], *, today: date) -> ReadResult:
    """Read one or more Annex A workbooks into row facts and problems."""
    from openpyxl import load_workbook

    result = ReadResult(rows=[], problems=[], rows_read=0)
    for upload in files:
        prefix = f"{upload.name}: " if len(files) > 1 else ""
        unsafe = workbook_safety_problem(upload.content)
        if unsafe:
            result.problems.append(Problem(upload.name, None, None, None, f"{upload.name} {unsafe}"))
            continue
        try:
            workbook = load_workbook(io.BytesIO(upload.content), read_only=True, data_only=False)
        except Exception:
            result.problems.append(
                Problem(
                    upload.name, None, None, None, f"{upload.name} could not be opened as an Excel workbook (.xlsx)."
                )
            )
            continue
        try:
            seen: dict[int, str] = {}
            for sheet in workbook.worksheets:
                number = list_number(sheet.title)
                if number in IGNORED_LISTS:
                    continue
                if number not in LISTS:
                    result.problems.append(
                        Problem(
                            prefix + sheet.title,
                            None,
                            None,
                            None,
                            f"Sheet '{sheet.title}' is not one of Annex A lists 2–10; ignored.",
                            "warning",
                        )
                    )
                    continue
                if number in seen:
                    result.problems.append(
                        Problem(
                            prefix + sheet.title,
                            None,
                            None,
                            None,
                            f"Sheet '{sheet.title}' is a second List {number} (after '{seen[number]}'); ignored.",
                            "warning",
                        )
                    )
                    continue
                seen[number] = sheet.title
                _read_sheet(sheet.iter_rows(values_only=True), LISTS[number], prefix + sheet.title, today, result)
        finally:
            workbook.close()
    return result


def _read_sheet(rows_iter, spec: ListSpec, sheet: str, today: date, result: ReadResult) -> None:
    header_row = None
    headers: list[Any] = []
    found: dict[str, int] = {}
    aliases = {c.key: c.aliases for c in spec.columns}
    for number, values in enumerate(rows_iter, start=1):
        candidate = match_headers(list(values), aliases)
        if number == 1:
            found = candidate  # reported against row 1 if no row has a child ID column
        if "_child_id" in candidate:
            header_row, headers, found = number, list(values), candidate
            break
        if number >= HEADER_SEARCH_ROWS:
            break
    missing = [c for c in spec.required if c.key not in found]
    if missing:
        for column in missing:
            result.problems.append(
                Problem(
                    sheet,
                    header_row or 1,
                    column.expected,
                    None,
                    f"{spec.key} has no '{column.expected}' column, which it needs; the list was not read.",
                )
            )
        return
    result.kinds_found.add(spec.case_type)  # the list is there (even with no rows): the extract covers its kind
    reader = _SheetReader(spec, sheet, headers, found, today, result)
    for number, values in enumerate(rows_iter, start=header_row + 1):
        reader.row(number, values)
    reader.finish()


class _SheetReader:
    def __init__(
        self, spec: ListSpec, sheet: str, headers: list[Any], found: dict[str, int], today: date, result: ReadResult
    ) -> None:
        self.spec, self.sheet, self.today, self.result = spec, sheet, today, result
        self.columns = [(c, found[c.key]) for c in spec.columns if c.key in found]
        self.headers = {
            c.key: (str(headers[i]).strip() if headers[i] is not None else c.expected) for c, i in self.columns
        }
        self.first_row: dict[str, int] = {}
        self.warning_counts: dict[str, int] = defaultdict(int)
        self.errors = 0

    # problems
    def _error(self, row: int, key: str | None, value: Any, message: str) -> None:
        self.errors += 1
        self.result.problems.append(
            Problem(self.sheet, row, self.headers.get(key) if key else None, _show(value), message)
        )

    def _warn(self, row: int, key: str, value: Any, message: str) -> None:
        self.warning_counts[key] += 1
        if self.warning_counts[key] <= WARNINGS_PER_COLUMN:
            self.result.problems.append(
                Problem(self.sheet, row, self.headers.get(key), _show(value), message, "warning")
            )

    def finish(self) -> None:
        for key, count in self.warning_counts.items():
            if count > WARNINGS_PER_COLUMN:
                self.result.problems.append(
                    Problem(
                        self.sheet,
                        None,
                        self.headers.get(key),
                        None,
                        f"{count - WARNINGS_PER_COLUMN} more cells in this column were treated as blank.",
                        "warning",
                    )
                )

    # rows
    def row(self, number: int, values: tuple[Any, ...]) -> None:
        raw = {c.key: (values[i] if i < len(values) else None) for c, i in self.columns}
        if all(clean_text(v).value is None and not _is_debris(v) for v in values):
            return  # a blank line (often trailing formatting): not a row
        self.result.rows_read += 1
        errors_before = self.errors
        parsed: dict[str, Any] = {}
        for column, _ in self.columns:
            parsed[column.key] = self._cell(number, column, raw[column.key])
        child_id = parsed.pop("_child_id")
        if child_id is None:
            self._error(number, "_child_id", raw["_child_id"], "The child ID is missing, so this row cannot be read.")
        elif child_id in self.first_row:
            self._error(
                number,
                "_child_id",
                raw["_child_id"],
                f"Child {child_id} appears twice in {self.spec.key} (also on row {self.first_row[child_id]}).",
            )
        else:
            self.first_row[child_id] = number
        row = self._row_facts(number, child_id, parsed)
        if self.errors == errors_before and row is not None:
            self.result.rows.append(row)

    def _row_facts(self, number: int, child_id: str | None, parsed: dict[str, Any]) -> RowFacts | None:
        spec = self.spec
        dob = parsed.pop("_dob", None)
        age = parsed.pop("_age", None)
        facts: dict[str, Any] = {}
        if dob is not None:
            if dob > self.today:
                self._error(number, "_dob", dob, f"The date of birth {dob:%d/%m/%Y} is in the future.")
            facts["birth_year"], facts["birth_month"] = dob.year, dob.month
        elif age is not None:
            facts["age_at_extract"] = age
        start = parsed.get(spec.start) if spec.start else None
        end = parsed.get(spec.end) if spec.end else None
        if spec.number == 3 and parsed.get("_nfa") and start is not None:
            end = start  # a referral with no further action ended the day it was made
        if spec.number == 7 and parsed.get("category_of_abuse") is None:
            parsed["category_of_abuse"] = parsed.get("_initial_abuse")
        if spec.number == 10:
            start = start or parsed.get("_entered_care")
            end = end or parsed.get("_stopped")
        if start and end and end < start:
            end_key = spec.end if parsed.get(spec.end) == end else "_stopped"
            self._error(number, end_key, end, f"The end date {end:%d/%m/%Y} is before the start date {start:%d/%m/%Y}.")
        team = parsed.pop("team_name", None)
        for key, value in parsed.items():
            if not key.startswith("_") and value is not None:
                facts[key] = value
        if child_id is None:
            return None
        return RowFacts(
            child_id=child_id,
            list_key=spec.key,
            case_type=spec.case_type,
            sheet=self.sheet,
            row=number,
            start_date=start,
            end_date=end,
            team_name=team,
            facts=facts,
        )

    # cells
    def _cell(self, number: int, column: Column, raw: Any) -> Any:
        key, kind = column.key, column.kind
        if isinstance(raw, str):
            cell = clean_text(raw)
            if cell.value is None:
                if cell.note:
                    self._warn(number, key, raw, f"{cell.note[0].upper()}{cell.note[1:]}.")
                return None
        try:
            if kind in ("date", "dob"):
                return parse_date(raw)
            if kind == "bool":
                return parse_yes_no(raw)
            if kind == "count":
                return parse_count(raw)
            if kind == "age":
                return _parse_age(raw)
        except CellProblem as exc:
            what = {"date": "date", "dob": "date of birth", "bool": "Yes/No answer", "count": "number", "age": "age"}[
                kind
            ]
            self._error(number, key, raw, f"Not a valid {what}: {exc}.")
            return None
        text = clean_text(raw).value
        if text is None:
            return None
        if kind == "id":
            return text
        value = self._coded(number, column, raw, text)
        limit = TEXT_LIMITS.get(key)
        if value is not None and limit and len(value) > limit:
            self._warn(number, key, raw, f"Longer than {limit} characters; cut short.")
            value = value[:limit]
        return value

    def _coded(self, number: int, column: Column, raw: Any, text: str) -> str | None:
        kind, key = column.kind, column.key
        if kind == "name":
            return normalise_person_name(text)
        if kind == "gender":
            return strip_list_prefix(text)
        if kind == "text":
            return strip_list_prefix(text)
        if kind == "ethnicity":
            value = strip_list_prefix(text) or ""
            match = _ETHNIC_CODE.match(value)
            return match.group(1) if match else value or None
        if kind == "abuse":
            value = coded_value(text) or ""
            if value.upper() in ABUSE_CODES.values():
                return value.upper()
            lowered = value.lower()
            return next((code for word, code in ABUSE_CODES.items() if lowered.startswith(word)), value or None)
        code = (coded_value(text) or "").upper().replace(" ", "")
        if kind == "legal_status":
            if code in LEGAL_STATUS_CODES:
                return code
            self._error(
                number, key, raw, f"'{text}' is not a legal status code ({', '.join(sorted(LEGAL_STATUS_CODES))})."
            )
            return None
        if kind == "primary_need":
            if code in PRIMARY_NEED_CODES:
                return code
            if re.fullmatch(r"N\d+", code):
                self._error(number, key, raw, f"'{text}' is not a primary need code (N0 to N9).")
            else:
                # Another classification (e.g. an adult-care support reason) exported into the column:
                # not a CIN code at all, so left blank rather than stopping the import.
                self._warn(number, key, raw, f"'{text}' is not a CIN primary need code (N0 to N9); left blank.")
            return None
        return text


def _parse_age(raw: Any) -> int | None:
    if isinstance(raw, bool):
        raise CellProblem(f"{raw} is not an age")
    if isinstance(raw, (int, float)):
        value = float(raw)
    else:
        text = clean_text(raw).value
        if text is None:
            return None
        try:
            value = float(text)
        except ValueError:
            raise CellProblem(f"'{text}' is not a number of years") from None
    if not 0 <= value < 130:
        raise CellProblem(f"{raw} is not a possible age")
    return int(value)


def _is_debris(value: Any) -> bool:
    return isinstance(value, str) and clean_text(value).note is not None and value.strip() != ""


def _show(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, date):
        return f"{value:%d/%m/%Y}"
    return str(value)
