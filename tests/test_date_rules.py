"""app.date_rules: the due dates and programme years the domain allows, as pure functions."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest

from app.date_rules import (
    EARLIEST_YEAR,
    DueDateRules,
    due_date_problem,
    due_date_range,
    programme_date_problem,
    programme_years,
    years_after,
)

TODAY = date(2026, 11, 26)
RANGE = "The due date must be between 26 Nov 2026 and 26 Nov 2029"


def test_years_after_keeps_the_day_and_moves_29_february_to_the_28th():
    assert years_after(date(2026, 11, 26), 3) == date(2029, 11, 26)
    assert years_after(date(2028, 2, 29), 1) == date(2029, 2, 28)
    assert years_after(date(2028, 2, 29), 4) == date(2032, 2, 29)


def test_a_due_date_runs_from_today_to_the_horizon():
    assert due_date_range(TODAY, 3) == (TODAY, date(2029, 11, 26))
    assert due_date_range(TODAY, 1) == (TODAY, date(2027, 11, 26))


def test_a_due_date_is_never_before_the_thing_was_created():
    assert due_date_range(TODAY, 3, not_before=date(2026, 12, 1)) == (date(2026, 12, 1), date(2029, 11, 26))
    assert due_date_range(TODAY, 3, not_before=date(2026, 1, 1)) == (TODAY, date(2029, 11, 26))


@pytest.mark.parametrize(
    ("value", "problem"),
    [
        (date(1900, 1, 1), RANGE),
        (date(1999, 12, 31), RANGE),
        (date(2026, 11, 25), RANGE),  # yesterday
        (TODAY, None),
        (date(2029, 11, 26), None),  # the horizon itself
        (date(2029, 11, 27), RANGE),
        (date(9999, 12, 31), RANGE),
    ],
)
def test_a_due_date_set_now_must_be_in_range(value, problem):
    assert due_date_problem(value, today=TODAY, horizon_years=3) == problem


def test_the_message_names_the_field_given():
    assert due_date_problem(date(1900, 1, 1), today=TODAY, horizon_years=1, label="the new due date") == (
        "The new due date must be between 26 Nov 2026 and 26 Nov 2027"
    )


def test_a_due_date_before_the_thing_was_created_names_that_day():
    assert due_date_problem(date(2026, 11, 27), today=TODAY, horizon_years=3, not_before=date(2026, 12, 1)) == (
        "The due date must be between 1 Dec 2026 and 26 Nov 2029"
    )


def test_an_unchanged_due_date_is_not_checked_again_even_once_it_has_passed():
    passed = date(2026, 10, 1)
    assert due_date_problem(passed, today=TODAY, horizon_years=3, current=passed) is None
    assert due_date_problem(passed, today=TODAY, horizon_years=3, current=date(2026, 10, 2)) == RANGE


def test_programme_years_run_from_the_earliest_year_to_the_horizon():
    years = programme_years(TODAY, 3)
    assert (years[0], years[-1]) == (EARLIEST_YEAR, 2029) == (2000, 2029)
    assert 1900 not in years and 2030 not in years and 2026 in years


def test_a_date_in_the_programme_stays_within_its_years():
    assert programme_date_problem(date(2000, 1, 1), today=TODAY, horizon_years=3, label="the start date") is None
    assert programme_date_problem(date(1999, 12, 31), today=TODAY, horizon_years=3, label="the start date") == (
        "The start date must be between 1 Jan 2000 and 26 Nov 2029"
    )
    assert programme_date_problem(date(2029, 11, 27), today=TODAY, horizon_years=3, label="the start date") is not None


def test_the_rules_of_a_day_compare_creation_times_on_the_local_calendar():
    london = DueDateRules(today=date(2026, 6, 1), horizon_years=3, zone=ZoneInfo("Europe/London"))
    # 23:30 UTC on 1 June is already 2 June in London (summer time): a due date of 1 June is before it was raised.
    raised = datetime(2026, 6, 1, 23, 30, tzinfo=UTC)
    assert london.problem(date(2026, 6, 1), created_at=raised) == (
        "The due date must be between 2 Jun 2026 and 1 Jun 2029"
    )
    assert london.problem(date(2026, 6, 2), created_at=raised) is None
    assert london.years == programme_years(date(2026, 6, 1), 3)
    assert london.programme_date_problem(date(1900, 1, 1), label="the start date") is not None
