"""The escalation rules that need no database: working hours (09:00 to 17:00 on working days, in the council's time
zone), the chase ladder's timing across evenings, weekends, bank holidays and the clocks changing, the outcomes an
acknowledgement records, and durations in words."""

from __future__ import annotations

import typing
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from app.escalations import rules
from app.escalations.rules import WorkingHours, chase_step_due
from app.escalations.schemas import Outcome
from app.working_days import calendar_for
from tests.conftest import make_test_settings

LONDON = WorkingHours(calendar=calendar_for("england_and_wales"), zone=ZoneInfo("Europe/London"))
HOURS = 4  # ESCALATION_CHASE_WORKING_HOURS's default


def utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)


# --- Working hours ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("start", "end", "hours"),
    [
        (utc(2026, 11, 26, 10), utc(2026, 11, 26, 12), 2),  # a Thursday morning
        (utc(2026, 11, 26, 7), utc(2026, 11, 26, 20), 8),  # the whole working day, no more
        (utc(2026, 11, 26, 16), utc(2026, 11, 27, 10), 2),  # an evening is not counted
        (utc(2026, 11, 27, 16), utc(2026, 11, 30, 10), 2),  # Friday 16:00 to Monday 10:00: nor is a weekend
        (utc(2026, 11, 28, 10), utc(2026, 11, 29, 15), 0),  # all weekend
        (utc(2026, 12, 24, 15), utc(2026, 12, 29, 11), 4),  # Christmas Day and Boxing Day's substitute Monday
        (utc(2026, 11, 26, 12), utc(2026, 11, 26, 11), 0),  # backwards: nothing
    ],
)
def test_working_time_between_two_moments(start, end, hours):
    assert LONDON.between(start, end) == timedelta(hours=hours)


def test_the_working_day_is_local_across_the_clocks_changing():
    # British Summer Time: 09:00 to 17:00 in London is 08:00 to 16:00 UTC.
    assert LONDON.between(utc(2026, 7, 1, 0), utc(2026, 7, 1, 23)) == timedelta(hours=8)
    assert LONDON.after(utc(2026, 7, 1, 0), timedelta(hours=1)) == utc(2026, 7, 1, 9)
    # Friday 23 October 2026, 16:00 BST; the clocks go back on Sunday; Monday 09:00 GMT is 09:00 UTC.
    assert LONDON.after(utc(2026, 10, 23, 15), timedelta(hours=4)) == utc(2026, 10, 26, 12)


def test_after_counts_forward_from_the_next_working_moment():
    assert LONDON.after(utc(2026, 11, 26, 12), timedelta(hours=4)) == utc(2026, 11, 26, 16)
    assert LONDON.after(utc(2026, 11, 28, 10), timedelta(hours=4)) == utc(2026, 11, 30, 13)  # raised on a Saturday
    assert LONDON.after(utc(2026, 11, 26, 16), timedelta(hours=1)) == utc(2026, 11, 26, 17)  # to the minute at close
    assert LONDON.after(utc(2026, 11, 26, 18), timedelta(0)) == utc(2026, 11, 27, 9)


def test_the_councils_working_hours_come_from_its_settings(database_url):
    jersey = rules.working_hours_for(make_test_settings(database_url, working_days_jurisdiction="jersey"))
    assert jersey.calendar.jurisdiction == "jersey" and str(jersey.zone) == "Europe/London"
    # Liberation Day (9 May) is a working day in England, not in Jersey.
    liberation = utc(2028, 5, 9, 8), utc(2028, 5, 9, 18)
    assert jersey.between(*liberation) == timedelta(0) and LONDON.between(*liberation) == timedelta(hours=8)


# --- The chase ladder ------------------------------------------------------------------------------------------


def test_each_step_falls_due_after_another_n_working_hours_across_a_weekend():
    raised = utc(2026, 11, 27, 16)  # Friday 16:00: one working hour before the weekend
    assert chase_step_due(raised, utc(2026, 11, 30, 11, 59), 0, LONDON, HOURS) is None
    assert chase_step_due(raised, utc(2026, 11, 30, 12), 0, LONDON, HOURS) == 1  # Monday 12:00
    assert chase_step_due(raised, utc(2026, 11, 30, 15, 59), 1, LONDON, HOURS) is None
    assert chase_step_due(raised, utc(2026, 11, 30, 16), 1, LONDON, HOURS) == 2  # Monday 16:00
    assert chase_step_due(raised, utc(2026, 12, 1, 11, 59), 2, LONDON, HOURS) is None
    assert chase_step_due(raised, utc(2026, 12, 1, 12), 2, LONDON, HOURS) == 3  # Tuesday 12:00
    assert chase_step_due(raised, utc(2027, 1, 1), 3, LONDON, HOURS) is None  # the ladder has three steps
    for step in (1, 2, 3):
        assert (
            rules.chase_due_at(raised, step, LONDON, HOURS)
            == [
                utc(2026, 11, 30, 12),
                utc(2026, 11, 30, 16),
                utc(2026, 12, 1, 12),
            ][step - 1]
        )


def test_bank_holidays_do_not_count():
    calendar = calendar_for("england_and_wales")
    assert calendar.is_holiday(datetime(2026, 12, 25).date()) and calendar.is_holiday(datetime(2026, 12, 28).date())
    raised = utc(2026, 12, 24, 15)  # Christmas Eve, 15:00: two working hours before Christmas
    for day in (25, 26, 27, 28):  # Christmas Day, the weekend, the substitute day for Boxing Day
        assert chase_step_due(raised, utc(2026, 12, day, 16), 0, LONDON, HOURS) is None
    assert chase_step_due(raised, utc(2026, 12, 29, 10, 59), 0, LONDON, HOURS) is None
    assert chase_step_due(raised, utc(2026, 12, 29, 11), 0, LONDON, HOURS) == 1


def test_one_step_at_a_time_when_several_are_overdue():
    raised = utc(2026, 11, 2, 9)
    later = utc(2026, 11, 20, 9)
    assert chase_step_due(raised, later, 0, LONDON, HOURS) == 1
    assert chase_step_due(raised, later, 1, LONDON, HOURS) == 2
    assert chase_step_due(raised, later, 2, LONDON, HOURS) == 3


def test_the_interval_is_a_setting(database_url):
    assert make_test_settings(database_url).escalation_chase_working_hours == 4
    raised = utc(2026, 11, 26, 9)
    assert chase_step_due(raised, utc(2026, 11, 26, 10), 0, LONDON, 1) == 1
    assert chase_step_due(raised, utc(2026, 11, 26, 10), 0, LONDON, 2) is None
    with pytest.raises(ValueError, match="escalation_chase_working_hours"):
        make_test_settings(database_url, escalation_chase_working_hours=0)


# --- Outcomes and durations ------------------------------------------------------------------------------------


def test_the_apis_outcomes_are_the_rules():
    assert set(typing.get_args(Outcome)) == set(rules.OUTCOMES)
    assert rules.outcome_label("no_further_action") == "No further action"
    assert rules.outcome_label(None) == "Not recorded"  # acknowledged before outcomes were asked for


@pytest.mark.parametrize(
    ("span", "text"),
    [
        (timedelta(0), "0 minutes"),
        (timedelta(minutes=45), "45 minutes"),
        (timedelta(hours=1, minutes=1), "1 hour 1 minute"),
        (timedelta(days=1, hours=2, minutes=30, seconds=59), "1 day 2 hours 30 minutes"),
        (timedelta(days=3), "3 days"),
    ],
)
def test_durations_in_words(span, text):
    assert rules.duration_text(span) == text


@pytest.mark.parametrize(
    ("span", "text"),
    [
        (timedelta(minutes=45), "45 working minutes"),
        (timedelta(hours=1), "1 working hour"),
        (timedelta(hours=3, minutes=30), "3 working hours 30 minutes"),
        (timedelta(hours=27), "27 working hours"),
    ],
)
def test_working_time_in_words(span, text):
    assert rules.working_time_text(span) == text
