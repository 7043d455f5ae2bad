"""The shape every extract reader produces, and the pure rules that turn rows into one case per child.

Readers (Annex A, SSDA903, canonical CSV) yield `RowFacts`, one per row of one list,
plus `Problem`s naming sheet/file, row, column and value. `merge_rows` folds all the
rows for a child into one `CaseFacts`, whose case type is the most intensive open
involvement.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum
from typing import Any


class CaseType(StrEnum):
    EARLY_HELP = "early_help"
    REFERRAL = "referral"
    ASSESSMENT = "assessment"
    CIN = "cin"
    CP = "cp"
    CLA = "cla"
    CARE_LEAVER = "care_leaver"
    ADOPTION = "adoption"

    @property
    def label(self) -> str:
        return CASE_TYPE_LABELS[self]


CASE_TYPE_LABELS = {
    CaseType.EARLY_HELP: "Early help",
    CaseType.REFERRAL: "Referral",
    CaseType.ASSESSMENT: "Assessment",
    CaseType.CIN: "Child in need",
    CaseType.CP: "Child protection",
    CaseType.CLA: "Child looked after",
    CaseType.CARE_LEAVER: "Care leaver",
    CaseType.ADOPTION: "Adoption",
}

# Most intensive first. Care leavers and adoption are their own kinds of case and outrank none of these
# when the child has another open involvement; they are the type only when nothing above is open.
INTENSITY = (CaseType.CLA, CaseType.CP, CaseType.CIN, CaseType.ASSESSMENT, CaseType.REFERRAL, CaseType.EARLY_HELP)
OWN_KINDS = (CaseType.CARE_LEAVER, CaseType.ADOPTION)

# The facts a case holds (besides identity, type, team and status), with their Python type.
FACT_FIELDS: dict[str, type] = {
    "birth_year": int,
    "birth_month": int,
    "age_at_extract": int,
    "gender": str,
    "ethnicity": str,
    "disability": bool,
    "legal_status": str,
    "primary_need": str,
    "category_of_abuse": str,
    "worker_name": str,
    "worker_id": str,
    "manager_name": str,
    "referral_date": date,
    "assessment_start": date,
    "assessment_authorised": date,
    "child_seen": bool,
    "seen_alone": bool,
    "last_seen_date": date,
    "last_statutory_visit": date,
    "latest_review": date,
    "last_iro_contact": date,
    "last_health_check": date,
    "last_dental_check": date,
    "permanence_plan": str,
    "placements_12m": int,
    "missing_12m": int,
    "absent_12m": int,
    "return_interview_offered": bool,
    "return_interview_accepted": bool,
}

# How each fact reads in a sentence or a form (the audit form's prefill explanations, corrections of the register).
FACT_LABELS: dict[str, str] = {
    "birth_year": "Year of birth",
    "birth_month": "Month of birth",
    "age_at_extract": "Age at extract",
    "gender": "Gender",
    "ethnicity": "Ethnicity",
    "disability": "Disability",
    "legal_status": "Legal status",
    "primary_need": "Primary need",
    "category_of_abuse": "Category of abuse",
    "worker_name": "Allocated worker",
    "worker_id": "Allocated worker's ID",
    "manager_name": "Team manager",
    "referral_date": "Referral",
    "assessment_start": "Assessment started",
    "assessment_authorised": "Assessment authorised",
    "child_seen": "Child seen",
    "seen_alone": "Child seen alone",
    "last_seen_date": "Child last seen",
    "last_statutory_visit": "Last statutory visit",
    "latest_review": "Latest review",
    "last_iro_contact": "Last IRO contact",
    "last_health_check": "Last health assessment",
    "last_dental_check": "Last dental check",
    "permanence_plan": "Permanence plan",
    "placements_12m": "Placements in the last 12 months",
    "missing_12m": "Missing episodes in the last 12 months",
    "absent_12m": "Absences in the last 12 months",
    "return_interview_offered": "Return home interview offered",
    "return_interview_accepted": "Return home interview accepted",
}

# Whole-number facts with a range of their own, (lowest, highest, what one is); other counts are 0 or more.
FACT_RANGES: dict[str, tuple[int, int, str]] = {"birth_year": (1900, 2100, "year"), "birth_month": (1, 12, "month")}


@dataclass(frozen=True)
class Problem:
    """One thing wrong with an extract, located so the person who made the file can fix it."""

    sheet: str  # the sheet (Annex A) or file name (CSV)
    row: int | None  # the spreadsheet row number, header = 1
    column: str | None
    value: str | None
    message: str
    severity: str = "error"  # "error" stops an all-or-nothing import; "warning" never does

    def as_dict(self) -> dict[str, Any]:
        return {
            "sheet": self.sheet,
            "row": self.row,
            "column": self.column,
            "value": self.value,
            "message": self.message,
            "severity": self.severity,
        }


@dataclass
class RowFacts:
    """What one row of one list says about one child."""

    child_id: str
    list_key: str  # e.g. "List 8", "episodes", "csv"
    case_type: CaseType
    sheet: str
    row: int
    start_date: date | None = None
    end_date: date | None = None  # set: this involvement has ended
    team_name: str | None = None
    facts: dict[str, Any] = field(default_factory=dict)

    @property
    def open(self) -> bool:
        return self.end_date is None


@dataclass
class CaseFacts:
    """Everything the extract says about one child, merged across lists."""

    child_id: str
    case_type: CaseType
    status: str  # "open" or "closed"
    start_date: date | None
    end_date: date | None
    team_name: str | None
    source_lists: list[str]
    involvements: dict[str, dict[str, str | None]]
    facts: dict[str, Any]

    _hash: str | None = field(default=None, init=False, repr=False, compare=False)

    def content_hash(self) -> str:
        """A digest of everything imported, so re-importing the same file changes nothing (worked out once)."""
        if self._hash is None:
            self._hash = self._digest()
        return self._hash

    def _digest(self) -> str:
        payload = {
            "case_type": self.case_type.value,
            "status": self.status,
            "start_date": self.start_date,
            "end_date": self.end_date,
            "team_name": self.team_name,
            "source_lists": self.source_lists,
            "involvements": self.involvements,
            "facts": self.facts,
        }
        text = json.dumps(payload, sort_keys=True, default=str, separators=(",", ":"))
        return hashlib.sha256(text.encode()).hexdigest()


def case_type_of(rows: Iterable[RowFacts]) -> tuple[CaseType, bool]:
    """(case type, open?) for a child's rows: the most intensive open involvement, else the latest."""
    rows = list(rows)
    open_types = {r.case_type for r in rows if r.open}
    for kind in INTENSITY + OWN_KINDS:
        if kind in open_types:
            return kind, True
    latest = max(rows, key=lambda r: (r.end_date or date.min, INTENSITY_RANK.get(r.case_type, 99) * -1))
    return latest.case_type, False


INTENSITY_RANK = {kind: rank for rank, kind in enumerate(INTENSITY + OWN_KINDS)}


def merge_rows(rows: Iterable[RowFacts]) -> CaseFacts:
    """One case from all of a child's rows: facts from the most intensive list win, gaps filled from others."""
    rows = sorted(rows, key=lambda r: INTENSITY_RANK.get(r.case_type, 99))
    if not rows:
        raise ValueError("merge_rows needs at least one row")
    case_type, is_open = case_type_of(rows)
    facts: dict[str, Any] = {}
    for row in rows:
        for key, value in row.facts.items():
            if value is not None and facts.get(key) is None:
                facts[key] = value
    principal = [r for r in rows if r.case_type == case_type and (r.open or not is_open)]
    main = principal[0] if principal else rows[0]
    team = next((r.team_name for r in [main, *rows] if r.team_name), None)
    involvements = {
        r.list_key: {
            "start": r.start_date.isoformat() if r.start_date else None,
            "end": r.end_date.isoformat() if r.end_date else None,
        }
        for r in rows
    }
    starts = [r.start_date for r in principal if r.start_date]
    ends = [r.end_date for r in rows if r.end_date]
    return CaseFacts(
        child_id=main.child_id,
        case_type=case_type,
        status="open" if is_open else "closed",
        start_date=min(starts) if starts else None,
        end_date=None if is_open else (max(ends) if ends else None),
        team_name=team,
        source_lists=sorted({r.list_key for r in rows}),
        involvements=dict(sorted(involvements.items())),
        facts=dict(sorted(facts.items())),
    )
