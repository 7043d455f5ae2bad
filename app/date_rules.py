"""The dates the domain allows: one set of rules for every due date and programme year, as pure functions.

A due date (a cycle's, an audit's, a recommendation's) that is set or changed must be from today (and never
before the thing it belongs to was created) up to `DUE_DATE_HORIZON_YEARS` ahead. A due date resubmitted
unchanged on an edit is not checked again: it was allowed when it was set, and time passing does not make it
wrong. Programme years run from EARLIEST_YEAR to the horizon's year; other dates in the programme (a cycle's
start) stay within the same years.

"Today" is always passed in: it comes from the clock seam (`Settings.today()`), never from the system clock here.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, tzinfo

from app.dates import short_date

# The first year of any programme: no council ran an audit programme in this service before it.
EARLIEST_YEAR = 2000
EARLIEST_DATE = date(EARLIEST_YEAR, 1, 1)


def years_after(day: date, years: int) -> date:
    """The same day `years` later (29 February becomes 28 February in a year that has none)."""
    try:
        return day.replace(year=day.year + years)
    except ValueError:
        return day.replace(year=day.year + years, day=28)


def due_date_range(today: date, horizon_years: int, *, not_before: date | None = None) -> tuple[date, date]:
    """The first and last due date that may be set today: from today, or from `not_before` (the day the thing
    was created) when that is later, to `horizon_years` after today."""
    first = max(today, not_before) if not_before is not None else today
    return first, years_after(today, horizon_years)


def range_message(label: str, first: date, last: date) -> str:
    """A refusal that names the field and the dates it may take."""
    return f"{label[:1].upper()}{label[1:]} must be between {short_date(first)} and {short_date(last)}"


def due_date_problem(
    value: date,
    *,
    today: date,
    horizon_years: int,
    not_before: date | None = None,
    current: date | None = None,
    label: str = "the due date",
) -> str | None:
    """Why `value` cannot be set as a due date today, or None when it can (or when it is `current`, unchanged)."""
    if current is not None and value == current:
        return None
    first, last = due_date_range(today, horizon_years, not_before=not_before)
    return None if first <= value <= last else range_message(label, first, last)


def programme_years(today: date, horizon_years: int) -> range:
    """The years a programme can be planned or looked back on: EARLIEST_YEAR to the horizon's year."""
    return range(EARLIEST_YEAR, years_after(today, horizon_years).year + 1)


def programme_date_problem(value: date, *, today: date, horizon_years: int, label: str) -> str | None:
    """Why `value` is outside the programme's dates (from 1 January EARLIEST_YEAR to the horizon), or None."""
    last = years_after(today, horizon_years)
    return None if EARLIEST_DATE <= value <= last else range_message(label, EARLIEST_DATE, last)


@dataclass(frozen=True)
class DueDateRules:
    """The rules above for one request: today (from the clock seam), the configured horizon, and the time zone
    whose calendar "today" is (a row's creation time, stored in UTC, is a day on that calendar)."""

    today: date
    horizon_years: int
    zone: tzinfo = UTC

    def problem(
        self,
        value: date,
        *,
        created_at: datetime | None = None,
        current: date | None = None,
        label: str = "the due date",
    ) -> str | None:
        """Why `value` cannot be the due date of something created at `created_at`, or None."""
        return due_date_problem(
            value,
            today=self.today,
            horizon_years=self.horizon_years,
            not_before=created_at.astimezone(self.zone).date() if created_at is not None else None,
            current=current,
            label=label,
        )

    def programme_date_problem(self, value: date, *, label: str) -> str | None:
        return programme_date_problem(value, today=self.today, horizon_years=self.horizon_years, label=label)

    @property
    def years(self) -> range:
        return programme_years(self.today, self.horizon_years)
