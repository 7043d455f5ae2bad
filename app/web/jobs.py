"""Work a request leaves for later (a confirmed import): one seam, so tests can run it in line.

`run_later(name, **kwargs)` queues job `name` of `app.jobs.registry.JOBS` in the request's transaction
(`app.jobs.queue.job_defer`): it runs on the job queue once the request has committed, never inside the request,
and a request that fails queues nothing. The test client's requests run the job at once instead, in the test's
transaction, so a test sees the finished work when its request returns.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

from fastapi import Depends, Request

from app.config import Settings
from app.db import SessionDep, SessionMaker, SessionMakerDep
from app.jobs.queue import job_defer
from app.jobs.registry import JOBS

RunLater = Callable[..., None]  # run_later(name, **kwargs)


def get_run_later(session: SessionDep) -> RunLater:
    def run_later(name: str, /, **kwargs: Any) -> None:
        job_defer(session, name, **kwargs)

    return run_later


def run_now_with(new_session: SessionMaker, settings: Settings) -> RunLater:
    """A run_later that runs the job at once, with these sessions (the tests' override)."""

    def run_now(name: str, /, **kwargs: Any) -> None:
        JOBS[name].function()(new_session, settings, **kwargs)

    return run_now


def get_run_now(request: Request, new_session: SessionMakerDep) -> RunLater:
    return run_now_with(new_session, request.app.state.settings)


RunLaterDep = Annotated[RunLater, Depends(get_run_later)]
