"""What the QA lead's Background jobs page reads: the queue's counts (PostgreSQL) and the failures (both)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import text
from sqlmodel import Session, col, select

from app.jobs.models import JobFailure
from app.jobs.registry import JOBS
from app.pagination import Page, paginate

STATUSES = ("todo", "doing", "failed")  # waiting, running, gave up


@dataclass(frozen=True)
class QueueCounts:
    waiting: int
    running: int
    failed: int
    oldest_waiting: datetime | None


def queue_counts(session: Session) -> QueueCounts | None:
    """The PostgreSQL queue's jobs waiting (due now), running and failed for good; None on SQLite (in memory)."""
    if session.get_bind().dialect.name != "postgresql":
        return None
    rows = session.execute(
        text(
            "SELECT status::text, count(*), min(scheduled_at) FROM procrastinate_jobs "
            "WHERE status IN ('todo', 'doing', 'failed') AND (status <> 'todo' OR scheduled_at IS NULL "
            "OR scheduled_at <= now()) GROUP BY status"
        )
    ).all()
    found = {status: (count, oldest) for status, count, oldest in rows}
    return QueueCounts(
        waiting=found.get("todo", (0, None))[0],
        running=found.get("doing", (0, None))[0],
        failed=found.get("failed", (0, None))[0],
        oldest_waiting=found.get("todo", (0, None))[1],
    )


def failures_page(session: Session, *, job: str | None, page: int) -> Page[JobFailure]:
    """Failed attempts, newest first (all jobs, or one)."""
    stmt = select(JobFailure).order_by(col(JobFailure.failed_at).desc(), col(JobFailure.id).desc())
    if job:
        stmt = stmt.where(JobFailure.job_name == job)
    return paginate(session, stmt, page=page, page_size=25, clamp_to_last=True)


def job_summaries() -> dict[str, str]:
    return {name: spec.summary or name for name, spec in JOBS.items()}
