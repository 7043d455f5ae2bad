"""SSDA903 (children looked after return) reader: a set of CSV tables uploaded together.

Files are recognised by their header columns (the file name is only a fallback):
`header` (CHILD, SEX, DOB, ETHNIC), `episodes` (CHILD, DECOM, LS, CIN, PLACE, DEC...),
`reviews` (CHILD, REVIEW) and `missing` (CHILD, MISSING, MIS_START). Any other table
(uasc, oc2, oc3, ad1...) is ignored with a warning naming the file.

Each child with episodes becomes one `RowFacts` of type cla (list key "episodes"):

- the latest episode (by DECOM) gives legal status (LS) and primary need (CIN);
- the period of care is the current run of episodes, each starting the day the one
  before ended; it starts at the run's earliest DECOM and is open when the latest
  episode has no DEC (else it ended on that DEC);
- **reference date** for "last 12 months": the most recent episode or missing date in the
  return (DECOM, DEC, MIS_START, MIS_END) that is not after today; never a date of birth, and
  not review dates (real and fake returns carry reviews scheduled years ahead, which would
  push the window past the period the return covers). So a return re-imported later gives
  the same counts. The 12 months are (reference - 1 year, reference];
- placements_12m: episodes starting in those 12 months that began a placement
  (reason for new episode other than L, "change of legal status only");
- latest_review: the latest REVIEW date not after today (later ones are planned, not held:
  ignored, with one warning counting them); missing_12m / absent_12m: MISSING = M / A
  episodes with MIS_START in those 12 months (0 when a missing table was uploaded and
  the child has none; unknown when none was uploaded).

Of the date of birth only year and month are kept; postcodes (HOME_POST, PL_POST) and
UPNs are never read. A child with an error anywhere is reported and left out of `rows`.
"""

from __future__ import annotations

import csv
import io
import re
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from app.cases.cleaning import CellProblem, clean_text, coded_value, match_headers, parse_date
from app.cases.facts import CaseType, Problem, RowFacts
from app.cases.readers import ReadResult, UploadedFile
from app.cases.readers.annex_a import LEGAL_STATUS_CODES, PRIMARY_NEED_CODES

SEX_CODES = {"1": "Male", "2": "Female"}
MISSING_CODES = {"M": "missing_12m", "A": "absent_12m"}
# Tables: the columns they must have (to be recognised) and the aliases of the columns read.
TABLES: dict[str, dict[str, tuple[str, ...]]] = {
    "header": {
        "CHILD": ("CHILD", "CHILD_ID"),
        "SEX": ("SEX", "GENDER"),
        "DOB": ("DOB",),
        "ETHNIC": ("ETHNIC", "ETHNICITY"),
    },
    "episodes": {
        "CHILD": ("CHILD", "CHILD_ID"),
        "DECOM": ("DECOM",),
        "RNE": ("RNE",),
        "LS": ("LS",),
        "CIN": ("CIN",),
        "PLACE": ("PLACE",),
        "DEC": ("DEC",),
    },
    "reviews": {"CHILD": ("CHILD", "CHILD_ID"), "REVIEW": ("REVIEW", "REVIEW_DATE")},
    "missing": {
        "CHILD": ("CHILD", "CHILD_ID"),
        "MISSING": ("MISSING",),
        "MIS_START": ("MIS_START",),
        "MIS_END": ("MIS_END",),
    },
}
REQUIRED = {
    "header": ("CHILD", "SEX", "DOB", "ETHNIC"),
    "episodes": ("CHILD", "DECOM", "LS", "DEC"),
    "reviews": ("CHILD", "REVIEW"),
    "missing": ("CHILD", "MISSING", "MIS_START"),
}
_NAME_HINTS = {"header": "header", "episodes": "episodes", "reviews": "reviews", "missing": "missing"}


@dataclass
class _Episode:
    line: int
    start: date
    end: date | None
    rne: str | None
    legal_status: str | None
    primary_need: str | None


@dataclass
class _Return:
    today: date
    result: ReadResult
    children: dict[str, tuple[int, dict[str, Any]]] = field(default_factory=dict)  # child -> (line, facts)
    episodes: dict[str, list[_Episode]] = field(default_factory=lambda: defaultdict(list))
    reviews: dict[str, date] = field(default_factory=dict)
    missing: dict[str, list[tuple[str, date]]] = field(default_factory=lambda: defaultdict(list))
    bad_children: set[str] = field(default_factory=set)
    latest: date | None = None
    tables: dict[str, str] = field(default_factory=dict)  # kind -> file name

    future_reviews: int = 0
    unreadable: set[str] = field(default_factory=set)  # tables uploaded but missing a needed column

    def seen(self, *dates: date | None) -> None:
        for value in dates:
            if value is not None and value <= self.today and (self.latest is None or value > self.latest):
                self.latest = value


def read(files: list[UploadedFile], *, today: date) -> ReadResult:
    """Read an SSDA903 CSV set into one cla `RowFacts` per child with episodes."""
    state = _Return(today=today, result=ReadResult(rows=[], problems=[], rows_read=0))
    for upload in files:
        _read_file(upload, state)
    problems = state.result.problems
    for kind in ("header", "episodes"):
        if kind not in state.tables and kind not in state.unreadable:
            problems.append(
                Problem(
                    kind,
                    None,
                    None,
                    None,
                    f"No {kind} table (e.g. {kind}.csv) was uploaded; an SSDA903 import needs header and episodes.",
                )
            )
    if "header" in state.tables and "episodes" in state.tables:
        _build_rows(state)
    return state.result


def _kind_of(name: str, headers: list[str]) -> tuple[str | None, dict[str, int]]:
    """Which table a file is, by its columns (file name breaks a tie)."""
    best: tuple[str | None, dict[str, int]] = (None, {})
    stem = re.sub(r"\.[^.]*$", "", name.rsplit("/", 1)[-1]).lower()
    for kind, aliases in TABLES.items():
        found = match_headers(list(headers), aliases)
        if all(col in found for col in REQUIRED[kind]) and (best[0] is None or _NAME_HINTS[kind] in stem):
            best = (kind, found)
    return best


def _decode(upload: UploadedFile, state: _Return) -> str | None:
    try:
        return upload.content.decode("utf-8-sig")
    except UnicodeDecodeError:
        state.result.problems.append(
            Problem(upload.name, None, None, None, f"{upload.name} is not UTF-8 text; read as Windows-1252.", "warning")
        )
        return upload.content.decode("cp1252", errors="replace")


def _read_file(upload: UploadedFile, state: _Return) -> None:
    problems = state.result.problems
    text = _decode(upload, state)
    reader = csv.reader(io.StringIO(text, newline=""))
    headers = next(reader, None)
    if not headers:
        problems.append(Problem(upload.name, None, None, None, f"{upload.name} is empty.", "warning"))
        return
    kind, found = _kind_of(upload.name, headers)
    if kind is None:
        stem = upload.name.rsplit("/", 1)[-1].lower()
        hint = next((k for k in TABLES if k in stem), None)
        if hint:
            absent = [c for c in REQUIRED[hint] if c not in match_headers(headers, TABLES[hint])]
            state.unreadable.add(hint)
            problems.append(
                Problem(
                    upload.name,
                    1,
                    absent[0],
                    None,
                    f"{upload.name} looks like the {hint} table but has no "
                    f"{', '.join(absent)} column; it was not read.",
                )
            )
        else:
            problems.append(
                Problem(
                    upload.name,
                    None,
                    None,
                    None,
                    f"{upload.name} is not a table this import uses (header, episodes, reviews, missing); ignored.",
                    "warning",
                )
            )
        return
    if kind in state.tables:
        problems.append(
            Problem(
                upload.name,
                None,
                None,
                None,
                f"{upload.name} is a second {kind} table (after {state.tables[kind]}); ignored.",
                "warning",
            )
        )
        return
    state.tables[kind] = upload.name
    handler = {"header": _header_line, "episodes": _episode_line, "reviews": _review_line, "missing": _missing_line}[
        kind
    ]
    for line, values in enumerate(reader, start=2):
        cells = {key: (values[i] if i < len(values) else None) for key, i in found.items()}
        if all(clean_text(v).value is None for v in values):
            continue
        state.result.rows_read += 1
        _Line(upload.name, line, cells, headers, found, state).run(handler)


class _Line:
    """One CSV line: cleaned cells and problems located at file, line and column."""

    def __init__(
        self, name: str, line: int, cells: dict[str, Any], headers: list[str], found: dict[str, int], state: _Return
    ) -> None:
        self.name, self.line, self.cells, self.state = name, line, cells, state
        self.headers = {key: headers[i].strip() for key, i in found.items()}
        self.failed = False
        self.child: str | None = None

    def run(self, handler) -> None:
        self.child = self.text("CHILD")
        if self.child is None:
            self.error("CHILD", "The child ID is missing, so this line cannot be read.")
            return
        handler(self, self.state)
        if self.failed:
            self.state.bad_children.add(self.child)

    def error(self, key: str, message: str) -> None:
        self.failed = True
        self.state.result.problems.append(
            Problem(self.name, self.line, self.headers.get(key, key), self.cells.get(key), message)
        )

    def text(self, key: str) -> str | None:
        return clean_text(self.cells.get(key), formulas=False).value

    def date(self, key: str, *, required: bool = False) -> date | None:
        try:
            value = parse_date(self.cells.get(key))
        except CellProblem as exc:
            self.error(key, f"Not a valid date: {exc}.")
            return None
        if value is None and required:
            self.error(key, f"The {key} date is missing.")
        return value


def _header_line(line: _Line, state: _Return) -> None:
    if line.child in state.children:
        line.error(
            "CHILD",
            f"Child {line.child} appears twice in the header table (also on line {state.children[line.child][0]}).",
        )
        return
    facts: dict[str, Any] = {}
    dob = line.date("DOB")
    if dob is not None:
        if dob > state.today:
            line.error("DOB", f"The date of birth {dob:%d/%m/%Y} is in the future.")
        facts["birth_year"], facts["birth_month"] = dob.year, dob.month
    sex = line.text("SEX")
    if sex is not None:
        facts["gender"] = SEX_CODES.get(sex, sex)
    ethnic = coded_value(line.text("ETHNIC"))
    if ethnic is not None:
        facts["ethnicity"] = ethnic
    state.children[line.child] = (line.line, facts)


def _episode_line(line: _Line, state: _Return) -> None:
    start = line.date("DECOM", required=True)
    end = line.date("DEC")
    if start and end and end < start:
        line.error("DEC", f"The episode ends ({end:%d/%m/%Y}) before it starts ({start:%d/%m/%Y}).")
    legal = (line.text("LS") or "").upper() or None
    if legal is not None and legal not in LEGAL_STATUS_CODES:
        line.error("LS", f"'{legal}' is not a legal status code ({', '.join(sorted(LEGAL_STATUS_CODES))}).")
    need = (line.text("CIN") or "").upper() or None
    if need is not None and need not in PRIMARY_NEED_CODES:
        line.error("CIN", f"'{need}' is not a primary need code (N0 to N9).")
    if start is None:
        return
    for other in state.episodes[line.child]:
        if other.start == start:
            line.error(
                "DECOM", f"Child {line.child} has two episodes starting {start:%d/%m/%Y} (also on line {other.line})."
            )
            return
    state.seen(start, end)
    state.episodes[line.child].append(
        _Episode(line.line, start, end, (line.text("RNE") or "").upper() or None, legal, need)
    )


def _review_line(line: _Line, state: _Return) -> None:
    review = line.date("REVIEW", required=True)
    if review is None:
        return
    if review > state.today:
        state.future_reviews += 1
        return
    if line.child not in state.reviews or review > state.reviews[line.child]:
        state.reviews[line.child] = review


def _missing_line(line: _Line, state: _Return) -> None:
    code = (line.text("MISSING") or "").upper()
    if code not in MISSING_CODES:
        line.error("MISSING", f"'{line.text('MISSING') or ''}' is not M (missing) or A (absent).")
    start = line.date("MIS_START", required=True)
    end = line.date("MIS_END")
    if start and end and end < start:
        line.error("MIS_END", f"The missing episode ends ({end:%d/%m/%Y}) before it starts ({start:%d/%m/%Y}).")
    if start is None or code not in MISSING_CODES:
        return
    state.seen(start, end)
    state.missing[line.child].append((code, start))


def _year_before(day: date) -> date:
    try:
        return day.replace(year=day.year - 1)
    except ValueError:  # 29 February
        return day.replace(year=day.year - 1, day=28)


def _build_rows(state: _Return) -> None:
    problems = state.result.problems
    episodes_file = state.tables["episodes"]
    reference = state.latest or state.today
    window_start = _year_before(reference)
    for child, episodes in state.episodes.items():
        episodes.sort(key=lambda e: e.start)
        if child not in state.children:
            problems.append(
                Problem(
                    episodes_file,
                    episodes[0].line,
                    "CHILD",
                    child,
                    f"Child {child} has episodes but is not in the header table.",
                )
            )
            continue
        if child in state.bad_children:
            continue
        latest = episodes[-1]
        run_start = latest.start
        for earlier in reversed(episodes[:-1]):
            if earlier.end is not None and earlier.end == run_start:
                run_start = earlier.start
            else:
                break
        facts = dict(state.children[child][1])
        if latest.legal_status:
            facts["legal_status"] = latest.legal_status
        if latest.primary_need:
            facts["primary_need"] = latest.primary_need
        facts["placements_12m"] = sum(1 for e in episodes if window_start < e.start <= reference and e.rne != "L")
        if child in state.reviews:
            facts["latest_review"] = state.reviews[child]
        if "missing" in state.tables:
            for code, key in MISSING_CODES.items():
                facts[key] = sum(
                    1 for c, start in state.missing.get(child, ()) if c == code and window_start < start <= reference
                )
        state.result.rows.append(
            RowFacts(
                child_id=child,
                list_key="episodes",
                case_type=CaseType.CLA,
                sheet=episodes_file,
                row=latest.line,
                start_date=run_start,
                end_date=latest.end,
                facts=facts,
            )
        )
    if state.future_reviews:
        problems.append(
            Problem(
                state.tables["reviews"],
                None,
                "REVIEW",
                None,
                f"{state.future_reviews} review dates are after today; they were ignored.",
                "warning",
            )
        )
    no_episodes = [c for c in state.children if c not in state.episodes]
    if no_episodes:
        problems.append(
            Problem(
                state.tables["header"],
                state.children[no_episodes[0]][0],
                "CHILD",
                no_episodes[0],
                f"{len(no_episodes)} children in the header table have no episodes, so they are "
                f"not cases (first: {no_episodes[0]}).",
                "warning",
            )
        )
    for kind, table in (("reviews", state.reviews), ("missing", state.missing)):
        orphans = [c for c in table if c not in state.episodes]
        if orphans:
            problems.append(
                Problem(
                    state.tables[kind],
                    None,
                    "CHILD",
                    orphans[0],
                    f"{len(orphans)} children in the {kind} table have no episodes; their "
                    f"rows were ignored (first: {orphans[0]}).",
                    "warning",
                )
            )
