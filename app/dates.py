"""How dates are written for people, in one place: "3 November 2026" in running text and "3 Nov 2026" where space
is short (tables, suggestions); calendar months back; a local day's start in the configured time zone. Pure
functions: "today" itself comes from `app.clock`."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo


def long_date(value: date | None) -> str:
    """ "3 November 2026" ("" for no date)."""
    return f"{value.day} {value:%B %Y}" if value else ""


def short_date(value: date | None) -> str:
    """ "3 Nov 2026" ("" for no date)."""
    return f"{value.day} {value:%b %Y}" if value else ""


def months_before(day: date, months: int) -> date:
    """The same day `months` calendar months earlier (the month's last day when it is shorter)."""
    index = day.year * 12 + day.month - 1 - months
    year, month = divmod(index, 12)
    month += 1
    last = (date(year + month // 12, month % 12 + 1, 1) - timedelta(days=1)).day
    return date(year, month, min(day.day, last))


def local_day_start(day: date, zone: str) -> datetime:
    """Midnight at the start of `day` in the configured time zone, as an aware datetime (compare with UTC columns)."""
    return datetime(day.year, day.month, day.day, tzinfo=ZoneInfo(zone))
