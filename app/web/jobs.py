"""Work that runs after the response (a confirmed import): one seam, so tests can run it in line.

In the app, `run_later(fn, *args, **kwargs)` is FastAPI's background task: it runs in this process once the
response has been sent, and reports its progress through the database. The test client's requests run it
at once instead, so a test sees the finished work when its request returns, with no race.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

from fastapi import BackgroundTasks, Depends

RunLater = Callable[..., None]


def get_run_later(background: BackgroundTasks) -> RunLater:
    def run_later(fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> None:
        background.add_task(fn, *args, **kwargs)

    return run_later


def run_now(fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> None:
    fn(*args, **kwargs)


RunLaterDep = Annotated[RunLater, Depends(get_run_later)]
