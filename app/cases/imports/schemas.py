"""JSON shapes for case imports (`/api/v1/imports`), and the upload form."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field

from app.cases.imports.rules import MAX_LISTED_CLOSING
from app.cases.models import CaseImport
from app.web.forms import Ticked


class ImportUploadForm(BaseModel):
    """The upload form's choices besides the files (the service checks the format and mode)."""

    format: str = ""
    mode: str = "all_or_nothing"
    full: Ticked = False  # close the cases of the kinds the extract covers that are not in it: only when ticked


class ImportProblem(BaseModel):
    """One problem with an extract, located by file or sheet, row (header = 1) and column."""

    sheet: str | None
    row: int | None
    column: str | None
    value: str | None
    message: str


class ClosingCase(BaseModel):
    """An open case a full import closes (or closed): of a kind the extract covers, and not in it."""

    id: int
    child_id: str
    case_type: str


class ImportPublic(BaseModel):
    id: int
    # "previewed", "rejected", "queued", "importing", "committed", "failed", "discarded", "expired"
    status: str
    format: str
    mode: str
    full: bool
    file_names: list[str]
    file_hashes: list[str]
    rows_read: int
    created: int
    updated: int
    unchanged: int
    closed: int
    rejected: int
    new_teams: list[str]
    errors: list[ImportProblem]
    warnings: list[ImportProblem]
    covers: list[str] = Field(description="The kinds of case (case types) the extract covers")
    closing: list[ClosingCase] = Field(
        description=f"The cases it closes (or closed), the first {MAX_LISTED_CLOSING} by child ID"
    )
    changes: list[str] = Field(description="What differed from its preview when it was last confirmed")
    expires_at: datetime | None = Field(description="When a preview waiting for confirmation expires")
    created_by_id: int | None
    created_at: datetime
    finished_at: datetime | None


def _problems(items: list[dict]) -> list[ImportProblem]:
    return [ImportProblem(**{k: item.get(k) for k in ("sheet", "row", "column", "value", "message")}) for item in items]


def import_public(case_import: CaseImport) -> ImportPublic:
    return ImportPublic(
        id=case_import.id,
        status=case_import.status,
        format=case_import.format,
        mode=case_import.mode,
        full=case_import.full,
        file_names=case_import.file_names,
        file_hashes=case_import.file_hashes,
        rows_read=case_import.rows_read,
        created=case_import.created,
        updated=case_import.updated,
        unchanged=case_import.unchanged,
        closed=case_import.closed,
        rejected=case_import.rejected,
        new_teams=case_import.new_teams,
        errors=_problems(case_import.errors),
        warnings=_problems(case_import.warnings),
        covers=case_import.covers,
        closing=[ClosingCase(**case) for case in case_import.closing],
        changes=case_import.changes,
        expires_at=case_import.expires_at,
        created_by_id=case_import.created_by_id,
        created_at=case_import.created_at,
        finished_at=case_import.finished_at,
    )
