"""Every job the queue runs: its name, its function, whether it recurs, and how often it is tried.

A job function is `job(new_session, settings, **kwargs)`: `new_session()` opens a session on the app's database
(the job commits what it does, in as many transactions as it needs), `settings` are the app's, and the keyword
arguments are what was queued (JSON: numbers, text, lists). Jobs must be idempotent: a job may run again after
a worker was killed mid-way, and a periodic job may find its work already done.

The functions are named by their module path, imported when first run, so this module sits low (the areas it names
import nothing from here) and both the web app, which queues jobs, and the worker, which runs them, read it.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

JobFunction = Callable[..., Any]

STALLED_RETRY = "stalled_jobs_retry"  # the queue's own periodic job (PostgreSQL): jobs of a dead worker run again


@dataclass(frozen=True)
class JobSpec:
    name: str
    target: str  # "package.module:function"
    cron: str | None = None  # recurring (UTC; a sixth field is seconds): queued by the queue itself
    max_attempts: int = 5  # a failed attempt is tried again, with back-off, until this many
    one_at_a_time: bool = False  # never two runs of this job at once (one queued, one running at most)
    summary: str = ""

    def function(self) -> JobFunction:
        module, _, name = self.target.partition(":")
        function: JobFunction = getattr(importlib.import_module(module), name)
        return function


JOBS: dict[str, JobSpec] = {
    spec.name: spec
    for spec in (
        JobSpec(
            "case_import",
            "app.cases.imports.jobs:import_job",
            max_attempts=1,  # an import records its own failure; a worker that dies mid-way is retried anyway
            summary="Write a confirmed import",
        ),
        JobSpec(
            "case_import_resume",
            "app.cases.imports.jobs:imports_resume_job",
            max_attempts=1,
            summary="Run the imports a restart left waiting (SQLite's queue, at start)",
        ),
        JobSpec(
            "import_previews_expire",
            "app.cases.imports.jobs:previews_expire_job",
            cron="10 * * * *",
            one_at_a_time=True,
            summary="Expire import previews not confirmed in time",
        ),
        JobSpec(
            "board_packs_prepare",
            "app.reports.packs.jobs:packs_prepare_job",
            cron="0 6 * * *",
            one_at_a_time=True,
            summary="Prepare the scheduled board packs for commentary",
        ),
        JobSpec(
            "board_pack_generate",
            "app.reports.packs.jobs:pack_generate_job",
            max_attempts=3,
            summary="Make an issued board pack's PDF",
        ),
        JobSpec(
            "board_pack_send",
            "app.reports.packs.jobs:pack_send_job",
            summary="Send an issued board pack to the board",
        ),
        JobSpec(
            "outbox_deliver",
            "app.notifications.outbox:outbox_deliver",
            cron="* * * * *",
            one_at_a_time=True,
            max_attempts=1,  # the outbox tries each email again itself, with its own back-off
            summary="Send the emails waiting in the outbox (safeguarding alerts)",
        ),
        JobSpec(
            "escalations_chase",
            "app.escalations.chase:escalations_chase",
            cron="*/5 * * * *",
            one_at_a_time=True,
            summary="Chase the safeguarding escalations nobody has acknowledged",
        ),
        JobSpec(
            "recommendation_reminders",
            "app.recommendations.reminders:reminders_job",
            cron="0 7 * * *",
            one_at_a_time=True,
            summary="Send the day's recommendation reminders",
        ),
        JobSpec(
            "retention_run",
            "app.retention.jobs:retention_job",
            cron="30 2 * * *",
            one_at_a_time=True,
            max_attempts=3,
            summary="Apply the retention schedule: remove or anonymise what is due, keep what is on legal hold",
        ),
    )
}


def backoff_seconds(attempt: int) -> int:
    """How long to wait after failed attempt `attempt` (1, 2, ...) before the next: 30 s, 1, 2, 4... minutes,
    at most an hour."""
    return int(min(30 * 2 ** (attempt - 1), 3600))
