"""Importing extracts into the case register: the one service the browser, the API, the CLI and the demo use.

Two steps, so the browser can show a preview before anything changes:

- `import_prepare` reads the files, validates everything, merges rows per child, matches teams and
  compares with the register (create / update / unchanged / close). It stores the counts, the problems
  and the files themselves, so any replica can confirm the preview later.
- `import_commit` works the plan out again from the stored files (the register may have moved on
  since the preview) and writes it with Core bulk statements in chunks: never one ORM object per row.

`import_run` does both in one go (the API, the CLI, the demo generator).
"""

from __future__ import annotations

import hashlib
import logging
from collections import defaultdict
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any, Protocol

from sqlalchemy import String, bindparam, delete, func, select, update
from sqlmodel import Session

from app import clock
from app.accounts import selectors as account_selectors
from app.accounts import service as account_service
from app.accounts.models import User
from app.accounts.schemas import TeamCreate, normalise_name
from app.audit_trail.service import audit_record
from app.cases.facts import FACT_FIELDS, CaseFacts, Problem, RowFacts, merge_rows
from app.cases.models import Case, CaseImport, CaseImportFile
from app.cases.people import people_resolve
from app.cases.readers import ReadResult, UploadedFile, get_reader
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

CASE_TABLE = Case.__table__
# Text columns and their widths, so a long value is a problem in the report and never a database error.
_TEXT_LIMITS = {
    column.name: column.type.length
    for column in CASE_TABLE.columns
    if isinstance(column.type, String) and column.type.length
}
_TEAM_NAME_LIMIT = 120


class ImportRejected(DomainError):
    """An all-or-nothing import with errors: nothing is written; the import record says why."""

    status_code = 422

    def __init__(self, case_import: CaseImport) -> None:
        super().__init__("This extract has errors, so nothing was imported. Correct the file and upload it again.")
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
    teams: dict[str, tuple[int, int] | None] = field(default_factory=dict)  # team key -> (team id, area id)
    team_names: dict[str, str] = field(default_factory=dict)  # team key -> name as first written
    creates: list[CaseFacts] = field(default_factory=list)
    updates: list[tuple[int, CaseFacts]] = field(default_factory=list)
    unchanged: int = 0
    to_close: int = 0

    @property
    def new_teams(self) -> list[str]:
        return sorted((self.team_names[k] for k, v in self.teams.items() if v is None), key=str.lower)


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
    full: bool = True,
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
        rows_read=result.rows_read, cases=cases, errors=errors, warnings=warnings, rejected=rejected, refused=refused
    )


def import_resolve(session: Session, plan: ImportPlan, *, full: bool) -> None:
    """Match the plan's teams and sort its cases into create / update / unchanged against the register now."""
    plan.teams.clear()
    plan.team_names.clear()
    plan.creates.clear()
    plan.updates.clear()
    plan.unchanged = plan.to_close = 0
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
    """Sort cases into create / update / unchanged, in chunks of child IDs, and count the open cases to close."""
    present_open = 0
    for chunk in _chunks(plan.cases, READ_CHUNK):
        existing = {
            child_id: (case_id, facts_hash, status)
            for case_id, child_id, facts_hash, status in session.execute(
                select(Case.id, Case.child_id, Case.facts_hash, Case.status).where(
                    Case.child_id.in_([c.child_id for c in chunk])
                )
            )
        }
        for case in chunk:
            found = existing.get(case.child_id)
            if found is None:
                plan.creates.append(case)
                continue
            case_id, facts_hash, status = found
            present_open += status == "open"
            if facts_hash == case.content_hash():
                plan.unchanged += 1
            else:
                plan.updates.append((case_id, case))
    if full:
        open_total = session.execute(select(func.count()).select_from(Case).where(Case.status == "open")).scalar_one()
        plan.to_close = open_total - present_open


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
) -> CaseImport:
    case_import = CaseImport(
        format=format,
        mode=mode,
        full=full,
        status="rejected" if plan.refused else "previewed",
        file_names=[f.name for f in files],
        file_hashes=[sha256_hex(f.content) for f in files],
        rows_read=plan.rows_read,
        created=len(plan.creates),
        updated=len(plan.updates),
        unchanged=plan.unchanged,
        closed=plan.to_close,
        rejected=plan.rejected,
        new_teams=plan.new_teams,
        errors=_problem_dicts(plan.errors),
        warnings=_problem_dicts(plan.warnings),
        created_by_id=actor.id if actor else None,
    )
    if plan.refused:
        case_import.finished_at = clock.now()
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
    full: bool = True,
    actor: User | None,
    today: date,
) -> CaseImport:
    """Validate an extract and record what it would change (status "previewed", or "rejected"); writes no cases."""
    plan = import_plan(session, files=files, format=format, mode=mode, full=full, today=today)
    return _record(session, plan=plan, files=files, format=format, mode=mode, full=full, actor=actor, store_files=True)


def import_run(
    session: Session,
    *,
    files: Sequence[UploadedFile],
    format: str,
    mode: str = "all_or_nothing",
    full: bool = True,
    actor: User | None,
    today: date,
) -> CaseImport:
    """Prepare and commit in one go, reading the files once. A rejected import is returned, not raised."""
    plan = import_plan(session, files=files, format=format, mode=mode, full=full, today=today)
    case_import = _record(
        session, plan=plan, files=files, format=format, mode=mode, full=full, actor=actor, store_files=False
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
    if case_import.status == "rejected":
        raise ImportRejected(case_import)
    queued = session.execute(
        update(CaseImport)
        .where(CaseImport.id == case_import.id, CaseImport.status == "previewed")
        .values(status="queued", phase="Waiting to start", rows_done=0, rows_total=0, progress_at=clock.now())
    ).rowcount
    if queued != 1:
        raise Conflict("This import has already been confirmed.")
    session.refresh(case_import)


def import_claim(session: Session, *, case_import: CaseImport) -> None:
    """Start writing a previewed (or queued) import: atomically, so it can only ever be written once."""
    if case_import.status == "rejected":
        raise ImportRejected(case_import)
    claimed = session.execute(
        update(CaseImport)
        .where(CaseImport.id == case_import.id, CaseImport.status.in_(("previewed", "queued")))
        .values(status="importing", phase=READING, progress_at=clock.now())
    ).rowcount
    if claimed != 1:
        raise Conflict("This import has already been confirmed.")
    case_import.status = "importing"


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
    already made. Without a plan (the preview was made earlier) the stored files are read again."""
    import_claim(session, case_import=case_import)
    if plan is None:
        progress(READING)
        plan = import_read(
            files=import_stored_files(session, case_import=case_import),
            format=case_import.format,
            mode=case_import.mode,
            today=today,
        )
    return import_write(session, case_import=case_import, plan=plan, actor=actor, today=today, progress=progress)


def import_write(
    session: Session,
    *,
    case_import: CaseImport,
    plan: ImportPlan,
    actor: User | None,
    today: date,
    progress: Progress = _no_progress,
) -> CaseImport:
    """Compare the plan with the register as it is now and write it, in chunks, all in this transaction.

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

    now = clock.now()
    teams = _create_new_teams(session, plan, actor=actor)
    present = {case.child_id for case in plan.cases}
    to_close = _absent_open_case_ids(session, present) if case_import.full else []
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
        stmt = CASE_TABLE.update().where(CASE_TABLE.c.id == bindparam("_id")).values(version=CASE_TABLE.c.version + 1)
        for chunk in _chunks(plan.updates, WRITE_CHUNK):
            session.execute(
                stmt, [{"_id": case_id, **_case_values(case, teams, case_import, now)} for case_id, case in chunk]
            )
            done += len(chunk)
            progress(WRITING, done, total, writing=True)
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
    case_import.created = len(plan.creates)
    case_import.updated = len(plan.updates)
    case_import.unchanged = plan.unchanged
    case_import.closed = len(to_close)
    case_import.rejected = plan.rejected
    case_import.new_teams = plan.new_teams
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
            "files": [
                {"name": n, "sha256": h} for n, h in zip(case_import.file_names, case_import.file_hashes, strict=False)
            ],
            "new_teams": case_import.new_teams,
        },
    )
    return case_import


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


def _absent_open_case_ids(session: Session, present: set[str]) -> list[int]:
    """Open cases whose child is not in the extract, streamed (IDs only) rather than loaded as rows."""
    rows = session.execute(
        select(Case.id, Case.child_id).where(Case.status == "open").execution_options(yield_per=5000)
    )
    return [case_id for case_id, child_id in rows if child_id not in present]


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
