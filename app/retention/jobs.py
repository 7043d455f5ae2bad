"""The nightly retention job: the schedule applied as `caseaudit retention run` would."""

from __future__ import annotations

import logging

from app.config import Settings
from app.db import SessionMaker
from app.retention.run import RunOutcome, retention_run
from app.retention.schedule import schedule_load

log = logging.getLogger("caseaudit.retention")


def retention_job(new_session: SessionMaker, settings: Settings) -> RunOutcome | None:
    """Apply the schedule (unless RETENTION_RUN_DAILY is off). An invalid schedule fails the job, named on /jobs."""
    if not settings.retention_run_daily:
        log.info("retention run skipped: RETENTION_RUN_DAILY is off")
        return None
    schedule = schedule_load(settings.retention_schedule)
    with new_session() as session:
        outcome = retention_run(session, schedule, today=settings.today(), tz=settings.tz, dry_run=False)
    if outcome.problem:
        raise RuntimeError(f"retention run stopped: {outcome.problem}")
    return outcome
