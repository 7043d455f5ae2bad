"""Importing extracts into the case register: the one service the browser, the API, the CLI and the demo use.

Two steps, so the browser can show a preview before anything changes:

- `import_prepare` reads the files, validates everything, merges rows per child, matches teams and
  compares with the register (create / update / unchanged / close). It stores the counts, the problems
  and the files themselves, so any replica can confirm the preview later.
- `import_commit` works the plan out again from the stored files against the register as it is now and writes
  it with Core bulk statements in chunks (never one ORM object per row), but only if it is what the preview
  showed; if anything differs (the register moved on) nothing is written and the import becomes the new preview
  to confirm (`PreviewChanged`). A preview can be discarded, and expires unconfirmed after a while.

`import_run` does both in one go (the API, the CLI, the demo generator): nobody saw a preview, so it writes the plan.

A full import closes the open cases of the kinds the extract covers that are not in it (app.cases.imports.rules),
and none while rows are rejected: the child of a rejected row is in the extract, only not readable.

A case's facts hash stands for what the case system last said about it, never for corrections made since: the QA
lead's correction of a fact holds while imports still bring the value it replaced (so an unchanged extract stays
unchanged), and an import bringing another value for that fact is taken and supersedes the correction
(app.cases.corrections).
"""

from __future__ import annotations

import hashlib
import logging
from collections import defaultdict
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any, Protocol

from sqlalchemy import Integer, bindparam, delete, select, update
from sqlmodel import Session

from app import clock
from app.accounts import selectors as account_selectors
from app.accounts import service as account_service
from app.accounts.models import User
from app.accounts.schemas import TeamCreate, normalise_name
from app.audit_trail.service import audit_record
from app.cases.corrections.rules import Pin, corrections_pin, to_json
from app.cases.corrections.selectors import corrections_in_force
from app.cases.corrections.service import Superseded, corrections_supersede
from app.cases.facts import FACT_FIELDS, CaseFacts, Problem, RowFacts, merge_rows
from app.cases.imports.rules import (
    MAX_LISTED_CLOSING,
    PreviewFigures,
    digest,
    extract_covers,
    preview_changes,
    preview_expired,
)
from app.cases.models import Case, CaseImport, CaseImportFile
from app.cases.people import people_resolve
from app.cases.readers import ReadResult, UploadedFile, get_reader
from app.config import DEFAULT_IMPORT_PREVIEW_EXPIRY_HOURS
from app.db import bulk_insert, refresh_statistics
from app.errors import Conflict, DomainError, ValidationFailed

log = logging.getLogger("caseaudit.imports")

FORMATS = {"annex_a": "Ofsted Annex A workbook", "ssda903": "SSDA903 CSV files", "csv": "Canonical CSV"}
MODES = {"all_or_nothing": "All or nothing", "skip_invalid": "Skip invalid rows"}
UNASSIGNED_AREA = "Unassigned"
WRITE_CHUNK = 2000
READ_CHUNK = 1000  # child IDs per IN (...) when comparing with the register
ANALYZE_AFTER = 1000  # rows created or updated by one import, beyond which the planner's statistics are refreshed
MAX_LISTED_PROBLEMS = 1000  # problems kept on the import record; the rest are counted in a final note
PREVIEW_EXPIRY = timedelta(hours=DEFAULT_IMPORT_PREVIEW_EXPIRY_HOURS)  # callers pass IMPORT_PREVIEW_EXPIRY_HOURS
CLOSED_PREVIEWS = ("discarded", "expired")  # kept on record, never confirmed
DISCARDABLE = ("previewed", "failed")  # waiting for confirmation, or stopped with its files kept

CASE_TABLE = Case.__table__
# Text columns and their widths, so a long value is a problem in the report and never a database error.
# (SQLModel's AutoString is a TypeDecorator over String, not a String: its width is read from the type either way.)
_TEXT_LIMITS = {
    column.name: length for column in CASE_TABLE.columns if (length := getattr(column.type, "length", None))
}
_TEAM_NAME_LIMIT = 120
# Whole-number columns hold 32-bit integers: a larger count or year in an extract is a problem, not a database error.
_INTEGER_COLUMNS = {column.name for column in CASE_TABLE.columns if isinstance(column.type, Integer)}
_INTEGER_MAX = 2**31 - 1


class ImportRejected(DomainError):
    """An all-or-nothing import with errors: nothing is written; the import record says why."""

    status_code = 422

    def __init__(self, case_import: CaseImport) -> None:
        super().__init__("This extract has errors, so nothing was imported. Correct the file and upload it again.")
        self.case_import = case_import


class PreviewChanged(Conflict):
    """Confirming would not write what the preview showed: nothing is written; the import is the new preview."""

    def __init__(self, case_import: CaseImport) -> None:
        super().__init__("The register changed since this preview: check the new figures and confirm again.")
        self.case_import = case_import


class PreviewClosed(Conflict):
    """A discarded or expired preview: kept on record, never imported."""

    def __init__(self, case_import: CaseImport) -> None:
        how = "was discarded" if case_import.status == "discarded" else "expired before it was confirmed"
        super().__init__(f"This preview {how}, so nothing was imported. Upload the extract again to import it.")
        self.case_import = case_import


@dataclass
class ImportPlan:
    """What an extract would do to the register, worked out without writing anything."""

    rows_read: int
    cases: list[CaseFacts]
    errors: list[Problem]
    warnings: list[Problem]
    rejected: int
    refused: bool  # nothing may be written (all-or-nothing with errors, or the file could not be read)
    covers: list[str] = field(default_factory=list)  # the kinds of case the extract covers (case type values)
    teams: dict[str, tuple[int, int] | None] = field(default_factory=dict)  # team key -> (team id, area id)
    team_names: dict[str, str] = field(default_factory=dict)  # team key -> name as first written
    creates: list[CaseFacts] = field(default_factory=list)
    updates: list[tuple[int, CaseFacts]] = field(default_factory=list)
    unchanged: int = 0
    closes: list[tuple[int, str, str]] = field(default_factory=list)  # (case id, child ID, case type), by child ID

    @property
    def new_teams(self) -> list[str]:
        return sorted((self.team_names[k] for k, v in self.teams.items() if v is None), key=str.lower)

    def figures(self) -> PreviewFigures:
        """What this plan would do, to compare with what a preview showed."""
        return PreviewFigures(
            created=len(self.creates),
            updated=len(self.updates),
            unchanged=self.unchanged,
            closed=len(self.closes),
            rejected=self.rejected,
            new_teams=tuple(self.new_teams),
            digests={
                "created": digest(sorted(case.child_id for case in self.creates)),
                "updated": digest(sorted(case_id for case_id, _ in self.updates)),
                "closed": digest(case_id for case_id, _, _ in self.closes),
                "rejected": digest(problem.as_dict() for problem in self.errors),
            },
        )


def team_key(name: str) -> str:
    """Teams match ignoring case and runs of white space."""
    return normalise_name(name).lower()


def sha256_hex(content: bytes) -> str:
    return hashlib.sha256(content).hexdigest()


def _chunks(items: Sequence[Any], size: int) -> Iterator[Sequence[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _check_choices(format: str, mode: str, files: Sequence[UploadedFile]) -> None:
    errors: dict[str, str] = {}
    if not files or not any(f.content for f in files):
        errors["file"] = "Select the extract file (or files) to upload"
    if format not in FORMATS:
        errors["format"] = f"Select the format of the extract: one of {', '.join(FORMATS)}"
    if mode not in MODES:
        errors["mode"] = f"Select what to do with invalid rows: one of {', '.join(MODES)}"
    if errors:
        raise ValidationFailed(errors)


def _read(files: Sequence[UploadedFile], format: str, today: date) -> ReadResult:
    """Run the reader; a file it cannot make sense of is a problem to report, never a crash."""
    names = ", ".join(f.name for f in files)
    try:
        reader = get_reader(format)
    except ImportError:
        raise ValidationFailed({"format": f"{FORMATS[format]} extracts cannot be imported yet"}) from None
    try:
        return reader(list(files), today=today)
    except Exception as exc:  # a reader bug or a file no library can open: report it, do not 500
        log.warning("reader %s failed on upload: %s", format, type(exc).__name__)
        return ReadResult(
            rows=[],
            rows_read=0,
            problems=[
                Problem(
                    names,
                    None,
                    None,
                    None,
                    f"This file could not be read as {FORMATS[format]}. Check you chose the right format "
                    "and that the file is not damaged or password protected.",
                )
            ],
        )


def _length_problems(case: CaseFacts, rows: list[RowFacts]) -> list[Problem]:
    where = rows[0]
    found = []
    values = {**case.facts, "child_id": case.child_id}
    for name, value in values.items():
        limit = _TEXT_LIMITS.get(name)
        if isinstance(value, str) and limit and len(value) > limit:
            found.append(Problem(where.sheet, where.row, name, value[:80], f"This is longer than {limit} characters"))
        elif name in _INTEGER_COLUMNS and isinstance(value, int) and not -_INTEGER_MAX <= value <= _INTEGER_MAX:
            found.append(Problem(where.sheet, where.row, name, str(value)[:80], "This number is too large"))
    if case.team_name and len(normalise_name(case.team_name)) > _TEAM_NAME_LIMIT:
        found.append(
            Problem(
                where.sheet,
                where.row,
                "team",
                case.team_name[:80],
                f"The team name is longer than {_TEAM_NAME_LIMIT} characters",
            )
        )
    return found


def import_plan(
    session: Session,
    *,
    files: Sequence[UploadedFile],
    format: str,
    today: date,
    mode: str = "all_or_nothing",
    full: bool = False,
) -> ImportPlan:
    """Read, validate, merge per child, match teams and compare with the register; writes nothing."""
    plan = import_read(files=files, format=format, mode=mode, today=today)
    import_resolve(session, plan, full=full)
    return plan


def import_read(*, files: Sequence[UploadedFile], format: str, today: date, mode: str = "all_or_nothing") -> ImportPlan:
    """Read, validate and merge per child: the slow part of an import, which needs no database."""
    _check_choices(format, mode, files)
    result = _read(files, format, today)
    errors = [p for p in result.problems if p.severity == "error"]
    warnings = [p for p in result.problems if p.severity != "error"]

    by_child: dict[str, list[RowFacts]] = defaultdict(list)
    for row in result.rows:
        by_child[row.child_id].append(row)
    cases: list[CaseFacts] = []
    for child_rows in by_child.values():
        case = merge_rows(child_rows)
        problems = _length_problems(case, child_rows)
        if problems:
            errors.extend(problems)
        else:
            cases.append(case)
    del by_child

    if not cases and not errors:
        errors.append(
            Problem(", ".join(f.name for f in files), None, None, None, "There are no cases in this extract.")
        )
    file_level = any(p.row is None for p in errors)
    rejected = len({(p.sheet, p.row) for p in errors if p.row is not None})
    refused = file_level or not cases or (mode == "all_or_nothing" and bool(errors))
    return ImportPlan(
        rows_read=result.rows_read,
        cases=cases,
        errors=errors,
        warnings=warnings,
        rejected=rejected,
        refused=refused,
        covers=extract_covers(format, result.kinds_found | {row.case_type for row in result.rows}),
    )


def import_resolve(session: Session, plan: ImportPlan, *, full: bool) -> None:
    """Match the plan's teams and sort its cases into create / update / unchanged against the register now."""
    plan.teams.clear()
    plan.team_names.clear()
    plan.creates.clear()
    plan.updates.clear()
    plan.closes.clear()
    plan.unchanged = 0
    if not plan.refused:
        _match_teams(session, plan)
        _compare(session, plan, full=full)


def _match_teams(session: Session, plan: ImportPlan) -> None:
    for case in plan.cases:
        if not case.team_name:
            continue
        key = team_key(case.team_name)
        if key in plan.teams:
            continue
        plan.team_names[key] = normalise_name(case.team_name)
        team = account_selectors.team_by_name(session, name=case.team_name)
        plan.teams[key] = (team.id, team.service_area_id) if team else None


def _compare(session: Session, plan: ImportPlan, *, full: bool) -> None:
    """Sort cases into create / update / unchanged, in chunks of child IDs, and find the open cases to close."""
    for chunk in _chunks(plan.cases, READ_CHUNK):
        existing = {
            child_id: (case_id, facts_hash)
            for case_id, child_id, facts_hash in session.execute(
                select(Case.id, Case.child_id, Case.facts_hash).where(Case.child_id.in_([c.child_id for c in chunk]))
            )
        }
        for case in chunk:
            found = existing.get(case.child_id)
            if found is None:
                plan.creates.append(case)
                continue
            case_id, facts_hash = found
            if facts_hash == case.content_hash():
                plan.unchanged += 1
            else:
                plan.updates.append((case_id, case))
    if full and plan.covers and not plan.rejected:
        plan.closes = _absent_open_cases(session, {case.child_id for case in plan.cases}, kinds=plan.covers)


def _problem_dicts(problems: list[Problem]) -> list[dict[str, Any]]:
    listed = [p.as_dict() for p in problems[:MAX_LISTED_PROBLEMS]]
    if len(problems) > MAX_LISTED_PROBLEMS:
        last = problems[MAX_LISTED_PROBLEMS]
        listed.append(
            Problem(
                last.sheet,
                None,
                None,
                None,
                f"… and {len(problems) - MAX_LISTED_PROBLEMS} more not listed here",
                last.severity,
            ).as_dict()
        )
    return listed


def _figures_of(case_import: CaseImport) -> PreviewFigures:
    """What an import's preview showed."""
    return PreviewFigures(
        created=case_import.created,
        updated=case_import.updated,
        unchanged=case_import.unchanged,
        closed=case_import.closed,
        rejected=case_import.rejected,
        new_teams=tuple(case_import.new_teams),
        digests=dict(case_import.plan_digests or {}),
    )


def _show_plan(case_import: CaseImport, plan: ImportPlan) -> None:
    """Put what the plan does (or did) on the import record: counts, cases to close, problems, fingerprints."""
    case_import.rows_read = plan.rows_read
    case_import.created = len(plan.creates)
    case_import.updated = len(plan.updates)
    case_import.unchanged = plan.unchanged
    case_import.closed = len(plan.closes)
    case_import.rejected = plan.rejected
    case_import.new_teams = plan.new_teams
    case_import.errors = _problem_dicts(plan.errors)
    case_import.warnings = _problem_dicts(plan.warnings)
    case_import.covers = plan.covers
    case_import.closing = [
        {"id": case_id, "child_id": child_id, "case_type": case_type}
        for case_id, child_id, case_type in plan.closes[:MAX_LISTED_CLOSING]
    ]
    case_import.plan_digests = dict(plan.figures().digests)


def _record(
    session: Session,
    *,
    plan: ImportPlan,
    files: Sequence[UploadedFile],
    format: str,
    mode: str,
    full: bool,
    actor: User | None,
    store_files: bool,
    expires_in: timedelta | None,
) -> CaseImport:
    now = clock.now()
    case_import = CaseImport(
        format=format,
        mode=mode,
        full=full,
        status="rejected" if plan.refused else "previewed",
        file_names=[f.name for f in files],
        file_hashes=[sha256_hex(f.content) for f in files],
        created_by_id=actor.id if actor else None,
        created_at=now,
        expires_at=None if plan.refused or expires_in is None else now + expires_in,
    )
    _show_plan(case_import, plan)
    if plan.refused:
        case_import.finished_at = now
    session.add(case_import)
    session.flush()
    if store_files and not plan.refused:
        for upload in files:
            session.add(
                CaseImportFile(
                    import_id=case_import.id,
                    name=upload.name[:255],
                    sha256=sha256_hex(upload.content),
                    content=upload.content,
                )
            )
        session.flush()
    return case_import


def import_prepare(
    session: Session,
    *,
    files: Sequence[UploadedFile],
    format: str,
    mode: str = "all_or_nothing",
    full: bool = False,
    actor: User | None,
    today: date,
    expires_in: timedelta = PREVIEW_EXPIRY,
) -> CaseImport:
    """Validate an extract and record what it would change (status "previewed", or "rejected"); writes no cases.
    The preview can be confirmed for `expires_in` (IMPORT_PREVIEW_EXPIRY_HOURS)."""
    imports_expire_due(session)
    plan = import_plan(session, files=files, format=format, mode=mode, full=full, today=today)
    return _record(
        session,
        plan=plan,
        files=files,
        format=format,
        mode=mode,
        full=full,
        actor=actor,
        store_files=True,
        expires_in=expires_in,
    )


def import_run(
    session: Session,
    *,
    files: Sequence[UploadedFile],
    format: str,
    mode: str = "all_or_nothing",
    full: bool = False,
    actor: User | None,
    today: date,
) -> CaseImport:
    """Prepare and commit in one go, reading the files once. A rejected import is returned, not raised."""
    plan = import_plan(session, files=files, format=format, mode=mode, full=full, today=today)
    case_import = _record(
        session,
        plan=plan,
        files=files,
        format=format,
        mode=mode,
        full=full,
        actor=actor,
        store_files=False,
        expires_in=None,  # written at once: never waits for confirmation
    )
    if case_import.status == "rejected":
        return case_import
    return import_commit(session, case_import=case_import, actor=actor, plan=plan, today=today)


class Progress(Protocol):
    """Told what a running import is doing: a phase, and rows done of rows in all (0 of 0 when not countable)."""

    def __call__(self, phase: str, done: int = 0, total: int = 0, *, writing: bool = False) -> None: ...


def _no_progress(phase: str, done: int = 0, total: int = 0, *, writing: bool = False) -> None:
    return None


READING = "Reading the files"
CHECKING = "Checking the cases against the register"
WRITING = "Writing the changes"


def import_queue(session: Session, *, case_import: CaseImport) -> None:
    """Mark a previewed import as queued for the background job, so a second click or replica cannot run it too."""
    _refuse_unconfirmable(session, case_import)
    queued = session.execute(
        update(CaseImport)
        .where(CaseImport.id == case_import.id, CaseImport.status == "previewed")
        .values(status="queued", phase="Waiting to start", rows_done=0, rows_total=0, progress_at=clock.now())
    ).rowcount
    if queued != 1:
        raise Conflict("This import has already been confirmed.")
    session.refresh(case_import)


def import_claim(session: Session, *, case_import: CaseImport, silent_since: datetime | None = None) -> None:
    """Start writing a previewed (or queued) import: atomically, so it can only ever be written once. With
    `silent_since`, take over one left "importing" by a run that has shown no sign of life since then (its worker
    died; nothing of it was written) — unless that run has just reported progress."""
    _refuse_unconfirmable(session, case_import)
    claimable = CaseImport.status.in_(("previewed", "queued"))
    if silent_since is not None:
        claimable = claimable | ((CaseImport.status == "importing") & (CaseImport.progress_at <= silent_since))
    claimed = session.execute(
        update(CaseImport)
        .where(CaseImport.id == case_import.id, claimable)
        .values(status="importing", phase=READING, progress_at=clock.now())
    ).rowcount
    if claimed != 1:
        raise Conflict("This import has already been confirmed.")
    case_import.status = "importing"


def _refuse_unconfirmable(session: Session, case_import: CaseImport) -> None:
    """A rejected import, or a discarded or expired preview (marked expired now if its time has come), is refused."""
    if case_import.status == "rejected":
        raise ImportRejected(case_import)
    if preview_expired(case_import.status, case_import.expires_at, clock.now()):
        imports_expire_due(session)
        session.refresh(case_import)
    if case_import.status in CLOSED_PREVIEWS:
        raise PreviewClosed(case_import)


def import_discard(session: Session, *, case_import: CaseImport, actor: User | None) -> None:
    """Discard a preview (or an import that stopped): kept on record with its figures, its files deleted, never
    imported. A discarded or expired one is refused (PreviewClosed), one running or finished too (Conflict)."""
    _refuse_unconfirmable(session, case_import)
    if not _close_preview(session, case_import, status="discarded", actor=actor, at=clock.now()):
        raise Conflict("This import is running or has finished, so it cannot be discarded.")


def imports_expire_due(session: Session) -> None:
    """Mark every preview whose time has come as expired (kept on record, files deleted, one audit-trail event)."""
    due = session.execute(
        select(CaseImport).where(CaseImport.status == "previewed", CaseImport.expires_at <= clock.now())
    ).scalars()
    for case_import in list(due):
        _close_preview(session, case_import, status="expired", actor=None, at=case_import.expires_at or clock.now())


def _close_preview(session: Session, case_import: CaseImport, *, status: str, actor: User | None, at: datetime) -> bool:
    """Discard or expire an import not yet written: atomically, so a confirmation cannot slip in between."""
    closed = session.execute(
        update(CaseImport)
        .where(CaseImport.id == case_import.id, CaseImport.status.in_(DISCARDABLE))
        .values(status=status, phase=None, finished_at=at)
    ).rowcount
    if closed != 1:
        return False
    session.execute(delete(CaseImportFile).where(CaseImportFile.import_id == case_import.id))
    session.refresh(case_import)
    what = f"{FORMATS.get(case_import.format, case_import.format)} ({', '.join(case_import.file_names)})"
    audit_record(
        session,
        actor=actor,
        action=f"case_import.{'discard' if status == 'discarded' else 'expire'}",
        summary=(f"Discarded the preview of {what}" if status == "discarded" else f"The preview of {what} expired")
        + ": nothing imported",
        entity_type="case_import",
        entity_id=case_import.id,
        after={"status": status, "format": case_import.format, "files": _files_of(case_import)},
    )
    return True


def _files_of(case_import: CaseImport) -> list[dict[str, str]]:
    return [{"name": n, "sha256": h} for n, h in zip(case_import.file_names, case_import.file_hashes, strict=False)]


def import_stored_files(session: Session, *, case_import: CaseImport) -> list[UploadedFile]:
    """The files of a previewed import, kept until it is written."""
    rows = session.execute(
        select(CaseImportFile.name, CaseImportFile.content)
        .where(CaseImportFile.import_id == case_import.id)
        .order_by(CaseImportFile.id)
    )
    return [UploadedFile(name=name, content=bytes(content)) for name, content in rows]


def import_commit(
    session: Session,
    *,
    case_import: CaseImport,
    actor: User | None,
    today: date,
    plan: ImportPlan | None = None,
    progress: Progress = _no_progress,
) -> CaseImport:
    """Write a previewed import in this session's transaction; refuses a rejected one (nothing written) or one
    already made. Without a plan (the preview was made earlier) the stored files are read again and written only
    if they would change the register as the preview showed (else PreviewChanged, nothing written)."""
    import_claim(session, case_import=case_import)
    as_previewed = plan is None
    if plan is None:
        progress(READING)
        plan = import_read(
            files=import_stored_files(session, case_import=case_import),
            format=case_import.format,
            mode=case_import.mode,
            today=today,
        )
    return import_write(
        session,
        case_import=case_import,
        plan=plan,
        actor=actor,
        today=today,
        progress=progress,
        as_previewed=as_previewed,
    )


def import_write(
    session: Session,
    *,
    case_import: CaseImport,
    plan: ImportPlan,
    actor: User | None,
    today: date,
    progress: Progress = _no_progress,
    as_previewed: bool = True,
) -> CaseImport:
    """Compare the plan with the register as it is now and write it, in chunks, all in this transaction.

    `as_previewed`: the import's preview was shown to someone, so it is written only if the plan now is what it
    showed; otherwise nothing is written and the import becomes the new preview (PreviewChanged).
    Progress from here on is reported with `writing=True`: this transaction may hold SQLite's only write lock.
    """
    progress(CHECKING, 0, len(plan.cases), writing=True)
    import_resolve(session, plan, full=case_import.full)
    if plan.refused:  # the files are the same as at the preview, so only the register can have changed; be safe
        case_import.status = "rejected"
        case_import.errors = _problem_dicts(plan.errors)
        case_import.phase = None
        case_import.finished_at = clock.now()
        session.add(case_import)
        session.flush()
        raise ImportRejected(case_import)
    if as_previewed:
        changes = preview_changes(_figures_of(case_import), plan.figures())
        if changes:
            _preview_again(session, case_import, plan, changes, actor=actor)
            raise PreviewChanged(case_import)

    now = clock.now()
    teams = _create_new_teams(session, plan, actor=actor)
    to_close = [case_id for case_id, _, _ in plan.closes]
    total = len(plan.creates) + len(plan.updates) + len(to_close)
    done = 0
    progress(WRITING, done, total, writing=True)

    for chunk in _chunks(plan.creates, WRITE_CHUNK):
        bulk_insert(
            session.connection(),
            CASE_TABLE,
            [{**_case_values(case, teams, case_import, now), "created_at": now, "version": 1} for case in chunk],
        )
        done += len(chunk)
        progress(WRITING, done, total, writing=True)
    if plan.updates:
        # The QA lead's corrections hold while the import still brings the value the case system had when each was
        # made; another value is taken and supersedes the correction (app.cases.corrections.rules.corrections_pin).
        superseded: list[Superseded] = []
        stmt = CASE_TABLE.update().where(CASE_TABLE.c.id == bindparam("_id")).values(version=CASE_TABLE.c.version + 1)
        for chunk in _chunks(plan.updates, WRITE_CHUNK):
            pins = _corrections_of_locked(session, [case_id for case_id, _ in chunk])
            rows = []
            for case_id, case in chunk:
                values = _case_values(case, teams, case_import, now)
                if case_id in pins:
                    pinned = corrections_pin(values, pins[case_id])
                    superseded += [
                        Superseded(pin, case_id, case.child_id, to_json(values[pin.field])) for pin in pinned.superseded
                    ]
                    values.update(pinned.keep)
                rows.append({"_id": case_id, **values})
            session.execute(stmt, rows)
            done += len(chunk)
            progress(WRITING, done, total, writing=True)
        corrections_supersede(session, superseded, case_import=case_import, actor=actor, at=now)
    for chunk in _chunks(to_close, WRITE_CHUNK):
        # An empty hash: if the child comes back in a later extract, the case is updated (reopened).
        session.execute(
            CASE_TABLE.update()
            .where(CASE_TABLE.c.id.in_(chunk))
            .values(
                status="closed",
                end_date=today,
                facts_hash="",
                last_import_id=case_import.id,
                updated_at=now,
                version=CASE_TABLE.c.version + 1,
            )
        )
        done += len(chunk)
        progress(WRITING, done, total, writing=True)

    if len(plan.creates) + len(plan.updates) >= ANALYZE_AFTER:
        refresh_statistics(session.connection(), CASE_TABLE)
    people_resolve(session)  # the imported cases' worker and manager accounts, by identity (app.cases.people)
    # The files hold child-level data; once imported they are not kept (names and SHA-256 stay on the record).
    session.execute(delete(CaseImportFile).where(CaseImportFile.import_id == case_import.id))
    case_import.status = "committed"
    case_import.phase = None
    _show_plan(case_import, plan)
    case_import.rows_done = case_import.rows_total = total
    case_import.finished_at = now
    session.add(case_import)
    session.flush()
    counts = {
        "created": case_import.created,
        "updated": case_import.updated,
        "unchanged": case_import.unchanged,
        "closed": case_import.closed,
        "rejected": case_import.rejected,
    }
    audit_record(
        session,
        actor=actor,
        action="case_import.commit",
        summary=f"Imported {FORMATS[case_import.format]} ({', '.join(case_import.file_names)}): "
        + ", ".join(f"{value} {name}" for name, value in counts.items()),
        entity_type="case_import",
        entity_id=case_import.id,
        after={
            **counts,
            "format": case_import.format,
            "mode": case_import.mode,
            "full": case_import.full,
            "covers": case_import.covers,
            "files": _files_of(case_import),
            "new_teams": case_import.new_teams,
        },
    )
    return case_import


def _preview_again(
    session: Session, case_import: CaseImport, plan: ImportPlan, changes: list[str], *, actor: User | None
) -> None:
    """The import becomes the preview of what it would do now, to confirm again, with the same time to do so."""
    now = clock.now()
    if case_import.expires_at is not None:
        case_import.expires_at = now + (case_import.expires_at - case_import.created_at)
    _show_plan(case_import, plan)
    case_import.status = "previewed"
    case_import.changes = changes
    case_import.phase = None
    case_import.progress_at = None
    case_import.rows_done = case_import.rows_total = 0
    session.add(case_import)
    session.flush()
    audit_record(
        session,
        actor=actor,
        action="case_import.preview_changed",
        summary=f"Import {case_import.id} not written: the register changed since its preview ({'; '.join(changes)})",
        entity_type="case_import",
        entity_id=case_import.id,
        after={"changes": changes},
    )


def _corrections_of_locked(session: Session, case_ids: list[int]) -> dict[int, list[Pin]]:
    """The corrections in force on these cases, read once their rows are locked (on PostgreSQL; SQLite runs one
    writing transaction at a time): a correction saved meanwhile is then either seen here, or made to wait for this
    import and refused as stale (its version claim), so an import never writes over a correction it did not weigh."""
    session.execute(select(Case.id).where(Case.id.in_(case_ids)).with_for_update())
    return corrections_in_force(session, case_ids=case_ids)


def _create_new_teams(session: Session, plan: ImportPlan, *, actor: User | None) -> dict[str, tuple[int, int]]:
    """Every team the extract names, as (team id, service area id); unknown ones made under "Unassigned"."""
    teams: dict[str, tuple[int, int]] = {}
    for key, found in plan.teams.items():
        if found is None:
            # Matched again now: someone may have added the team since the preview.
            team = account_selectors.team_by_name(session, name=plan.team_names[key])
            if team is None:
                team = account_service.team_create(
                    session, data=TeamCreate(name=plan.team_names[key], service_area=UNASSIGNED_AREA), actor=actor
                )
            found = (team.id, team.service_area_id)
        teams[key] = found
    return teams


def _absent_open_cases(session: Session, present: set[str], *, kinds: list[str]) -> list[tuple[int, str, str]]:
    """Open cases of these kinds whose child is not in the extract, by child ID: (case id, child ID, case type),
    streamed rather than loaded as rows."""
    rows = session.execute(
        select(Case.id, Case.child_id, Case.case_type)
        .where(Case.status == "open", Case.case_type.in_(kinds))
        .order_by(Case.child_id)
        .execution_options(yield_per=5000)
    )
    return [(case_id, child_id, case_type) for case_id, child_id, case_type in rows if child_id not in present]


def _case_values(
    case: CaseFacts, teams: dict[str, tuple[int, int]], case_import: CaseImport, now: Any
) -> dict[str, Any]:
    team_id, area_id = teams.get(team_key(case.team_name), (None, None)) if case.team_name else (None, None)
    values: dict[str, Any] = {name: case.facts.get(name) for name in FACT_FIELDS}
    values.update(
        child_id=case.child_id,
        source=case_import.format,
        source_lists=case.source_lists,
        case_type=case.case_type.value,
        status=case.status,
        start_date=case.start_date,
        end_date=case.end_date,
        involvements=case.involvements,
        facts_hash=case.content_hash(),
        team_id=team_id,
        service_area_id=area_id,
        last_import_id=case_import.id,
        updated_at=now,
    )
    return values
