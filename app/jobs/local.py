"""The job queue of the embedded SQLite default: one thread in the app process runs the queued jobs and the
periodic ones, with the same job functions and retries as the PostgreSQL queue, so `make run` needs nothing else.

Jobs wait in memory: what is queued but not yet run when the process stops is not run by this queue after a
restart (an import left queued is picked up again at start, by `resume_on_start`); the PostgreSQL queue keeps its
jobs in the database and is the one to run in production. SQLite serves one app process, so periodic jobs run once.
"""

from __future__ import annotations

import heapq
import itertools
import logging
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from croniter import croniter
from sqlalchemy.engine import Engine

from app import clock
from app.config import Settings
from app.jobs.registry import JOBS, backoff_seconds
from app.jobs.runner import job_attempt, sessions

log = logging.getLogger("caseaudit.jobs")

RESUME_ON_START = ("case_import_resume",)  # jobs run once when the queue starts (work a restart left behind)


@dataclass(order=True)
class _Due:
    at: float  # monotonic seconds
    seq: int
    name: str = field(compare=False)
    kwargs: dict[str, Any] = field(compare=False)
    attempt: int = field(compare=False, default=1)


class LocalQueue:
    """A heap of due jobs and the next time of each periodic job, worked through by one daemon thread."""

    def __init__(self, settings: Settings, engine: Engine) -> None:
        self.settings = settings
        self.new_session = sessions(engine)
        self._heap: list[_Due] = []
        self._seq = itertools.count()
        self._wake = threading.Condition()
        self._stopping = False
        self._thread: threading.Thread | None = None

    # --- queueing ---------------------------------------------------------------------------------------

    def put(self, name: str, kwargs: dict[str, Any], *, delay: float = 0.0, attempt: int = 1) -> None:
        with self._wake:
            heapq.heappush(self._heap, _Due(_monotonic() + delay, next(self._seq), name, kwargs, attempt))
            self._wake.notify()

    def _periodic(self) -> None:
        """Queue each periodic job at its next time after now (each queues its next run when it runs)."""
        for spec in JOBS.values():
            if spec.cron:
                self.put(spec.name, {}, delay=_seconds_to_next(spec.cron, clock.now()))

    # --- running ----------------------------------------------------------------------------------------

    def start(self) -> None:
        self._periodic()
        self._thread = threading.Thread(target=self._loop, name="caseaudit-jobs", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        with self._wake:
            self._stopping = True
            self._wake.notify()
        if self._thread is not None:
            self._thread.join(timeout)

    def _next(self) -> _Due | None:
        with self._wake:
            while not self._stopping:
                if self._heap and self._heap[0].at <= _monotonic():
                    return heapq.heappop(self._heap)
                self._wake.wait(timeout=(self._heap[0].at - _monotonic()) if self._heap else None)
        return None

    def _loop(self) -> None:
        while (due := self._next()) is not None:
            self.run(due.name, due.kwargs, attempt=due.attempt)

    def run(self, name: str, kwargs: dict[str, Any], *, attempt: int = 1) -> None:
        spec = JOBS[name]
        try:
            job_attempt(spec, self.settings, self.new_session, kwargs, attempt=attempt)
        except Exception:  # recorded by job_attempt
            if attempt < spec.max_attempts:
                self.put(name, kwargs, delay=backoff_seconds(attempt), attempt=attempt + 1)
        if spec.cron:
            self.put(name, {}, delay=_seconds_to_next(spec.cron, clock.now()))

    def idle(self) -> bool:
        """Nothing due now (periodic jobs wait for their time)."""
        with self._wake:
            return not self._heap or self._heap[0].at > _monotonic()


def _monotonic() -> float:
    return time.monotonic()


def _seconds_to_next(cron: str, now: datetime) -> float:
    following: datetime = croniter(cron, now).get_next(datetime)
    return max((following - now).total_seconds(), 0.0)


_queues: dict[int, LocalQueue] = {}  # one per engine (an app, or a test's app, on its own database)
_queues_lock = threading.Lock()


def local_queue_start(settings: Settings, engine: Engine) -> LocalQueue:
    """Start the job thread of the app on `engine` (once), and queue the jobs a restart may have left behind."""
    with _queues_lock:
        queue = _queues.get(id(engine))
        if queue is None:
            queue = _queues[id(engine)] = LocalQueue(settings, engine)
            for name in RESUME_ON_START:
                if name in JOBS:
                    queue.put(name, {})
            queue.start()
        return queue


def local_queue_stop(engine: Engine) -> None:
    with _queues_lock:
        queue = _queues.pop(id(engine), None)
    if queue is not None:
        queue.stop()


def local_queue_put(engine: Engine, name: str, kwargs: dict[str, Any]) -> None:
    """Hand a committed job to the job thread of the app on `engine`; with none running (a command-line tool, a
    test), it is dropped with a warning: the caller's tests run jobs themselves."""
    queue = _queues.get(id(engine))
    if queue is None:
        log.warning("job %s queued with no job thread running: not run", name)
        return
    queue.put(name, kwargs)
