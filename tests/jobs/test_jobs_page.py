"""The QA lead's Background jobs page: the failed attempts (both databases) and the queue's counts (PostgreSQL)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from procrastinate.jobs import Job

from app import clock
from app.accounts.roles import Role
from app.jobs.models import JobFailure
from app.jobs.queue import job_defer
from app.jobs.worker import Backoff
from tests.conftest import using_postgres
from tests.factories import login, make_user, page_text


@pytest.fixture
def lead(client, db):
    make_user(db, username="qa", roles=(Role.QA_LEAD,))
    assert login(client, "qa").status_code == 303
    return client


def test_with_nothing_failed_the_page_says_so(lead) -> None:
    text = page_text(lead.get("/jobs").text)
    assert "Background jobs" in text and "No job has failed." in text


def test_failed_attempts_are_listed_newest_first_with_their_error_and_whether_they_are_tried_again(lead, db) -> None:
    db.add(
        JobFailure(
            job_name="recommendation_reminders",
            attempt=1,
            error="MailError: smtp:587 refused: 451",
            failed_at=clock.now() - timedelta(hours=1),
        )
    )
    db.add(JobFailure(job_name="case_import", attempt=1, error="OperationalError", final=True, failed_at=clock.now()))
    db.flush()
    text = page_text(lead.get("/jobs").text)
    assert "Showing 1 to 2 of 2 failed attempts" in text
    rows = text[text.index("Showing") :]
    assert rows.index("Write a confirmed import") < rows.index("recommendation reminders")
    assert "MailError: smtp:587 refused: 451" in text and "Tried again later" in text and "Gave up" in text
    only = page_text(lead.get("/jobs", params={"job": "case_import"}).text)
    assert "Showing 1 to 1 of 1 failed attempt" in only and "smtp:587" not in only
    unknown = page_text(lead.get("/jobs", params={"job": "no_such_job"}).text)  # an unknown job is no filter
    assert "Showing 1 to 2 of 2" in unknown


def test_only_the_qa_lead_sees_the_jobs(client, db) -> None:
    make_user(db, username="aud", roles=(Role.AUDITOR, Role.MODERATOR, Role.HEAD_OF_SERVICE))
    login(client, "aud")
    assert client.get("/jobs").status_code == 403
    client.cookies.clear()
    assert client.get("/jobs", follow_redirects=False).status_code in (302, 303)


def test_the_queue_at_a_glance(lead, db, pytestconfig) -> None:
    text = page_text(lead.get("/jobs").text)
    if not using_postgres(pytestconfig):
        assert "the app runs its jobs itself" in text
        return
    job_defer(db, "case_import", import_id=1, actor_id=None, today="2026-01-01")
    job_defer(db, "import_previews_expire")
    text = page_text(lead.get("/jobs").text)
    assert "Waiting 2" in text and "Running 0" in text and "Gave up 0" in text


@pytest.mark.parametrize(("attempts_before", "wait"), [(0, 30), (1, 60), (2, 120), (3, 240), (4, None)])
def test_the_postgres_queue_tries_again_with_the_same_backoff_until_the_last_attempt(attempts_before, wait) -> None:
    job = Job(id=1, queue="default", lock=None, queueing_lock=None, task_name="x", attempts=attempts_before)
    decision = Backoff(max_attempts=5).get_retry_decision(exception=ValueError(), job=job)
    if wait is None:
        assert decision is None
    else:
        assert decision is not None and decision.retry_at is not None
        delay = (decision.retry_at - datetime.now(UTC)).total_seconds()
        assert wait - 5 < delay <= wait
