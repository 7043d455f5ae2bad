"""The PostgreSQL job queue: a Procrastinate app whose tasks are the jobs of `registry.JOBS`, run by
`caseaudit worker` (as many workers, on as many machines, as the load needs: each job runs once).

- Periodic jobs are queued by Procrastinate itself, once per time across every worker (its periodic defers are
  unique in the database), so no cron line is needed and two workers never both send the day's reminders.
- A failed attempt is retried with back-off (`registry.backoff_seconds`) up to the job's `max_attempts`; each
  failure is recorded in `job_failure` for the QA lead's page.
- A worker killed mid-job (SIGKILL, a lost machine) stops sending heartbeats; `stalled_jobs_retry`, itself
  periodic, puts the jobs of workers silent for `JOB_STALLED_AFTER_SECONDS` back in the queue, and another worker
  runs them again (jobs are idempotent).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

import procrastinate
from procrastinate.jobs import Job
from procrastinate.retry import BaseRetryStrategy, RetryDecision
from sqlalchemy.engine import make_url

from app.config import Settings
from app.db import make_engine
from app.jobs.registry import JOBS, STALLED_RETRY, JobSpec, backoff_seconds
from app.jobs.runner import job_attempt, sessions

log = logging.getLogger("caseaudit.jobs")


def libpq_url(database_url: str) -> str:
    """The database URL as libpq reads it (without SQLAlchemy's `+psycopg` driver name)."""
    return make_url(database_url).set(drivername="postgresql").render_as_string(hide_password=False)


@dataclass(frozen=True)
class Backoff(BaseRetryStrategy):
    """Try a failed job again after `registry.backoff_seconds`, until it has been tried `max_attempts` times."""

    max_attempts: int

    def get_retry_decision(self, *, exception: BaseException, job: Job) -> RetryDecision | None:
        attempt = job.attempts + 1  # Procrastinate counts the attempts before this one
        if attempt >= self.max_attempts:
            return None
        return RetryDecision(retry_in={"seconds": backoff_seconds(attempt)})


def procrastinate_app(settings: Settings) -> procrastinate.App:
    """The queue for these settings (their PostgreSQL database), with every job registered."""
    app = procrastinate.App(connector=procrastinate.PsycopgConnector(conninfo=libpq_url(settings.database_url)))
    engine: list[Any] = []  # one engine per worker process, made at the first job

    def new_session() -> Any:
        if not engine:
            engine.append(make_engine(settings.database_url))
        return sessions(engine[0])()

    def register(spec: JobSpec) -> None:
        def run(context: procrastinate.JobContext, **kwargs: Any) -> None:
            kwargs.pop("timestamp", None)  # what Procrastinate hands a periodic job
            job = context.job
            job_attempt(spec, settings, new_session, kwargs, attempt=job.attempts + 1, job_id=str(job.id))

        run.__name__ = spec.name
        task = app.task(
            name=spec.name,
            pass_context=True,
            retry=Backoff(max_attempts=spec.max_attempts) if spec.max_attempts > 1 else False,
            queueing_lock=spec.name if spec.one_at_a_time else None,
        )(run)
        if spec.cron:
            app.periodic(cron=spec.cron, periodic_id=spec.name)(task)  # type: ignore[arg-type]

    for spec in JOBS.values():
        register(spec)

    @app.periodic(cron=f"* * * * * */{max(settings.job_stalled_after_seconds // 2, 1)}", periodic_id=STALLED_RETRY)
    @app.task(name=STALLED_RETRY, queueing_lock=STALLED_RETRY, pass_context=True)
    async def stalled_jobs_retry(context: procrastinate.JobContext, timestamp: int) -> None:
        stalled = await app.job_manager.get_stalled_jobs(seconds_since_heartbeat=settings.job_stalled_after_seconds)
        for job in stalled:
            if job.task_name == STALLED_RETRY:
                continue
            log.warning("job %s (%s) stalled: its worker stopped; queued again", job.id, job.task_name)
            await app.job_manager.retry_job(job)

    return app


def worker_run(settings: Settings, *, concurrency: int = 1, name: str | None = None) -> None:
    """Run a worker until it is stopped (SIGINT/SIGTERM end it gracefully, letting running jobs finish)."""
    stalled = settings.job_stalled_after_seconds
    procrastinate_app(settings).run_worker(
        concurrency=concurrency,
        name=name,
        update_heartbeat_interval=max(stalled / 3, 1),
        stalled_worker_timeout=stalled,
        install_signal_handlers=True,
    )
