"""The PostgreSQL job queue for real: Procrastinate's tables made by our migrations, jobs queued in the caller's
transaction, `caseaudit worker` processes running them, a worker killed with SIGKILL mid-job and the job completed
once by the next, and periodic jobs queued once across two workers. Each test has a database of its own (the
workers are other processes and see only what is committed)."""

from __future__ import annotations

import signal
import subprocess
import time
from collections.abc import Callable, Iterator
from datetime import date

import pytest
from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlmodel import Session

from app.cases import service
from app.cases.readers import UploadedFile
from app.cli import alembic_upgrade
from app.db import make_engine
from app.jobs.queue import job_defer
from tests.conftest import fresh_database_url, using_postgres
from tests.jobs.workers import worker_start, workers_stop


@pytest.fixture
def queue_db(pytestconfig, tmp_path) -> Iterator[tuple[str, Engine]]:
    if not using_postgres(pytestconfig):
        pytest.skip("the job queue of PostgreSQL (SQLite's is tests/jobs/test_local_queue.py); CI runs both")
    url = fresh_database_url(pytestconfig, tmp_path, "queue")
    alembic_upgrade(url)
    engine = make_engine(url)
    try:
        yield url, engine
    finally:
        engine.dispose()


def _wait_for(condition: Callable[[], object], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.2)
    raise AssertionError(f"waited {timeout:.0f}s for {what}")


def _scalar(engine: Engine, sql: str, **params: object) -> object:
    with engine.connect() as connection:
        return connection.execute(text(sql), params).scalar()


def _queued_import(engine: Engine, rows: int) -> int:
    body = "child_id,case_type,status,start_date,team\n" + "".join(
        f"Q{i:05d},cin,open,01/01/2025,Team Q\n" for i in range(rows)
    )
    with Session(engine, expire_on_commit=False) as session:
        case_import = service.import_prepare(
            session, files=[UploadedFile("r.csv", body.encode())], format="csv", actor=None, today=date(2025, 6, 1)
        )
        service.import_queue(session, case_import=case_import)
        job_defer(session, "case_import", import_id=case_import.id, actor_id=None, today="2025-06-01")
        session.commit()
        assert case_import.id is not None
        return case_import.id


def test_a_job_is_queued_only_if_its_transaction_commits(queue_db) -> None:
    _, engine = queue_db
    with Session(engine) as session:
        job_defer(session, "import_previews_expire")
        session.rollback()
    assert _scalar(engine, "SELECT count(*) FROM procrastinate_jobs") == 0
    with Session(engine) as session:
        job_defer(session, "case_import", import_id=7, actor_id=None, today="2025-06-01")
        session.commit()
    row = _scalar(engine, "SELECT args::text FROM procrastinate_jobs WHERE task_name = 'case_import'")
    assert row is not None and '"import_id": 7' in str(row)


def test_a_one_at_a_time_job_waits_in_the_queue_once(queue_db) -> None:
    _, engine = queue_db
    for _ in range(3):
        with Session(engine) as session:
            job_defer(session, "import_previews_expire")
            job_defer(session, "import_previews_expire")  # in the same transaction too: it goes on
            session.commit()
    count = "SELECT count(*) FROM procrastinate_jobs WHERE task_name = 'import_previews_expire' AND status = 'todo'"
    assert _scalar(engine, count) == 1


def test_a_worker_runs_a_confirmed_import(queue_db, tmp_path) -> None:
    url, engine = queue_db
    import_id = _queued_import(engine, rows=3)
    worker = worker_start(url, tmp_path, "w1")
    try:
        status = "SELECT status FROM case_import WHERE id = :id"
        _wait_for(lambda: _scalar(engine, status, id=import_id) == "committed", 60, "the import to be written")
        assert _scalar(engine, "SELECT count(*) FROM child_case") == 3
        job = "SELECT status FROM procrastinate_jobs WHERE task_name = 'case_import'"
        _wait_for(lambda: _scalar(engine, job) == "succeeded", 30, "the queue to mark the job done")
    finally:
        workers_stop(worker)


def test_a_worker_killed_mid_job_leaves_the_job_to_the_next_which_completes_it_once(queue_db, tmp_path) -> None:
    """The first worker claims the import and reads its files; the test holds the register (child_case) so the job
    waits at its write, and the worker is killed there (SIGKILL: no goodbye). The second worker finds the job
    stalled, runs it again, takes over the import the dead run left "importing", and writes it: every case once."""
    url, engine = queue_db
    import_id = _queued_import(engine, rows=400)
    second: subprocess.Popen[bytes] | None = None
    with engine.connect() as holder:
        holder.execute(text("LOCK TABLE child_case IN ACCESS EXCLUSIVE MODE"))
        first = worker_start(url, tmp_path, "first")
        try:
            importing = "SELECT status FROM case_import WHERE id = :id"
            waiting = "SELECT count(*) FROM pg_locks WHERE NOT granted AND relation = 'child_case'::regclass"
            _wait_for(lambda: _scalar(engine, waiting) == 1, 60, "the first worker to reach its write")
            assert _scalar(engine, importing, id=import_id) == "importing"
            first.send_signal(signal.SIGKILL)
            first.wait(timeout=20)
        finally:
            holder.rollback()
    try:
        doing = "SELECT status FROM procrastinate_jobs WHERE task_name = 'case_import'"
        assert _scalar(engine, doing) == "doing"  # killed mid-job: nobody finished it
        assert _scalar(engine, "SELECT count(*) FROM child_case") == 0
        second = worker_start(url, tmp_path, "second")
        importing = "SELECT status FROM case_import WHERE id = :id"
        _wait_for(lambda: _scalar(engine, importing, id=import_id) == "committed", 90, "the second worker to finish")
        assert _scalar(engine, "SELECT count(*) FROM child_case") == 400
        assert _scalar(engine, "SELECT count(DISTINCT child_id) FROM child_case") == 400
        _wait_for(lambda: _scalar(engine, doing) == "succeeded", 30, "the queue to mark the job done")
        events = "SELECT count(*) FROM audit_event WHERE action = 'case_import.commit' AND entity_id = :id"
        assert _scalar(engine, events, id=str(import_id)) == 1
    finally:
        workers_stop(first, *([second] if second else []))


def test_two_workers_queue_each_periodic_run_once(queue_db, tmp_path) -> None:
    """Both workers' schedulers try to queue the queue's own periodic job (every STALLED_AFTER // 2 seconds): each
    of its times is queued once."""
    url, engine = queue_db
    workers = [worker_start(url, tmp_path, "a"), worker_start(url, tmp_path, "b")]
    try:
        count = "SELECT count(*) FROM procrastinate_jobs WHERE task_name = 'stalled_jobs_retry'"
        _wait_for(lambda: int(_scalar(engine, count) or 0) >= 4, 60, "several periodic runs")
        registered = "SELECT count(*) FROM procrastinate_workers"
        assert _scalar(engine, registered) == 2
    finally:
        workers_stop(*workers)
    duplicates = _scalar(
        engine,
        "SELECT count(*) FROM (SELECT periodic_id, defer_timestamp FROM procrastinate_periodic_defers "
        "GROUP BY 1, 2 HAVING count(*) > 1) d",
    )
    assert duplicates == 0
    with engine.connect() as connection:
        times = (
            connection.execute(
                text("SELECT args->>'timestamp' FROM procrastinate_jobs WHERE task_name = 'stalled_jobs_retry'")
            )
            .scalars()
            .all()
        )
    assert len(times) == len(set(times))
