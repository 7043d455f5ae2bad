"""Queueing a job, in the caller's transaction.

On PostgreSQL the job is a row of Procrastinate's `procrastinate_jobs`, inserted through its own SQL function in the
same transaction as the work that called for it: it exists only if that work commits (a request that fails queues
nothing; a web process that dies after committing loses nothing). On SQLite it is handed to the app process's job
thread (`local.LocalQueue`) once the transaction commits. A job with `one_at_a_time` (or a `lock_key`) is queued at
most once at a time: queueing it again while it waits does nothing.
"""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import event, text
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from app.jobs import local
from app.jobs.registry import JOBS

QUEUE = "default"

_DEFER = text(
    "SELECT unnest(procrastinate_defer_jobs_v1(ARRAY[ROW(:queue, :task, 0, NULL, :queueing_lock, "
    "CAST(:args AS jsonb), NULL)::procrastinate_job_to_defer_v1]))"
)


def queueing_lock(name: str, lock_key: str | None) -> str | None:
    """The key that keeps a second copy of a job out of the queue while one waits, if the job has one."""
    if lock_key is not None:
        return f"{name}:{lock_key}"
    return name if JOBS[name].one_at_a_time else None


def job_defer(session: Session, name: str, /, *, lock_key: str | None = None, **kwargs: Any) -> None:
    """Queue job `name` with these arguments, to run once this session's transaction commits."""
    if name not in JOBS:
        raise KeyError(f"no job is called {name!r}")
    args = json.dumps(kwargs)  # what cannot be stored as JSON is refused here, not in the worker
    if session.get_bind().dialect.name == "postgresql":
        try:
            with session.begin_nested():
                session.execute(
                    _DEFER,
                    {"queue": QUEUE, "task": name, "queueing_lock": queueing_lock(name, lock_key), "args": args},
                )
        except IntegrityError:
            pass  # the same job is already waiting: that run will do this work too
        return

    engine = session.get_bind().engine  # a session on a connection (a test's) finds the connection's engine

    def hand_over(_: Session) -> None:
        local.local_queue_put(engine, name, json.loads(args))

    event.listen(session, "after_commit", hand_over, once=True)
