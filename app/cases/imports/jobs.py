"""Running a confirmed import in the background, with its progress in the database for any replica to show.

The browser's "Confirm import" queues the import and returns at once; `import_job` then runs on the job queue
(app/jobs: a worker on PostgreSQL, the app's job thread on SQLite) in three steps, so SQLite's single writer is
held only while writing:

1. a short transaction claims the import and loads its stored files;
2. the files are read, validated and merged with no transaction open (the slow part for big files);
3. one transaction compares with the register as it is now and writes everything, or nothing: nothing when the
   plan now is not what the preview showed, which then becomes the new preview to confirm.

Progress (phase, rows done of rows in all, a heartbeat) is written in separate short transactions. On SQLite
the write step holds the only write lock, so progress inside it is not reported there (it is on PostgreSQL).
An import whose heartbeat stops (the server restarted mid-way) is shown as stopped and can be tried again:
nothing was written, because the write is one transaction.
"""

from __future__ import annotations

import logging
from datetime import date, timedelta

from sqlalchemy import select, update
from sqlmodel import Session, col

from app import clock
from app.accounts.models import User
from app.cases import service
from app.cases.models import CaseImport
from app.config import Settings
from app.db import SessionMaker
from app.errors import Conflict

log = logging.getLogger("caseaudit.imports")

# An import with no sign of life for this long has stopped (its server went away); it may be tried again.
STALE_AFTER = timedelta(minutes=10)
RUNNING = ("queued", "importing")


def progress_writer(new_session: SessionMaker, import_id: int) -> service.Progress:
    """Progress saved in its own short transactions, so the progress page can read it while the import runs."""

    def report(phase: str, done: int = 0, total: int = 0, *, writing: bool = False) -> None:
        with new_session() as session:
            if writing and session.get_bind().dialect.name == "sqlite":
                return  # the import holds SQLite's one write lock until it commits
            session.execute(
                update(CaseImport)
                .where(CaseImport.id == import_id, CaseImport.status == "importing")
                .values(phase=phase, rows_done=done, rows_total=total, progress_at=clock.now())
            )
            session.commit()

    return report


def import_job(
    new_session: SessionMaker,
    settings: Settings,
    *,
    import_id: int,
    actor_id: int | None,
    today: str,
    attempt: int = 1,
) -> None:
    """Write a queued import (the job queue's `case_import`, queued by the confirmation). Never raises: the outcome
    is on the import record.

    Run again (`attempt` > 1), which the queue does only once the worker of the run before has died (its heartbeat
    stopped for JOB_STALLED_AFTER_SECONDS), it takes over the import that run left "importing": nothing of it was
    written, as the write is one transaction."""
    try:
        with new_session() as session:
            case_import = session.get(CaseImport, import_id)
            if case_import is None or case_import.status not in RUNNING:
                return  # already run, or tried again meanwhile
            silent_since = clock.now() if attempt > 1 else None
            service.import_claim(session, case_import=case_import, silent_since=silent_since)
            files = service.import_stored_files(session, case_import=case_import)
            format, mode = case_import.format, case_import.mode
            session.commit()
        plan = service.import_read(files=files, format=format, mode=mode, today=date.fromisoformat(today))
        del files
        progress = progress_writer(new_session, import_id)
        progress(service.CHECKING, 0, len(plan.cases))
        with new_session() as session:
            case_import = session.get(CaseImport, import_id)
            actor = session.get(User, actor_id) if actor_id else None
            if case_import is None:
                return
            try:
                service.import_write(
                    session,
                    case_import=case_import,
                    plan=plan,
                    actor=actor,
                    today=date.fromisoformat(today),
                    progress=progress,
                )
            except (service.ImportRejected, service.PreviewChanged):
                pass  # the import record says why (or shows the new preview); nothing else was written
            session.commit()
    except Conflict:
        return
    except Exception as exc:  # never a personal detail in the log: the kind of failure only
        log.error("import %s failed: %s", import_id, type(exc).__name__)
        _mark_failed(new_session, import_id)


def imports_resume_job(new_session: SessionMaker, settings: Settings) -> None:
    """Run the imports a restart left queued or half-done (the SQLite queue keeps its jobs in memory only)."""
    with new_session() as session:
        waiting = session.execute(
            select(CaseImport.id, CaseImport.created_by_id).where(col(CaseImport.status).in_(RUNNING))
        ).all()
    for import_id, actor_id in waiting:
        today = settings.today().isoformat()
        import_job(new_session, settings, import_id=import_id, actor_id=actor_id, today=today, attempt=2)


def previews_expire_job(new_session: SessionMaker, settings: Settings) -> None:
    """Expire the previews not confirmed in time (also done whenever the imports pages are used)."""
    with new_session() as session:
        service.imports_expire_due(session)
        session.commit()


def _mark_failed(new_session: SessionMaker, import_id: int) -> None:
    with new_session() as session:
        session.execute(
            update(CaseImport)
            .where(CaseImport.id == import_id, CaseImport.status.in_(RUNNING))
            .values(status="failed", phase=None, finished_at=clock.now())
        )
        session.commit()


def import_retry(session: Session, *, case_import: CaseImport) -> None:
    """Put a failed or stopped import back to "previewed" (its files are kept until it is written)."""
    if not (case_import.status == "failed" or is_stopped(case_import)):
        raise Conflict("This import is still running or has finished, so it cannot be tried again.")
    reset = session.execute(
        update(CaseImport)
        .where(CaseImport.id == case_import.id, CaseImport.status == case_import.status)
        .values(status="previewed", phase=None, progress_at=None, rows_done=0, rows_total=0, finished_at=None)
    ).rowcount
    if reset != 1:
        raise Conflict("Someone else has just tried this import again.")
    session.refresh(case_import)


def is_stopped(case_import: CaseImport) -> bool:
    """A running import with no heartbeat for STALE_AFTER: its server stopped; nothing was written."""
    return (
        case_import.status in RUNNING
        and case_import.progress_at is not None
        and clock.now() - case_import.progress_at > STALE_AFTER
    )


def percent_done(case_import: CaseImport) -> int:
    """A rough share of the work done, for the progress bar: reading, then checking, then writing."""
    if case_import.status not in RUNNING:
        return 100
    if case_import.phase == service.WRITING and case_import.rows_total:
        return 40 + int(60 * case_import.rows_done / case_import.rows_total)
    return {service.READING: 5, service.CHECKING: 30, service.WRITING: 40}.get(case_import.phase or "", 0)
