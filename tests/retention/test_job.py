"""The nightly retention job: registered with the queue, applies the schedule, and can be turned off."""

from __future__ import annotations

from sqlalchemy import select

from app.accounts.models import LoginAttempt
from app.jobs.registry import JOBS
from app.retention.jobs import retention_job
from tests.retention.test_retention_cli import OLD


def test_the_job_runs_every_night_one_at_a_time() -> None:
    spec = JOBS["retention_run"]
    assert spec.cron == "30 2 * * *" and spec.one_at_a_time
    assert spec.function() is retention_job


def test_the_job_applies_the_schedule_unless_it_is_off(db, job_sessions, settings) -> None:
    db.add(LoginAttempt(username="someone", client_address="127.0.0.1", succeeded=False, created_at=OLD))
    db.flush()
    off = settings.model_copy(update={"retention_run_daily": False})
    assert retention_job(job_sessions, off) is None
    assert db.execute(select(LoginAttempt).where(LoginAttempt.username == "someone")).all()

    outcome = retention_job(job_sessions, settings)

    assert outcome is not None and {o.kind: o.done for o in outcome.rules}["sign_in_attempts"] == 1
    db.expire_all()
    assert not db.execute(select(LoginAttempt).where(LoginAttempt.username == "someone")).all()
