"""app.working_days: weekends, bank holidays and substitute days per jurisdiction, and counting working days."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from pydantic import ValidationError

from app.config import Settings
from app.working_days import WorkingDayCalendar, calendar_for

ENGLAND = calendar_for("england_and_wales")
JERSEY = calendar_for("jersey")
BOTH = pytest.mark.parametrize("calendar", [ENGLAND, JERSEY], ids=["england_and_wales", "jersey"])


@BOTH
def test_weekends_are_not_working_days(calendar):
    assert calendar.is_working_day(date(2026, 3, 6))  # Friday
    assert not calendar.is_working_day(date(2026, 3, 7))  # Saturday
    assert not calendar.is_working_day(date(2026, 3, 8))  # Sunday
    assert calendar.working_days_between(date(2026, 3, 6), date(2026, 3, 9)) == 1  # Friday to Monday


@BOTH
def test_easter_bank_holidays_are_not_working_days(calendar):
    assert not calendar.is_working_day(date(2026, 4, 3))  # Good Friday
    assert not calendar.is_working_day(date(2026, 4, 6))  # Easter Monday
    # Thursday before Easter to the Tuesday after: only the Tuesday counts.
    assert calendar.working_days_between(date(2026, 4, 2), date(2026, 4, 7)) == 1


def test_liberation_day_is_a_holiday_in_jersey_only():
    liberation_day = date(2028, 5, 9)  # a Tuesday
    assert not JERSEY.is_working_day(liberation_day)
    assert ENGLAND.is_working_day(liberation_day)
    assert JERSEY.working_days_between(date(2028, 5, 8), date(2028, 5, 10)) == 1
    assert ENGLAND.working_days_between(date(2028, 5, 8), date(2028, 5, 10)) == 2


def test_jersey_keeps_every_england_bank_holiday():
    # Why there is no England-only holiday to test: Jersey observes all of England's (and Wales's) too.
    for year in range(2024, 2029):
        assert ENGLAND.holidays_in(year) <= JERSEY.holidays_in(year)


@BOTH
def test_christmas_on_a_weekend_moves_to_the_following_monday_and_tuesday(calendar):
    # Christmas Day 2027 is a Saturday and Boxing Day a Sunday.
    assert calendar.is_working_day(date(2027, 12, 24))
    assert not calendar.is_working_day(date(2027, 12, 27))
    assert not calendar.is_working_day(date(2027, 12, 28))
    assert calendar.is_working_day(date(2027, 12, 29))
    assert calendar.add_working_days(date(2027, 12, 24), 1) == date(2027, 12, 29)


@BOTH
def test_counting_across_the_year_end_skips_the_new_year_substitute_day(calendar):
    # New Year's Day 2028 is a Saturday; Monday 3 January is the substitute day.
    assert not calendar.is_working_day(date(2028, 1, 3))
    assert calendar.add_working_days(date(2027, 12, 31), 1) == date(2028, 1, 4)
    # 29, 30 and 31 December, then 4 January.
    assert calendar.working_days_between(date(2027, 12, 24), date(2028, 1, 4)) == 4


def test_working_days_between_counts_the_days_after_start_up_to_and_including_end():
    monday, tuesday = date(2026, 3, 2), date(2026, 3, 3)
    assert ENGLAND.working_days_between(monday, tuesday) == 1  # referral Monday, assessment Tuesday
    assert ENGLAND.working_days_between(monday, monday) == 0
    assert ENGLAND.working_days_between(date(2026, 3, 6), date(2026, 3, 7)) == 0  # Friday to Saturday
    assert ENGLAND.working_days_between(tuesday, monday) == -1


def test_45_working_days_from_a_referral_skip_easter_and_the_may_bank_holiday():
    referral = date(2026, 3, 2)
    assert ENGLAND.add_working_days(referral, 45) == date(2026, 5, 7)
    assert ENGLAND.working_days_between(referral, date(2026, 5, 7)) == 45
    assert ENGLAND.working_days_between(referral, date(2026, 5, 8)) == 46


def test_adding_working_days_backwards_and_zero():
    assert ENGLAND.add_working_days(date(2026, 3, 9), -1) == date(2026, 3, 6)  # Monday back to Friday
    assert ENGLAND.add_working_days(date(2026, 11, 3), -10) == date(2026, 10, 20)
    saturday = date(2026, 3, 7)
    assert ENGLAND.add_working_days(saturday, 0) == saturday


@BOTH
def test_counting_agrees_with_walking_day_by_day(calendar):
    """The weekday arithmetic in working_days_between matches the plain definition for every start weekday."""
    for offset in range(0, 40):  # starts on weekdays, weekends and the Christmas substitute days
        start = date(2027, 12, 1) + timedelta(days=offset)
        for length in range(0, 45):
            end = start + timedelta(days=length)
            walked = sum(calendar.is_working_day(start + timedelta(days=i)) for i in range(1, length + 1))
            assert calendar.working_days_between(start, end) == walked, (start, end)
            if length <= 30:
                assert calendar.working_days_between(start, calendar.add_working_days(start, length)) == length


def test_unknown_jurisdiction_is_refused():
    with pytest.raises(ValueError, match="Unknown jurisdiction 'scotland'"):
        WorkingDayCalendar("scotland")


def test_calendar_for_shares_one_calendar_per_jurisdiction():
    assert calendar_for("jersey") is calendar_for("jersey")
    assert calendar_for("jersey") is not calendar_for("england_and_wales")


def test_jurisdiction_setting_comes_from_the_environment(monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)  # no `.env` from the working directory
    monkeypatch.delenv("WORKING_DAYS_JURISDICTION", raising=False)
    assert Settings(secret_key="test").working_days_jurisdiction == "england_and_wales"
    monkeypatch.setenv("WORKING_DAYS_JURISDICTION", "jersey")
    assert Settings(secret_key="test").working_days_jurisdiction == "jersey"
    monkeypatch.setenv("WORKING_DAYS_JURISDICTION", "scotland")
    with pytest.raises(ValidationError, match="working_days_jurisdiction"):
        Settings(secret_key="test")
