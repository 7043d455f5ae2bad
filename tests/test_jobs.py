"""The run-later seam: in the app, work is queued as a background task (run after the response)."""

from __future__ import annotations

from fastapi import BackgroundTasks

from app.web.jobs import get_run_later, run_now


def test_the_app_queues_work_until_after_the_response_and_tests_run_it_at_once():
    done: list[str] = []
    background = BackgroundTasks()
    get_run_later(background)(done.append, "import 7")
    assert done == []  # nothing yet: the response has not been sent
    [task] = background.tasks  # what Starlette runs once the response has been sent
    task.func(*task.args, **task.kwargs)
    assert done == ["import 7"]
    run_now(done.append, "import 8")
    assert done == ["import 7", "import 8"]
