"""The one clock seam: every "now" and "today" the application uses comes from here.

Production reads the system clock. Tests (and anything else that needs a fixed
or shifted time) set it with `clock_set` or the `clock_at` context manager; a
set clock keeps running from the instant it was given unless told to stand still.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, tzinfo


@dataclass(frozen=True)
class _SetClock:
    instant: datetime
    running: bool
    started: float  # time.monotonic() when it was set

    def now(self) -> datetime:
        if not self.running:
            return self.instant
        return self.instant + timedelta(seconds=time.monotonic() - self.started)


_set: _SetClock | None = None


def now() -> datetime:
    """The current time, timezone-aware in UTC (what the database stores)."""
    if _set is None:
        return datetime.now(UTC)
    return _set.now()


def today(zone: tzinfo) -> date:
    """Today's date where the service works (its time zone)."""
    return now().astimezone(zone).date()


def clock_set(instant: datetime | None, *, running: bool = True) -> None:
    """Set the clock to `instant` (timezone-aware), or back to the system clock with None."""
    global _set
    if instant is None:
        _set = None
        return
    if instant.tzinfo is None:
        raise ValueError("the clock needs a timezone-aware instant")
    _set = _SetClock(instant=instant.astimezone(UTC), running=running, started=time.monotonic())


def clock_snapshot() -> tuple[datetime, bool] | None:
    """The set clock as it reads now (and whether it runs), to set the same in another process; None: the system's."""
    return None if _set is None else (_set.now(), _set.running)


@contextmanager
def clock_at(instant: datetime, *, running: bool = False) -> Iterator[None]:
    """The clock at `instant` inside the block (standing still unless running=True), as it was after."""
    global _set
    before = _set
    clock_set(instant, running=running)
    try:
        yield
    finally:
        _set = before
