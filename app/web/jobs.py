"""Work that runs after the response (a confirmed import), in a process of its own: one seam, so tests can run it
in line.

`run_later(job, **kwargs)` calls `job(new_session, **kwargs)`, where `new_session()` opens a session on the app's
database. In the app the job runs in a new process, started once the response has been sent (so the request's
transaction, which queued the work, has committed): a long import never holds a web worker, its event loop or
its health checks, and a worker restarted meanwhile does not stop it. The job reports progress through the
database. The test client's requests run it at once, in the test's transaction, so a test sees the finished work
when its request returns. (Until the job queue lands: see the README on sizes.)
"""

from __future__ import annotations

import importlib
import multiprocessing
from collections.abc import Callable
from datetime import datetime
from typing import Annotated, Any

from fastapi import BackgroundTasks, Depends, Request
from sqlmodel import Session

from app import clock
from app.config import Settings
from app.db import SessionMaker, SessionMakerDep, make_engine

Job = Callable[..., None]  # job(new_session, **kwargs)
RunLater = Callable[..., None]  # run_later(job, **kwargs)

_SPAWN = multiprocessing.get_context("spawn")  # a fresh interpreter: nothing of the web worker's state is shared


def job_process_main(
    settings: Settings, module: str, name: str, kwargs: dict[str, Any], clock_now: tuple[datetime, bool] | None = None
) -> None:
    """The job process: the app's settings (its database, its audit-trail seal) and the clock of the process that
    started it, its own engine and sessions, then the job."""
    from app.audit_trail.service import audit_chain_link, audit_trail_configure
    from app.log_config import configure_logging

    configure_logging()
    audit_trail_configure(settings)
    if clock_now is not None:
        clock.clock_set(clock_now[0], running=clock_now[1])
    job = getattr(importlib.import_module(module), name)
    engine = make_engine(settings.database_url)
    try:
        job(lambda: Session(engine, expire_on_commit=False), **kwargs)
        with Session(engine) as session:  # the job's audit-trail events, into the chain
            audit_chain_link(session)
            session.commit()
    finally:
        engine.dispose()


def start_job_process(settings: Settings, job: Job, kwargs: dict[str, Any]) -> multiprocessing.process.BaseProcess:
    multiprocessing.active_children()  # reap jobs that have finished
    process = _SPAWN.Process(
        target=job_process_main,
        args=(settings, job.__module__, job.__qualname__, kwargs, clock.clock_snapshot()),
        name="caseaudit-job",
    )
    process.start()
    return process


def get_run_later(request: Request, background: BackgroundTasks) -> RunLater:
    settings = request.app.state.settings

    def run_later(job: Job, /, **kwargs: Any) -> None:
        background.add_task(start_job_process, settings, job, kwargs)

    return run_later


def run_now_with(new_session: SessionMaker) -> RunLater:
    """A run_later that runs the job at once, with these sessions (the tests' override)."""

    def run_now(job: Job, /, **kwargs: Any) -> None:
        job(new_session, **kwargs)

    return run_now


def get_run_now(new_session: SessionMakerDep) -> RunLater:
    return run_now_with(new_session)


RunLaterDep = Annotated[RunLater, Depends(get_run_later)]
