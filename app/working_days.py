"""Working-day arithmetic per jurisdiction: weekends and the jurisdiction's public holidays are not working days.

Timescales such as "assessment within 45 working days of referral" are counted with
this module (prefill suggestions, sampling filters, recommendation due dates).

Holidays come from the maintained `holidays` package (https://github.com/vacanza/holidays):

- ``england_and_wales``: ``holidays.country_holidays("GB", subdiv="ENG")`` (Wales has the
  same bank holidays as England);
- ``jersey``: ``holidays.country_holidays("JE")``, which adds Liberation Day (9 May) and
  the States of Jersey's one-off holidays.

Both include substitute days ("observed"): Christmas Day 2027 falls on a Saturday, so
Monday 27 and Tuesday 28 December 2027 are not working days.

Updating the calendar: new or one-off holidays (a jubilee, a state funeral) reach the
service by upgrading the library, e.g. ``pip install --upgrade holidays`` (then raise the
lower bound in pyproject.toml), and restarting the service; nothing is stored in the
database. Check the package's changelog for "United Kingdom" and "Jersey" entries.
"""

from __future__ import annotations

from datetime import date, timedelta
from functools import lru_cache
from typing import Literal, get_args

import holidays

Jurisdiction = Literal["england_and_wales", "jersey"]
JURISDICTIONS: tuple[str, ...] = get_args(Jurisdiction)

# The `holidays` country code and subdivision for each jurisdiction.
_HOLIDAY_SOURCES: dict[str, tuple[str, str | None]] = {
    "england_and_wales": ("GB", "ENG"),
    "jersey": ("JE", None),
}


class WorkingDayCalendar:
    """Working days of one jurisdiction. Pure: no clock, no database; holiday sets are built per year on first use."""

    def __init__(self, jurisdiction: Jurisdiction) -> None:
        if jurisdiction not in _HOLIDAY_SOURCES:
            raise ValueError(f"Unknown jurisdiction {jurisdiction!r}; expected one of {', '.join(JURISDICTIONS)}")
        self.jurisdiction = jurisdiction
        self._country, self._subdiv = _HOLIDAY_SOURCES[jurisdiction]
        self._years: dict[int, frozenset[date]] = {}

    def __repr__(self) -> str:
        return f"WorkingDayCalendar({self.jurisdiction!r})"

    def holidays_in(self, year: int) -> frozenset[date]:
        """The public holidays (substitute days included) falling in `year`."""
        if year not in self._years:
            # Substitute days stay in their holiday's year here (27-28 Dec, 3 Jan), so one year at a time is exact.
            self._years[year] = frozenset(holidays.country_holidays(self._country, subdiv=self._subdiv, years=year))
        return self._years[year]

    def is_holiday(self, d: date) -> bool:
        """Whether `d` is a public holiday (or a substitute day for one) here."""
        return d in self.holidays_in(d.year)

    def is_working_day(self, d: date) -> bool:
        """Monday to Friday and not a public holiday."""
        return d.weekday() < 5 and not self.is_holiday(d)

    def add_working_days(self, d: date, n: int) -> date:
        """The `n`th working day after `d` (before it when `n` is negative); `d` itself when `n` is 0.

        For n >= 0, ``working_days_between(d, add_working_days(d, n)) == n``: the last day
        on which something due "within n working days of d" is still in time.
        """
        step = timedelta(days=1 if n >= 0 else -1)
        remaining = abs(n)
        while remaining:
            d += step
            if self.is_working_day(d):
                remaining -= 1
        return d

    def working_days_between(self, start: date, end: date) -> int:
        """The number of working days after `start` up to and including `end`.

        Referral on Monday and assessment on Tuesday: 1. The same day: 0. Friday to the
        following Monday: 1. Negative when `end` is before `start`
        (``working_days_between(a, b) == -working_days_between(b, a)``).
        """
        if end < start:
            return -self.working_days_between(end, start)
        weekdays = _weekdays_after_up_to(start, end)
        holidays_on_weekdays = sum(
            1
            for year in range(start.year, end.year + 1)
            for h in self.holidays_in(year)
            if start < h <= end and h.weekday() < 5
        )
        return weekdays - holidays_on_weekdays


def _weekdays_after_up_to(start: date, end: date) -> int:
    """Mondays to Fridays in (start, end], counted without walking the days."""
    days = (end - start).days
    full_weeks, rest = divmod(days, 7)
    count = full_weeks * 5
    # The `rest` days left over follow start's weekday in order.
    count += sum(1 for i in range(1, rest + 1) if (start.weekday() + i) % 7 < 5)
    return count


@lru_cache
def calendar_for(jurisdiction: Jurisdiction) -> WorkingDayCalendar:
    """The calendar for a jurisdiction, built once per process: ``calendar_for(settings.working_days_jurisdiction)``."""
    return WorkingDayCalendar(jurisdiction)
