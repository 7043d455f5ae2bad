"""The run-later seam: in the app, work runs in a process of its own, started after the response; tests run it
at once."""

from __future__ import annotations

import os
import time
from datetime import UTC, datetime
from pathlib import Path

from fastapi import BackgroundTasks, Request
from sqlalchemy import text

from app import clock
from app.web.jobs import get_run_later, run_now_with


class _App:
    class state:
        settings = None


class _Request:
    def __init__(self, database_url: str) -> None:
        self.app = _App()
        self.app.state.settings = type("S", (), {"database_url": database_url})()


def waiting_job(new_session, *, go: str, done: str) -> None:
    """Waits for the test to say go, then writes what it saw: its process, the database, the clock."""
    deadline = time.monotonic() + 60
    while not Path(go).exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    with new_session() as session:
        answer = session.execute(text("SELECT 41 + 1")).scalar_one()
    Path(done).write_text(f"{os.getpid()} {answer} {clock.now().date().isoformat()}")


def test_work_starts_after_the_response_in_its_own_process_without_holding_the_request(tmp_path, app):
    background = BackgroundTasks()
    go, done = tmp_path / "go", tmp_path / "done"
    get_run_later(Request({"type": "http", "app": app}), background)(waiting_job, go=str(go), done=str(done))
    assert not done.exists()  # nothing yet: the response has not been sent
    [task] = background.tasks  # what Starlette runs once the response has been sent (and the request committed)
    with clock.clock_at(datetime(2031, 5, 6, 12, tzinfo=UTC)):
        process = task.func(*task.args, **task.kwargs)  # starts the process and returns: the job is waiting
    assert process.is_alive() and not done.exists()
    go.touch()
    process.join(timeout=60)
    pid, answer, day = done.read_text().split()
    assert int(pid) not in (os.getpid(), 0) and answer == "42"
    assert day == "2031-05-06"  # the job runs on the clock of the process that started it
    assert process.exitcode == 0


def test_tests_run_the_work_at_once_with_their_own_sessions(db, tmp_path):
    go, done = tmp_path / "go", tmp_path / "done"
    go.touch()
    run_now_with(lambda: db)(waiting_job, go=str(go), done=str(done))
    assert done.read_text().split()[0] == str(os.getpid())
