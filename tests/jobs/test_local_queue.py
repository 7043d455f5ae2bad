"""The SQLite job queue (a thread in the app process) and what both queues share: the runner's failure record, the
back-off, queueing after commit. Jobs of the tests' own are registered for a test (monkeypatch of our registry)."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func
from sqlmodel import Session, select

from app.accounts.roles import Role
from app.cases.models import Case, CaseImport
from app.cli import alembic_upgrade
from app.db import make_engine
from app.errors import DomainError
from app.jobs import local
from app.jobs.models import JobFailure
from app.jobs.queue import job_defer
from app.jobs.registry import JOBS, JobSpec, backoff_seconds
from app.jobs.runner import error_text, job_attempt
from app.mail import MailError
from app.main import create_app
from tests.conftest import fresh_database_url, make_test_settings
from tests.factories import csrf_token, login, make_user, post_form

RUNS: list[dict[str, object]] = []


def recording_job(new_session, settings, **kwargs) -> None:
    RUNS.append(kwargs)


def failing_job(new_session, settings, **kwargs) -> None:
    raise ValueError("the child DEMO123 could not be read")  # a message that may name someone: never shown


def refused_job(new_session, settings, **kwargs) -> None:
    raise DomainError("The mail server refused the message")


@pytest.fixture
def test_jobs(monkeypatch) -> Iterator[None]:
    RUNS.clear()
    for spec in (
        JobSpec("test_record", f"{__name__}:recording_job"),
        JobSpec("test_fail", f"{__name__}:failing_job", max_attempts=2),
        JobSpec("test_refused", f"{__name__}:refused_job", max_attempts=1),
    ):
        monkeypatch.setitem(JOBS, spec.name, spec)
    yield


def _wait_for(condition: Callable[[], object], timeout: float = 20) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.05)
    raise AssertionError("waited too long")


def test_backoff_grows_and_is_capped() -> None:
    assert [backoff_seconds(n) for n in (1, 2, 3, 4)] == [30, 60, 120, 240]
    assert backoff_seconds(30) == 3600


def test_an_error_is_kept_by_its_kind_and_only_a_message_written_for_people() -> None:
    assert error_text(ValueError("the child DEMO123 could not be read")) == "ValueError"
    assert error_text(MailError("mail.example.org:587 refused: 550")) == "MailError: mail.example.org:587 refused: 550"
    assert error_text(DomainError("A rule was broken")) == "DomainError: A rule was broken"


def test_a_failed_attempt_is_recorded_and_raised_again(db, settings, test_jobs) -> None:
    new_session = lambda: db  # noqa: E731  (the test's session: what the job writes is rolled back with it)
    with pytest.raises(ValueError):
        job_attempt(JOBS["test_fail"], settings, new_session, {}, attempt=1, job_id="41")
    with pytest.raises(ValueError):
        job_attempt(JOBS["test_fail"], settings, new_session, {}, attempt=2)
    failures = db.exec(select(JobFailure).order_by(JobFailure.id)).all()
    assert [(f.job_name, f.attempt, f.error, f.final, f.job_id) for f in failures] == [
        ("test_fail", 1, "ValueError", False, "41"),
        ("test_fail", 2, "ValueError", True, None),
    ]


def test_the_thread_runs_queued_jobs_and_tries_a_failed_one_again_after_its_backoff(
    pytestconfig, tmp_path, test_jobs, monkeypatch
) -> None:
    if pytestconfig.getoption("--postgres"):
        pytest.skip("the in-process queue serves SQLite only")
    url = fresh_database_url(pytestconfig, tmp_path, "local_queue")
    alembic_upgrade(url)
    engine = make_engine(url)
    monkeypatch.setattr("app.jobs.local.backoff_seconds", lambda attempt: 0.2)
    queue = local.LocalQueue(make_test_settings(url), engine)
    queue.start()
    try:
        queue.put("test_record", {"n": 1})
        queue.put("test_fail", {})
        _wait_for(lambda: RUNS == [{"n": 1}])

        def failures() -> int:
            with Session(engine) as session:
                return session.exec(select(func.count()).select_from(JobFailure)).one()

        _wait_for(lambda: failures() == 2)
        with Session(engine) as session:
            attempts = session.exec(select(JobFailure.attempt, JobFailure.final).order_by(JobFailure.attempt)).all()
        assert attempts == [(1, False), (2, True)]  # tried again once, then given up: max_attempts is 2
        time.sleep(0.5)
        assert failures() == 2
    finally:
        queue.stop()
        engine.dispose()


def test_a_job_reaches_the_thread_only_when_its_transaction_commits(pytestconfig, tmp_path, test_jobs) -> None:
    if pytestconfig.getoption("--postgres"):
        pytest.skip("the in-process queue serves SQLite only (PostgreSQL's: tests/jobs/test_postgres_queue.py)")
    url = fresh_database_url(pytestconfig, tmp_path, "local_commit")
    alembic_upgrade(url)
    engine = make_engine(url)
    local.local_queue_start(make_test_settings(url), engine)
    try:
        with Session(engine) as session:
            job_defer(session, "test_record", n=1)
            session.rollback()
        with Session(engine) as session:
            job_defer(session, "test_record", n=2)
            assert RUNS == []  # not before the commit
            session.commit()
        _wait_for(lambda: RUNS == [{"n": 2}])
        time.sleep(0.2)
        assert RUNS == [{"n": 2}]
    finally:
        local.local_queue_stop(engine)
        engine.dispose()


def test_a_job_with_arguments_json_cannot_hold_is_refused_when_queued(db, test_jobs) -> None:
    with pytest.raises(TypeError):
        job_defer(db, "test_record", when=threading.Lock())
    with pytest.raises(KeyError):
        job_defer(db, "no_such_job")


def test_make_run_on_sqlite_writes_a_confirmed_import_on_the_apps_job_thread(pytestconfig, tmp_path) -> None:
    """The app itself, as `make run` starts it (SQLite, JOBS_IN_PROCESS on), with no test override: confirming an
    import queues it, the page answers at once, and the app's job thread writes it."""
    if pytestconfig.getoption("--postgres"):
        pytest.skip("the in-process queue serves SQLite only")
    url = fresh_database_url(pytestconfig, tmp_path, "make_run")
    alembic_upgrade(url)
    engine = make_engine(url)
    with Session(engine) as session:
        make_user(session, username="qa", roles=(Role.QA_LEAD,))
        session.commit()
    body = b"child_id,case_type,status,start_date,team\nJ1,cin,open,01/01/2025,Team J\nJ2,cp,open,02/01/2025,Team J\n"
    try:
        with TestClient(create_app(make_test_settings(url, jobs_in_process=True))) as client:
            assert login(client, "qa").status_code == 303
            preview = client.post(
                "/imports/new",
                data={"format": "csv", "mode": "all_or_nothing", "csrf_token": csrf_token(client)},
                files=[("file", ("r.csv", body, "text/csv"))],
                follow_redirects=False,
            )
            assert preview.status_code == 303, preview.text
            confirm = post_form(client, preview.headers["location"] + "/confirm")
            assert confirm.status_code == 303

            def written() -> bool:
                with Session(engine) as session:
                    return session.exec(select(CaseImport.status)).one() == "committed"

            _wait_for(written)
            with Session(engine) as session:
                assert session.exec(select(func.count()).select_from(Case)).one() == 2
    finally:
        engine.dispose()
